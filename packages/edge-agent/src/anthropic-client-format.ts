import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse, Usage } from '@llm-edge/providers';
import { z } from 'zod';

/*
 * The client-facing Anthropic Messages format: what a client using @anthropic-ai/sdk sends to
 * POST /v1/messages and expects back. Requests are translated into the unified (OpenAI Chat
 * Completions) language once at the edge; responses and stream chunks are translated back.
 * The provider adapters own the upstream direction; this file owns the client direction.
 */

const cacheControl = z.strictObject({ type: z.literal('ephemeral'), ttl: z.string().optional() }).optional();

const textBlock = z.strictObject({
  type: z.literal('text'),
  text: z.string(),
  cache_control: cacheControl,
  citations: z.array(z.unknown()).nullish(),
});

const imageBlock = z.strictObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('base64'),
      media_type: z.enum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']),
      data: z.string(),
    }),
    z.strictObject({ type: z.literal('url'), url: z.string().min(1) }),
  ]),
  cache_control: cacheControl,
});

const toolUseBlock = z.strictObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
  cache_control: cacheControl,
});

const toolResultBlock = z.strictObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});

// Thinking blocks from earlier turns carry nothing the unified language can send back upstream.
const thinkingBlock = z.looseObject({ type: z.enum(['thinking', 'redacted_thinking']) });

const contentBlock = z.discriminatedUnion('type', [
  textBlock,
  imageBlock,
  toolUseBlock,
  toolResultBlock,
  thinkingBlock,
]);

/** An Anthropic Messages API request as a client sends it. */
export const anthropicMessagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.int().min(1),
  messages: z
    .array(
      z.strictObject({
        role: z.enum(['user', 'assistant']),
        content: z.union([z.string(), z.array(contentBlock)]),
      }),
    )
    .min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  metadata: z.strictObject({ user_id: z.string().nullish() }).optional(),
  tools: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        description: z.string().optional(),
        input_schema: z.record(z.string(), z.unknown()),
        type: z.literal('custom').optional(),
      }),
    )
    .optional(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
      z.strictObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
      z.strictObject({ type: z.literal('none') }),
      z.strictObject({
        type: z.literal('tool'),
        name: z.string().min(1),
        disable_parallel_tool_use: z.boolean().optional(),
      }),
    ])
    .optional(),
});

/** A validated Anthropic Messages request. */
export type AnthropicMessagesRequest = z.infer<typeof anthropicMessagesRequestSchema>;

/** An Anthropic content block of a response. */
export type AnthropicResponseBlock =
  | { type: 'text'; text: string; citations: null }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

/** An Anthropic usage object. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** An Anthropic Messages API response (`type: 'message'`). */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: string | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** One named server-sent event of an Anthropic stream. */
export interface AnthropicStreamEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Translates a validated Anthropic request into the unified chat request. */
export function anthropicToUnified(request: AnthropicMessagesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  if (request.system !== undefined) {
    const text =
      typeof request.system === 'string' ? request.system : request.system.map((b) => b.text).join('\n');
    if (text !== '') messages.push({ role: 'system', content: text });
  }
  for (const message of request.messages) {
    if (typeof message.content === 'string') {
      messages.push({ role: message.role, content: message.content });
      continue;
    }
    if (message.role === 'assistant') {
      const text: string[] = [];
      const toolCalls: { id: string; type: 'function'; function: { name: string; arguments: string } }[] = [];
      for (const block of message.content) {
        if (block.type === 'text') text.push(block.text);
        else if (block.type === 'tool_use') {
          toolCalls.push({
            id: block.id,
            type: 'function',
            function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
          });
        }
      }
      messages.push({
        role: 'assistant',
        content: text.length > 0 ? text.join('') : null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      });
      continue;
    }
    // A user turn: tool results become tool messages (they must follow the assistant turn directly),
    // the rest one user message.
    const parts: ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[] = [];
    for (const block of message.content) {
      if (block.type === 'tool_result') {
        const content =
          block.content === undefined
            ? ''
            : typeof block.content === 'string'
              ? block.content
              : block.content
                  .filter((b): b is z.infer<typeof textBlock> => b.type === 'text')
                  .map((b) => b.text)
                  .join('');
        messages.push({
          role: 'tool',
          tool_call_id: block.tool_use_id,
          content: block.is_error ? `Error: ${content}` : content,
        });
      } else if (block.type === 'text') {
        parts.push({ type: 'text', text: block.text });
      } else if (block.type === 'image') {
        const url =
          block.source.type === 'url'
            ? block.source.url
            : `data:${block.source.media_type};base64,${block.source.data}`;
        parts.push({ type: 'image_url', image_url: { url } });
      }
    }
    if (parts.length > 0) {
      const onlyText = parts.every((p) => p.type === 'text');
      messages.push({
        role: 'user',
        content: onlyText ? parts.map((p) => (p as { text: string }).text).join('\n') : parts,
      });
    }
  }

  const unified: ChatRequest = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.temperature !== undefined) unified.temperature = request.temperature;
  if (request.top_p !== undefined) unified.top_p = request.top_p;
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0)
    unified.stop = request.stop_sequences;
  if (request.stream === true) {
    unified.stream = true;
    unified.stream_options = { include_usage: true };
  }
  if (request.metadata?.user_id) unified.user = request.metadata.user_id;
  if (request.tools !== undefined && request.tools.length > 0) {
    unified.tools = request.tools.map((tool) => ({
      type: 'function' as const,
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.input_schema,
      },
    }));
  }
  const choice = request.tool_choice;
  if (choice !== undefined) {
    if (choice.type === 'auto') unified.tool_choice = 'auto';
    else if (choice.type === 'any') unified.tool_choice = 'required';
    else if (choice.type === 'none') unified.tool_choice = 'none';
    else unified.tool_choice = { type: 'function', function: { name: choice.name } };
    if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true) {
      unified.parallel_tool_calls = false;
    }
  }
  return unified;
}

const STOP_REASONS: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

function stopReason(finish: string | null | undefined, stopSequences: readonly string[] | undefined): string {
  if (finish === 'stop' && stopSequences !== undefined && stopSequences.length > 0) return 'end_turn';
  return finish == null ? 'end_turn' : (STOP_REASONS[finish] ?? 'end_turn');
}

/** Maps unified usage to Anthropic usage (input excludes cache reads and writes there). */
export function anthropicUsage(usage: Usage | null | undefined): AnthropicUsage {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  const written = usage?.prompt_tokens_details?.cache_write_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached - written),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
  };
}

function parseArguments(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    // A model that produced invalid JSON arguments: hand the text over rather than lose it.
    return { _raw: text };
  }
}

/** Anthropic message ids look like `msg_…`; keep the upstream id recognisable. */
function messageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id.replace(/^chatcmpl-/, '')}`;
}

/** Translates a unified response into an Anthropic message. */
export function unifiedToAnthropic(
  response: ChatResponse,
  model: string,
  stopSequences?: readonly string[],
): AnthropicMessage {
  const choice = response.choices[0];
  const content: AnthropicResponseBlock[] = [];
  if (choice?.message.content) content.push({ type: 'text', text: choice.message.content, citations: null });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments),
    });
  }
  return {
    id: messageId(response.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason(choice?.finish_reason, stopSequences),
    stop_sequence: null,
    usage: anthropicUsage(response.usage),
  };
}

/**
 * Turns a stream of unified chunks into Anthropic stream events, one chunk at a time.
 * Call {@link AnthropicStreamTranslator.push} per chunk and {@link AnthropicStreamTranslator.end}
 * once the upstream finished.
 */
export class AnthropicStreamTranslator {
  private started = false;
  private openBlock: { index: number; kind: 'text' | 'tool'; toolIndex?: number } | undefined;
  private nextIndex = 0;
  private finish: string | null = null;
  private usage: Usage | null = null;
  private readonly toolBlocks = new Map<number, number>();

  constructor(
    private readonly model: string,
    private readonly stopSequences?: readonly string[],
  ) {}

  /** Events for one unified chunk (possibly none). */
  push(chunk: ChatChunk): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      events.push({
        event: 'message_start',
        data: {
          type: 'message_start',
          message: {
            id: messageId(chunk.id),
            type: 'message',
            role: 'assistant',
            model: this.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: {
              input_tokens: 0,
              output_tokens: 0,
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: 0,
            },
          },
        },
      });
      events.push({ event: 'ping', data: { type: 'ping' } });
    }
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice === undefined) return events;
    const delta = choice.delta;
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.openBlock?.kind !== 'text') {
        this.closeBlock(events);
        this.openBlock = { index: this.nextIndex++, kind: 'text' };
        events.push({
          event: 'content_block_start',
          data: {
            type: 'content_block_start',
            index: this.openBlock.index,
            content_block: { type: 'text', text: '' },
          },
        });
      }
      events.push({
        event: 'content_block_delta',
        data: {
          type: 'content_block_delta',
          index: this.openBlock.index,
          delta: { type: 'text_delta', text: delta.content },
        },
      });
    }
    for (const call of delta.tool_calls ?? []) {
      let blockIndex = this.toolBlocks.get(call.index);
      if (blockIndex === undefined) {
        this.closeBlock(events);
        blockIndex = this.nextIndex++;
        this.toolBlocks.set(call.index, blockIndex);
        this.openBlock = { index: blockIndex, kind: 'tool', toolIndex: call.index };
        events.push({
          event: 'content_block_start',
          data: {
            type: 'content_block_start',
            index: blockIndex,
            content_block: {
              type: 'tool_use',
              id: call.id ?? `toolu_${blockIndex}`,
              name: call.function?.name ?? '',
              input: {},
            },
          },
        });
      }
      const args = call.function?.arguments;
      if (args !== undefined && args !== '') {
        events.push({
          event: 'content_block_delta',
          data: {
            type: 'content_block_delta',
            index: blockIndex,
            delta: { type: 'input_json_delta', partial_json: args },
          },
        });
      }
    }
    if (choice.finish_reason != null) this.finish = choice.finish_reason;
    return events;
  }

  /** The closing events, once the upstream stream ended normally. */
  end(): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = [];
    if (!this.started) {
      events.push(
        ...this.push({
          id: 'msg_empty',
          object: 'chat.completion.chunk',
          created: 0,
          model: this.model,
          choices: [],
        }),
      );
    }
    this.closeBlock(events);
    const usage = anthropicUsage(this.usage);
    events.push({
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: stopReason(this.finish, this.stopSequences), stop_sequence: null },
        usage: {
          input_tokens: usage.input_tokens,
          output_tokens: usage.output_tokens,
          cache_creation_input_tokens: usage.cache_creation_input_tokens,
          cache_read_input_tokens: usage.cache_read_input_tokens,
        },
      },
    });
    events.push({ event: 'message_stop', data: { type: 'message_stop' } });
    return events;
  }

  private closeBlock(events: AnthropicStreamEvent[]): void {
    if (this.openBlock === undefined) return;
    events.push({
      event: 'content_block_stop',
      data: { type: 'content_block_stop', index: this.openBlock.index },
    });
    this.openBlock = undefined;
  }
}

/** Anthropic error `type` for an HTTP status. */
export function anthropicErrorType(status: number): string {
  if (status === 400 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  if (status === 529 || status === 503) return 'overloaded_error';
  return 'api_error';
}
