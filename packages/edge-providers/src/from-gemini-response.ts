import type { ChatResponse, FinishReason, ToolCall, Usage } from './chat-schemas';
import { ProviderError } from './errors';
import { isRecord } from './http-transport';

const CONTENT_FILTER_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/*
 * These end a candidate because the model's own function call went wrong; returning an empty
 * "stop" would hide the failure, so they surface as a retryable server error.
 */
const FAILED_CALL_REASONS = new Set([
  'MALFORMED_FUNCTION_CALL',
  'UNEXPECTED_TOOL_CALL',
  'TOO_MANY_TOOL_CALLS',
]);

/**
 * Maps a Gemini `finishReason` to an OpenAI `finish_reason`. Gemini ends function-call turns with
 * STOP, so `hasToolCalls` turns that into 'tool_calls'.
 */
export function geminiFinishReason(
  provider: string,
  reason: unknown,
  hasToolCalls: boolean,
): FinishReason | null {
  if (typeof reason !== 'string' || reason === '') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  if (FAILED_CALL_REASONS.has(reason)) {
    throw new ProviderError({
      provider,
      kind: 'server',
      providerType: reason,
      message: `${provider} ended the answer with ${reason}`,
    });
  }
  return hasToolCalls ? 'tool_calls' : 'stop';
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Maps Gemini `usageMetadata` to unified usage (thoughts count as output, cached content as cached input). */
export function geminiUsage(meta: Record<string, unknown>): Usage {
  const prompt = count(meta['promptTokenCount']) + count(meta['toolUsePromptTokenCount']);
  const thoughts = count(meta['thoughtsTokenCount']);
  const completion = count(meta['candidatesTokenCount']) + thoughts;
  const total = typeof meta['totalTokenCount'] === 'number' ? meta['totalTokenCount'] : prompt + completion;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total,
    prompt_tokens_details: { cached_tokens: count(meta['cachedContentTokenCount']) },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

/** Throws content_filter when Gemini blocked the prompt itself (no candidates, `promptFeedback.blockReason`). */
export function throwIfPromptBlocked(provider: string, body: Record<string, unknown>): void {
  const feedback = body['promptFeedback'];
  if (!isRecord(feedback) || typeof feedback['blockReason'] !== 'string') return;
  const candidates = body['candidates'];
  if (Array.isArray(candidates) && candidates.length > 0) return;
  throw new ProviderError({
    provider,
    kind: 'content_filter',
    status: 400,
    providerType: `prompt_blocked:${feedback['blockReason']}`,
    message: `${provider} blocked the prompt (${feedback['blockReason']})`,
  });
}

/** The text and function calls of one Gemini candidate. */
export interface GeminiCandidateParts {
  text: string;
  sawText: boolean;
  calls: Array<{ id?: string; name: string; args: unknown }>;
}

/** Reads a candidate's parts; `thought` parts (reasoning summaries) are not part of the answer. */
export function readCandidateParts(candidate: Record<string, unknown>): GeminiCandidateParts {
  const out: GeminiCandidateParts = { text: '', sawText: false, calls: [] };
  const content = candidate['content'];
  const parts = isRecord(content) && Array.isArray(content['parts']) ? content['parts'] : [];
  for (const part of parts) {
    if (!isRecord(part) || part['thought'] === true) continue;
    if (typeof part['text'] === 'string') {
      out.text += part['text'];
      out.sawText = true;
    } else if (isRecord(part['functionCall'])) {
      const call = part['functionCall'];
      out.calls.push({
        ...(typeof call['id'] === 'string' ? { id: call['id'] } : {}),
        name: String(call['name']),
        args: call['args'] ?? {},
      });
    }
  }
  return out;
}

/** A tool-call id: Gemini's own when it gives one, else derived from the response id. */
export function geminiToolCallId(
  responseId: string,
  candidate: number,
  position: number,
  own?: string,
): string {
  return own ?? `call_${responseId}_${candidate}_${position}`;
}

/** Translates a Gemini `GenerateContentResponse` into a unified chat completion. */
export function fromGeminiResponse(
  provider: string,
  body: unknown,
  requestedModel: string,
  now: () => number,
  newId: () => string,
): ChatResponse {
  if (!isRecord(body)) {
    throw new ProviderError({ provider, kind: 'server', message: `${provider} sent a malformed response` });
  }
  throwIfPromptBlocked(provider, body);
  const responseId = typeof body['responseId'] === 'string' ? body['responseId'] : newId();
  const candidates = Array.isArray(body['candidates']) ? body['candidates'] : [];
  const choices: ChatResponse['choices'] = candidates.filter(isRecord).map((candidate, i) => {
    const index = typeof candidate['index'] === 'number' ? candidate['index'] : i;
    const parts = readCandidateParts(candidate);
    const toolCalls: ToolCall[] = parts.calls.map((call, j) => ({
      id: geminiToolCallId(responseId, index, j, call.id),
      type: 'function',
      function: { name: call.name, arguments: JSON.stringify(call.args) },
    }));
    return {
      index,
      message: {
        role: 'assistant',
        content: parts.sawText ? parts.text : null,
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: geminiFinishReason(provider, candidate['finishReason'], toolCalls.length > 0) ?? 'stop',
      logprobs: null,
    };
  });
  return {
    id: responseId,
    object: 'chat.completion',
    created: Math.floor(now() / 1000),
    model: typeof body['modelVersion'] === 'string' ? body['modelVersion'] : requestedModel,
    choices,
    ...(isRecord(body['usageMetadata']) ? { usage: geminiUsage(body['usageMetadata']) } : {}),
  };
}
