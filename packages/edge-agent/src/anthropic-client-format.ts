import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse, Usage } from '@llm-edge/providers';
import { RoutingError } from '@llm-edge/routing';
import { RequestValidationError } from '@llm-edge/security';
import { z } from 'zod';

/*
 * The client-facing Anthropic Messages format: what a client using @anthropic-ai/sdk sends to
 * POST /v1/messages and expects back. Requests are translated into the unified (OpenAI Chat
 * Completions) language once at the edge; responses and stream chunks are translated back.
 * The provider adapters own the upstream direction; this file owns the client direction.
 *
 * Every object is strict: a field is either translated into the unified request or rejected with
 * a message naming it — never dropped. Fields that are known to the Messages API but that the
 * gateway cannot carry get their own message saying why; anything else is an "unknown field".
 */

/** A field the gateway recognises but cannot carry: present (and not null) is a validation error. */
function rejected(why: string) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (value !== null) ctx.addIssue({ code: 'custom', message: why });
    })
    .optional();
}

/** A setting accepted only at a value that asks for nothing beyond the default behaviour. */
function neutralOnly<T extends z.ZodType>(schema: T, isNeutral: (value: z.infer<T>) => boolean, why: string) {
  return schema
    .superRefine((value, ctx) => {
      if (value !== null && value !== undefined && !isNeutral(value))
        ctx.addIssue({ code: 'custom', message: why });
    })
    .optional();
}

/** The keys of a non-empty object literal, typed as a tuple for `z.enum`. */
function keysOf<K extends string>(record: Record<K, string>): [K, ...K[]] {
  return Object.keys(record) as [K, ...K[]];
}

const NO_CACHE_CONTROL =
  'prompt-cache breakpoints are not carried through the gateway (the unified request has no equivalent); remove cache_control';
const NO_CITATIONS = 'citations are not carried through the gateway';

const cacheControl = rejected(NO_CACHE_CONTROL);

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_NAME_RULE = 'must be 1-64 characters of a-z, A-Z, 0-9, underscore or dash';
/** The unified request carries at most this many stop sequences. */
const MAX_STOP_SEQUENCES = 16;

const textBlock = z.strictObject({
  type: z.literal('text'),
  text: z.string(),
  cache_control: cacheControl,
  citations: neutralOnly(z.array(z.unknown()).nullable(), (v) => v === null || v.length === 0, NO_CITATIONS),
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
    z.looseObject({ type: z.literal('file') }).superRefine((_source, ctx) => {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: 'uploaded file ids are not supported; send the image as base64 or a URL',
      });
    }),
  ]),
  cache_control: cacheControl,
  transformations: rejected('image transformations are not supported'),
});

const documentBlock = z.strictObject({
  type: z.literal('document'),
  source: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('base64'),
      media_type: z.literal('application/pdf'),
      data: z.string(),
    }),
    z.looseObject({ type: z.enum(['text', 'content', 'url', 'file']) }).superRefine((source, ctx) => {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `${source.type} document sources are not supported; send the PDF as base64`,
      });
    }),
  ]),
  title: z.string().nullish(),
  context: rejected('document context is not carried through the gateway'),
  citations: neutralOnly(
    z.strictObject({ enabled: z.boolean().optional() }).nullable(),
    (v) => v === null || v.enabled !== true,
    NO_CITATIONS,
  ),
  cache_control: cacheControl,
});

const toolUseBlock = z.strictObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
  cache_control: cacheControl,
  caller: neutralOnly(
    z.looseObject({ type: z.string() }),
    (v) => v.type === 'direct',
    'only direct tool calls are supported (no server-side tool callers)',
  ),
  toolset_name: rejected('toolsets are not supported'),
});

const TOOL_RESULT_PART_REJECTIONS = {
  image: 'images in tool results are not supported: the unified tool message carries text only',
  document: 'documents in tool results are not supported: the unified tool message carries text only',
  search_result: 'search results in tool results are not supported',
  tool_reference: 'tool references are not supported',
  browser_state: 'browser state in tool results is not supported',
} as const;

const unsupportedToolResultPart = z
  .looseObject({ type: z.enum(keysOf(TOOL_RESULT_PART_REJECTIONS)) })
  .superRefine((part, ctx) => {
    ctx.addIssue({ code: 'custom', path: ['type'], message: TOOL_RESULT_PART_REJECTIONS[part.type] });
  });

const toolResultBlock = z.strictObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z
    .union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, unsupportedToolResultPart]))])
    .optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
  toolset_name: rejected('toolsets are not supported'),
});

const BLOCK_REJECTIONS = {
  thinking: 'thinking blocks are not supported: extended thinking is not available through the gateway',
  redacted_thinking:
    'redacted_thinking blocks are not supported: extended thinking is not available through the gateway',
  search_result: 'search_result blocks are not supported',
  server_tool_use: 'server tools are not supported; only custom tools',
  web_search_tool_result: 'server tools are not supported; only custom tools',
  web_fetch_tool_result: 'server tools are not supported; only custom tools',
  code_execution_tool_result: 'server tools are not supported; only custom tools',
  bash_code_execution_tool_result: 'server tools are not supported; only custom tools',
  text_editor_code_execution_tool_result: 'server tools are not supported; only custom tools',
  tool_search_tool_result: 'server tools are not supported; only custom tools',
  container_upload: 'containers are not supported',
} as const;

const unsupportedBlock = z
  .looseObject({ type: z.enum(keysOf(BLOCK_REJECTIONS)) })
  .superRefine((block, ctx) => {
    ctx.addIssue({ code: 'custom', path: ['type'], message: BLOCK_REJECTIONS[block.type] });
  });

const contentBlock = z.discriminatedUnion('type', [
  textBlock,
  imageBlock,
  documentBlock,
  toolUseBlock,
  toolResultBlock,
  unsupportedBlock,
]);

const messageSchema = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('user'), content: z.union([z.string(), z.array(contentBlock).min(1)]) }),
  z.strictObject({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(contentBlock).min(1)]),
  }),
  z.strictObject({ role: z.literal('system'), content: z.union([z.string(), z.array(textBlock).min(1)]) }),
]);

const toolSchema = z.strictObject({
  name: z.string().regex(TOOL_NAME, TOOL_NAME_RULE),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
  type: z.literal('custom').nullish(),
  strict: z.boolean().optional(),
  cache_control: cacheControl,
  allowed_callers: neutralOnly(
    z.array(z.string()),
    (v) => v.every((caller) => caller === 'direct'),
    'only direct tool calls are supported (no server-side tool callers)',
  ),
  defer_loading: neutralOnly(z.boolean(), (v) => !v, 'deferred tool loading is not supported'),
  eager_input_streaming: neutralOnly(
    z.boolean().nullable(),
    (v) => v !== true,
    'eager tool input streaming is not supported',
  ),
  input_examples: neutralOnly(
    z.array(z.record(z.string(), z.unknown())),
    (v) => v.length === 0,
    'tool input examples are not carried through the gateway',
  ),
});

/** Anthropic server tools (web search, bash, …) have a versioned `type` and no `input_schema`. */
const customToolOnly = z.looseObject({ type: z.unknown().optional() }).superRefine((tool, ctx) => {
  if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
    ctx.addIssue({
      code: 'custom',
      path: ['type'],
      message: 'only custom tools are supported (no Anthropic server tools)',
    });
  }
});

/**
 * An Anthropic Messages API request as a client sends it (the body fields of
 * `MessageCreateParams` in @anthropic-ai/sdk, plus the sampling fields older clients send).
 */
export const anthropicMessagesRequestSchema = z.strictObject({
  model: z.string().min(1),
  max_tokens: z
    .int()
    .min(1, { error: 'must be at least 1 (max_tokens 0, prompt-cache pre-warming, is not supported)' }),
  messages: z.array(messageSchema).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  // Passed on as the top-level `top_k`: OpenAI-compatible targets (vLLM, …) receive it; the
  // Anthropic and Gemini adapters refuse it by name, and OpenAI itself refuses unknown fields.
  top_k: z.int().min(0).optional(),
  stop_sequences: z.array(z.string()).max(MAX_STOP_SEQUENCES).optional(),
  stream: z.boolean().optional(),
  metadata: z.strictObject({ user_id: z.string().nullish() }).optional(),
  tools: z.array(customToolOnly.pipe(toolSchema)).optional(),
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
  output_config: z
    .strictObject({
      effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullish(),
      format: z
        .strictObject({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) })
        .nullish(),
    })
    .optional(),
  service_tier: z.enum(['auto', 'standard_only']).optional(),
  speed: neutralOnly(
    z.enum(['standard', 'fast']).nullable(),
    (v) => v !== 'fast',
    'fast mode is not available through the gateway',
  ),
  thinking: neutralOnly(
    z.looseObject({ type: z.string() }),
    (v) => v.type === 'disabled',
    'extended thinking is not available through the gateway; omit thinking or send { type: "disabled" }',
  ),
  cache_control: cacheControl,
  container: rejected('containers are not supported'),
  diagnostics: rejected('diagnostics are not supported'),
  inference_geo: rejected('inference_geo cannot be guaranteed by the gateway: targets are chosen by routing'),
});

/** A validated Anthropic Messages request. */
export type AnthropicMessagesRequest = z.infer<typeof anthropicMessagesRequestSchema>;

type TextBlock = z.infer<typeof textBlock>;
type UserPart = Extract<Extract<ChatMessage, { role: 'user' }>['content'], unknown[]>[number];

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

/** Where a unified message came from in the client's request, for errors that name a path. */
interface MessageOrigin {
  /** Path of the Anthropic message (or, for a tool result, the block) it was made from. */
  path: string;
  /** Path of the Anthropic block behind each content part, by part index. */
  parts?: string[];
  /** Path of the Anthropic `tool_use` block behind each tool call, by call index. */
  calls?: string[];
}

/** Unified top-level fields that an Anthropic request fills from a field of another name. */
const FIELD_ORIGINS: Record<string, string> = {
  safety_identifier: 'metadata.user_id',
  stop: 'stop_sequences',
  response_format: 'output_config.format',
  reasoning_effort: 'output_config.effort',
  parallel_tool_calls: 'tool_choice.disable_parallel_tool_use',
  stream_options: 'stream',
};

const TOOL_FIELD_ORIGINS: Record<string, string> = {
  name: 'name',
  description: 'description',
  parameters: 'input_schema',
  strict: 'strict',
};

/** A translated Anthropic request: the unified request and the way back to the client's field names. */
export interface AnthropicTranslation {
  /** The unified chat request. */
  request: ChatRequest;
  /** The client's path for a path of the unified request (e.g. `safety_identifier` → `metadata.user_id`). */
  clientPath(unifiedPath: string): string;
  /**
   * The error to answer with: a validation or routing error naming a unified field is rebuilt to
   * name the field the client sent, with the original as `cause`; anything else is returned as is.
   */
  clientError(error: unknown): unknown;
}

/** Translates a validated Anthropic request into the unified chat request. */
export function anthropicToUnified(request: AnthropicMessagesRequest): ChatRequest {
  return translateAnthropicRequest(request).request;
}

/**
 * Translates a validated Anthropic request into the unified chat request, remembering where each
 * unified field came from so that errors raised later (request validation, a target refusing a
 * field) name the client's own field.
 *
 * @example
 * const translation = translateAnthropicRequest(anthropicMessagesRequestSchema.parse(body));
 * try { await router.chat(translation.request); } catch (error) { throw translation.clientError(error); }
 */
export function translateAnthropicRequest(request: AnthropicMessagesRequest): AnthropicTranslation {
  const messages: ChatMessage[] = [];
  const origins: MessageOrigin[] = [];
  const push = (message: ChatMessage, origin: MessageOrigin) => {
    messages.push(message);
    origins.push(origin);
  };

  if (request.system !== undefined) {
    const system = systemContent(request.system, 'system');
    if (system) push({ role: 'system', content: system.content }, { path: 'system', parts: system.parts });
  }
  request.messages.forEach((message, k) => {
    const at = `messages[${k}]`;
    if (message.role === 'system') {
      const system = systemContent(message.content, `${at}.content`);
      if (system) push({ role: 'system', content: system.content }, { path: at, parts: system.parts });
      return;
    }
    if (typeof message.content === 'string') {
      push({ role: message.role, content: message.content }, { path: at });
      return;
    }
    if (message.role === 'assistant') {
      const text: string[] = [];
      const parts: string[] = [];
      const calls: string[] = [];
      const toolCalls: { id: string; type: 'function'; function: { name: string; arguments: string } }[] = [];
      message.content.forEach((block, b) => {
        const path = `${at}.content[${b}]`;
        if (block.type === 'text') {
          text.push(block.text);
          parts.push(path);
        } else if (block.type === 'tool_use') {
          toolCalls.push({
            id: block.id,
            type: 'function',
            function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
          });
          calls.push(path);
        } else {
          throw blockError(path, `${block.type} blocks are not accepted in an assistant turn`);
        }
      });
      const content =
        text.length === 0
          ? null
          : text.length === 1
            ? text[0]!
            : text.map((t) => ({ type: 'text' as const, text: t }));
      push(
        { role: 'assistant', content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
        { path: at, parts, calls },
      );
      return;
    }
    // A user turn, in order: runs of text/image/document blocks become one user message each,
    // every tool result a tool message of its own (answering the assistant's call).
    let parts: UserPart[] = [];
    let partPaths: string[] = [];
    const flush = () => {
      if (parts.length === 0) return;
      const onlyText = parts.length === 1 && parts[0]!.type === 'text';
      push(
        { role: 'user', content: onlyText ? (parts[0] as { text: string }).text : parts },
        { path: at, parts: partPaths },
      );
      parts = [];
      partPaths = [];
    };
    message.content.forEach((block, b) => {
      const path = `${at}.content[${b}]`;
      switch (block.type) {
        case 'text':
          parts.push({ type: 'text', text: block.text });
          partPaths.push(path);
          break;
        case 'image': {
          const source = block.source;
          const url =
            source.type === 'url'
              ? source.url
              : source.type === 'base64'
                ? `data:${source.media_type};base64,${source.data}`
                : undefined;
          // The schema refuses file sources; this keeps the types honest.
          if (url === undefined) throw blockError(`${path}.source`, 'uploaded file ids are not supported');
          parts.push({ type: 'image_url', image_url: { url } });
          partPaths.push(path);
          break;
        }
        case 'document': {
          const source = block.source;
          if (source.type !== 'base64') throw blockError(`${path}.source`, 'send the PDF as base64');
          parts.push({
            type: 'file',
            file: {
              file_data: `data:${source.media_type};base64,${source.data}`,
              ...(block.title ? { filename: block.title } : {}),
            },
          });
          partPaths.push(path);
          break;
        }
        case 'tool_result': {
          flush();
          const text = toolResultText(block.content);
          push(
            {
              role: 'tool',
              tool_call_id: block.tool_use_id,
              content: block.is_error ? `Error: ${text}` : text,
            },
            { path },
          );
          break;
        }
        default:
          throw blockError(path, `${block.type} blocks are not accepted in a user turn`);
      }
    });
    flush();
  });

  const unified: ChatRequest = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.temperature !== undefined) unified.temperature = request.temperature;
  if (request.top_p !== undefined) unified.top_p = request.top_p;
  if (request.top_k !== undefined) unified['top_k'] = request.top_k;
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0)
    unified.stop = request.stop_sequences;
  if (request.stream === true) {
    unified.stream = true;
    unified.stream_options = { include_usage: true };
  }
  // Anthropic's end-user id for abuse detection is what OpenAI calls safety_identifier; the
  // Anthropic adapter maps it back to metadata.user_id.
  if (request.metadata?.user_id) unified.safety_identifier = request.metadata.user_id;
  if (request.tools !== undefined && request.tools.length > 0) {
    unified.tools = request.tools.map((tool) => ({
      type: 'function' as const,
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.input_schema,
        ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
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
  const output = request.output_config;
  if (output?.format) {
    unified.response_format = {
      type: 'json_schema',
      json_schema: { name: 'output', schema: output.format.schema },
    };
  }
  if (output?.effort) unified.reasoning_effort = output.effort;
  if (request.service_tier !== undefined) {
    unified.service_tier = request.service_tier === 'standard_only' ? 'default' : 'auto';
  }

  const clientPath = (unifiedPath: string) => toClientPath(unifiedPath, origins);
  return { request: unified, clientPath, clientError: (error) => toClientError(error, clientPath) };
}

function systemContent(
  system: string | TextBlock[],
  path: string,
): { content: string | { type: 'text'; text: string }[]; parts: string[] } | undefined {
  if (typeof system === 'string') return system === '' ? undefined : { content: system, parts: [path] };
  if (system.length === 0) return undefined;
  const parts = system.map((_, b) => `${path}[${b}]`);
  if (system.length === 1) return { content: system[0]!.text, parts };
  return { content: system.map((b) => ({ type: 'text' as const, text: b.text })), parts };
}

function toolResultText(content: string | { type: string; text?: string }[] | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  // The schema admits only text parts here.
  return content.map((part) => part.text ?? '').join('');
}

/** A validation error for a block the schema admits in general but not where it was sent. */
function blockError(path: string, message: string): RequestValidationError {
  return new RequestValidationError('LLM_EDGE_INVALID_REQUEST', [{ path, message }]);
}

function toClientPath(path: string, origins: readonly MessageOrigin[]): string {
  const message = /^messages\[(\d+)\](.*)$/.exec(path);
  if (message) {
    const origin = origins[Number(message[1])];
    if (origin === undefined) return path;
    const rest = message[2]!;
    const part = /^\.content\[(\d+)\]/.exec(rest);
    if (part) return origin.parts?.[Number(part[1])] ?? origin.path;
    const call = /^\.tool_calls\[(\d+)\]/.exec(rest);
    if (call) return origin.calls?.[Number(call[1])] ?? origin.path;
    // The rest of the path is in unified terms; the message or block is what the client can find.
    return origin.path;
  }
  const tool = /^tools\[(\d+)\]\.function(?:\.([a-z_]+))?(.*)$/.exec(path);
  if (tool) {
    const field = tool[2] === undefined ? undefined : TOOL_FIELD_ORIGINS[tool[2]];
    return field === undefined ? `tools[${tool[1]}]` : `tools[${tool[1]}].${field}${tool[3]}`;
  }
  if (path.startsWith('tool_choice.function')) return 'tool_choice.name';
  const head = /^[a-z_]+/.exec(path)?.[0];
  const origin = head === undefined ? undefined : FIELD_ORIGINS[head];
  return origin === undefined ? path : origin;
}

type ValidationCode = ConstructorParameters<typeof RequestValidationError>[0];

function toClientError(error: unknown, clientPath: (path: string) => string): unknown {
  if (RoutingError.isInstance(error) && error.param !== undefined) {
    const param = clientPath(error.param);
    if (param === error.param) return error;
    return new RoutingError(error.code, error.message, {
      cause: error,
      status: error.status,
      param,
      publicMessage: `${param} (sent to the target as ${error.param}): ${error.publicMessage ?? error.message}`,
      retryAfterMs: error.retryAfterMs,
      field: error.field,
      attempts: error.attempts,
      retryable: error.retryable,
    });
  }
  if (RequestValidationError.isInstance(error)) {
    const issues = error.issues.map((issue) => ({ path: clientPath(issue.path), message: issue.message }));
    if (issues.every((issue, i) => issue.path === error.issues[i]!.path)) return error;
    // isInstance admits exactly the validation codes.
    return new RequestValidationError(error.code as ValidationCode, issues, { cause: error });
  }
  return error;
}

const STOP_REASONS: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/*
 * `stop_sequence` stays null: the unified finish reason `stop` covers both a natural end and a
 * matched stop sequence (OpenAI's own API does not say which sequence matched, and the provider
 * adapters map Anthropic's `stop_sequence` to `stop`), so the gateway cannot tell them apart.
 */
function stopReason(finish: string | null | undefined): string {
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
export function unifiedToAnthropic(response: ChatResponse, model: string): AnthropicMessage {
  const choice = response.choices[0];
  const content: AnthropicResponseBlock[] = [];
  if (choice?.message.content) content.push({ type: 'text', text: choice.message.content, citations: null });
  // An OpenAI refusal is the model's answer in its own field; Anthropic puts it in the text.
  if (choice?.message.refusal) content.push({ type: 'text', text: choice.message.refusal, citations: null });
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
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(response.usage),
  };
}

/**
 * Turns a stream of unified chunks into Anthropic stream events, one chunk at a time.
 * Call {@link AnthropicStreamTranslator.push} per chunk and {@link AnthropicStreamTranslator.end}
 * once the upstream finished.
 *
 * Usage: unified streams report usage once, at the end, so `message_start` carries zero input
 * tokens unless the first chunk already has usage; the closing `message_delta` carries the full
 * usage including `input_tokens`, which the Anthropic SDKs merge into the final message.
 */
export class AnthropicStreamTranslator {
  private started = false;
  private openBlock: { index: number; kind: 'text' | 'tool'; toolIndex?: number } | undefined;
  private nextIndex = 0;
  private finish: string | null = null;
  private usage: Usage | null = null;
  private readonly toolBlocks = new Map<number, number>();

  constructor(private readonly model: string) {}

  /** Events for one unified chunk (possibly none). */
  push(chunk: ChatChunk): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = [];
    if (chunk.usage) this.usage = chunk.usage;
    if (!this.started) {
      this.started = true;
      const usage = anthropicUsage(this.usage);
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
            usage: { ...usage, output_tokens: 0 },
          },
        },
      });
      events.push({ event: 'ping', data: { type: 'ping' } });
    }
    const choice = chunk.choices[0];
    if (choice === undefined) return events;
    const delta = choice.delta;
    for (const text of [delta.content, delta.refusal]) {
      if (typeof text === 'string' && text !== '') this.text(text, events);
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
        delta: { stop_reason: stopReason(this.finish), stop_sequence: null },
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

  private text(text: string, events: AnthropicStreamEvent[]): void {
    if (this.openBlock?.kind !== 'text') {
      this.closeBlock(events);
      this.openBlock = { index: this.nextIndex++, kind: 'text' };
      events.push({
        event: 'content_block_start',
        data: {
          type: 'content_block_start',
          index: this.openBlock.index,
          content_block: { type: 'text', text: '', citations: null },
        },
      });
    }
    events.push({
      event: 'content_block_delta',
      data: {
        type: 'content_block_delta',
        index: this.openBlock.index,
        delta: { type: 'text_delta', text },
      },
    });
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
