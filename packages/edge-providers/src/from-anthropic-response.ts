import type { ChatResponse, FinishReason, ToolCall, Usage } from './chat-schemas';
import { ProviderError } from './errors';
import { isRecord } from './http-transport';

/** Maps an Anthropic `stop_reason` to an OpenAI `finish_reason`. */
export function anthropicFinishReason(stopReason: unknown): FinishReason | null {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case null:
    case undefined:
      return null;
    default:
      return 'stop';
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * Maps Anthropic usage to unified usage. Anthropic's `input_tokens` excludes cache reads and
 * writes; unified `prompt_tokens` includes both, with `cached_tokens` and `cache_write_tokens` split out.
 */
export function anthropicUsage(usage: Record<string, unknown>): Usage {
  const input = count(usage['input_tokens']);
  const cacheRead = count(usage['cache_read_input_tokens']);
  const cacheWrite = count(usage['cache_creation_input_tokens']);
  const output = count(usage['output_tokens']);
  const prompt = input + cacheRead + cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_write_tokens: cacheWrite },
  };
}

/** Translates an Anthropic `Message` into a unified chat completion. */
export function fromAnthropicResponse(provider: string, body: unknown, now: () => number): ChatResponse {
  if (!isRecord(body) || !Array.isArray(body['content']) || typeof body['id'] !== 'string') {
    throw new ProviderError({ provider, kind: 'server', message: `${provider} sent a malformed message` });
  }
  let text = '';
  let sawText = false;
  const toolCalls: ToolCall[] = [];
  for (const block of body['content']) {
    if (!isRecord(block)) continue;
    if (block['type'] === 'text' && typeof block['text'] === 'string') {
      text += block['text'];
      sawText = true;
    } else if (block['type'] === 'tool_use') {
      toolCalls.push({
        id: String(block['id']),
        type: 'function',
        function: { name: String(block['name']), arguments: JSON.stringify(block['input'] ?? {}) },
      });
    }
  }
  const finish = anthropicFinishReason(body['stop_reason']);
  return {
    id: body['id'],
    object: 'chat.completion',
    created: Math.floor(now() / 1000),
    model: typeof body['model'] === 'string' ? body['model'] : '',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: sawText ? text : null,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finish ?? 'stop',
        logprobs: null,
      },
    ],
    ...(isRecord(body['usage']) ? { usage: anthropicUsage(body['usage']) } : {}),
  };
}
