import {
  type ChatRequest,
  type EmbeddingsRequest,
  findModel,
  ProviderError,
  parseChatRequest,
  parseEmbeddingsRequest,
} from '@llm-edge/providers';
import { RequestValidationError, SecurityOptionsError, type ValidationIssue } from './errors';
import {
  countTextTokens,
  DEFAULT_OUTPUT_TOKENS,
  estimateChatTokens,
  estimateEmbeddingsTokens,
  requestedOutputTokens,
  type TokenCounter,
  type TokenEstimate,
} from './token-estimate';

/** What the validator needs to know about a model; unknown fields are not checked. */
export interface ModelLimits {
  /** Input + output tokens the model accepts. */
  readonly contextWindow?: number;
  /** Most output tokens the model produces in one answer. */
  readonly maxOutputTokens?: number;
}

/** Options of {@link RequestValidator}. */
export interface RequestValidatorOptions {
  /**
   * Largest request body in bytes (413 above it).
   * @default 8_388_608 (8 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Most messages in one chat request.
   * @default 1000
   */
  maxMessages?: number;
  /**
   * Most characters of text over all messages.
   * @default 1_000_000
   */
  maxTotalChars?: number;
  /**
   * Most tool definitions.
   * @default 128
   */
  maxTools?: number;
  /**
   * Largest `n` (choices per request); each choice is billed.
   * @default 16
   */
  maxN?: number;
  /**
   * Output allowance for the token estimate when a request sets no `max_tokens`.
   * @default 1024
   */
  defaultOutputTokens?: number;
  /**
   * Looks up a model's limits by the name in the request. Pass your own to resolve aliases, e.g.
   * to the smallest window among an alias's targets. Models it does not know skip the model checks.
   * @default findModel from the @llm-edge/providers model catalogue
   */
  resolveModel?: (model: string) => ModelLimits | undefined;
  /**
   * Token counter for the prompt estimate.
   * @default countTextTokens (gpt-tokenizer o200k_base)
   */
  countTokens?: TokenCounter;
}

/** Default {@link RequestValidatorOptions}. */
export const DEFAULT_REQUEST_VALIDATOR_OPTIONS = Object.freeze({
  maxBodyBytes: 8 * 1024 * 1024,
  maxMessages: 1000,
  maxTotalChars: 1_000_000,
  maxTools: 128,
  maxN: 16,
  defaultOutputTokens: DEFAULT_OUTPUT_TOKENS,
  resolveModel: (model: string): ModelLimits | undefined => findModel(model),
  countTokens: countTextTokens,
});

/** Per-call facts the caller may already know. */
export interface ValidationContext {
  /** Size of the raw body as received; measured from the parsed value when absent. */
  readonly bodyBytes?: number;
  /** Limits of the model the request will reach (e.g. an alias resolved by the router). */
  readonly model?: ModelLimits;
}

/**
 * A chat request that passed validation, with its pre-call token estimate. `tokens` is computed on
 * first read (it tokenizes the whole prompt), unless the context-window check already needed it.
 */
export interface ValidatedChatRequest {
  readonly request: ChatRequest;
  readonly tokens: TokenEstimate;
  /** The model limits used, when known. */
  readonly model?: ModelLimits;
  readonly bodyBytes: number;
}

/** An embeddings request that passed validation, with its input token estimate (computed on first read). */
export interface ValidatedEmbeddingsRequest {
  readonly request: EmbeddingsRequest;
  readonly tokens: number;
  readonly bodyBytes: number;
}

// One getter shared by every result: a getter closure per result made each result object a slow
// dictionary-mode object on the request path. `tokens` stays an own enumerable property, so
// spreading or serialising a result still shows the estimate.
const TOKENS_PROPERTY: PropertyDescriptor = {
  enumerable: true,
  configurable: false,
  get(this: LazyTokens<unknown, unknown>) {
    return LazyTokens.read(this);
  },
};

/** A validation result whose `tokens` is computed once, on first read. */
class LazyTokens<R, V> {
  readonly request: R;
  readonly bodyBytes: number;
  declare readonly tokens: V;
  // Private fields are slots of the object itself. The pending estimate was a symbol-keyed property
  // added with Object.defineProperty, a call into V8's runtime (~1,700 instructions) per result.
  #compute: (() => V) | undefined;
  #value: V | undefined = undefined;

  constructor(request: R, bodyBytes: number, compute: () => V) {
    this.request = request;
    this.bodyBytes = bodyBytes;
    this.#compute = compute;
    Object.defineProperty(this, 'tokens', TOKENS_PROPERTY);
  }

  /** The estimate of `result`, computed on the first call. */
  static read<V>(result: LazyTokens<unknown, V>): V {
    const compute = result.#compute;
    if (compute !== undefined) {
      result.#value = compute();
      result.#compute = undefined;
    }
    return result.#value as V;
  }
}

class ValidatedChat extends LazyTokens<ChatRequest, TokenEstimate> implements ValidatedChatRequest {
  declare readonly model?: ModelLimits;

  constructor(
    request: ChatRequest,
    model: ModelLimits | undefined,
    bodyBytes: number,
    compute: () => TokenEstimate,
  ) {
    super(request, bodyBytes, compute);
    if (model !== undefined) this.model = model;
  }
}

function jsonPath(...parts: (string | number)[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function textLength(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content as { type?: string; text?: unknown; refusal?: unknown }[]) {
    if (typeof part.text === 'string') n += part.text.length;
    else if (typeof part.refusal === 'string') n += part.refusal.length;
  }
  return n;
}

function hasText(content: unknown): boolean {
  return typeof content === 'string' ? content.length > 0 : Array.isArray(content) && content.length > 0;
}

/** Reports the tool calls still waiting for their results when another message comes. */
function reportUnanswered(pending: Map<string, string>, issues: ValidationIssue[]): void {
  for (const where of pending.values()) {
    issues.push({ path: where, message: 'has no tool message answering it before the next message' });
  }
}

/** Checks message order: tool results answer the preceding assistant's tool calls, all of them. */
function checkMessageStructure(request: ChatRequest, issues: ValidationIssue[]): void {
  // Open tool calls of the most recent assistant message (id → where it was declared), and those
  // already answered. Both are made only once an assistant message has tool calls: most requests
  // have none, and this runs on every request.
  let pending: Map<string, string> | undefined;
  let answered: Set<string> | undefined;
  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (message.role === 'tool') {
      const id = message.tool_call_id;
      if (pending?.delete(id) === true) {
        answered ??= new Set();
        answered.add(id);
      } else {
        issues.push({
          path: jsonPath('messages', i, 'tool_call_id'),
          message:
            answered?.has(id) === true
              ? 'answers a tool call that was already answered'
              : 'does not match a tool call of the preceding assistant message',
        });
      }
      continue;
    }
    if (pending !== undefined) reportUnanswered(pending, issues);
    pending = undefined;
    answered = undefined;
    if (message.role === 'assistant') {
      const calls = message.tool_calls ?? [];
      if (calls.length === 0 && !hasText(message.content) && !message.refusal) {
        issues.push({
          path: jsonPath('messages', i, 'content'),
          message: 'is required unless tool_calls is set',
        });
      }
      for (let k = 0; k < calls.length; k++) {
        const id = calls[k]!.id;
        const where = jsonPath('messages', i, 'tool_calls', k, 'id');
        pending ??= new Map();
        if (pending.has(id)) issues.push({ path: where, message: 'duplicates another tool call id' });
        else pending.set(id, where);
      }
    }
  }
  if (pending !== undefined) reportUnanswered(pending, issues);
}

/**
 * Validates a chat or embeddings request before anything leaves the gateway: body size, schema
 * (the providers' `parseChatRequest`, with JSON-path errors), ranges, message structure (tool
 * results follow matching tool calls), size limits, and `max_tokens` and the prompt estimate
 * against the model's window. Errors name the field at fault.
 *
 * @example
 * ```ts
 * const validator = new RequestValidator({ maxMessages: 200 });
 * const { request, tokens } = validator.validateChat(JSON.parse(raw), { bodyBytes: raw.length });
 * ```
 */
export class RequestValidator {
  readonly #o: Required<RequestValidatorOptions>;

  constructor(options: RequestValidatorOptions = {}) {
    const o = { ...DEFAULT_REQUEST_VALIDATOR_OPTIONS } as Required<RequestValidatorOptions>;
    for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
    for (const field of [
      'maxBodyBytes',
      'maxMessages',
      'maxTotalChars',
      'maxTools',
      'maxN',
      'defaultOutputTokens',
    ] as const) {
      const v = o[field];
      if (!Number.isInteger(v) || v < 1) throw new SecurityOptionsError(field, 'must be a positive integer');
    }
    if (typeof o.resolveModel !== 'function')
      throw new SecurityOptionsError('resolveModel', 'must be a function');
    if (typeof o.countTokens !== 'function')
      throw new SecurityOptionsError('countTokens', 'must be a function');
    this.#o = Object.freeze(o);
  }

  /**
   * Validates an untrusted chat request body (the parsed JSON).
   *
   * @throws RequestValidationError `LLM_EDGE_REQUEST_TOO_LARGE` (413), `LLM_EDGE_INVALID_REQUEST`
   *   (400) or `LLM_EDGE_CONTEXT_LENGTH_EXCEEDED` (400); `param` and `issues` name the fields.
   */
  validateChat(body: unknown, context: ValidationContext = {}): ValidatedChatRequest {
    const bodyBytes = this.#checkBodySize(body, context.bodyBytes);
    const request = this.#parse(() => parseChatRequest(body));
    const o = this.#o;
    const issues: ValidationIssue[] = [];

    if (request.messages.length > o.maxMessages) {
      issues.push({
        path: 'messages',
        message: `has ${request.messages.length} messages; at most ${o.maxMessages} are allowed`,
      });
    }
    let chars = 0;
    for (const m of request.messages) chars += textLength(m.content);
    if (chars > o.maxTotalChars) {
      issues.push({
        path: 'messages',
        message: `hold ${chars} characters of text; at most ${o.maxTotalChars} are allowed`,
      });
    }
    if ((request.tools?.length ?? 0) > o.maxTools) {
      issues.push({
        path: 'tools',
        message: `has ${request.tools!.length} tools; at most ${o.maxTools} are allowed`,
      });
    }
    if (request.n != null && request.n > o.maxN) {
      issues.push({ path: 'n', message: `must be at most ${o.maxN}` });
    }
    if (request.tool_choice === 'required' && (request.tools?.length ?? 0) === 0) {
      issues.push({ path: 'tool_choice', message: '"required" needs at least one tool in tools' });
    }
    if (request.stream_options != null && request.stream !== true) {
      issues.push({ path: 'stream_options', message: 'is only allowed when stream is true' });
    }
    checkMessageStructure(request, issues);
    if (issues.length > 0) throw new RequestValidationError('LLM_EDGE_INVALID_REQUEST', issues);

    const model = context.model ?? o.resolveModel(request.model);
    const requested = requestedOutputTokens(request);
    // A catalogue entry with no output (embedding models list 0) says nothing about chat output.
    const maxOutput =
      model?.maxOutputTokens !== undefined && model.maxOutputTokens > 0 ? model.maxOutputTokens : undefined;
    if (maxOutput !== undefined && requested !== undefined && requested > maxOutput) {
      const field = request.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
      throw new RequestValidationError('LLM_EDGE_INVALID_REQUEST', [
        {
          path: field,
          message: `is ${requested}; the model "${request.model}" produces at most ${maxOutput} output tokens`,
        },
      ]);
    }
    const result = new ValidatedChat(request, model, bodyBytes, () =>
      estimateChatTokens(request, {
        defaultOutputTokens: o.defaultOutputTokens,
        countTokens: o.countTokens,
        ...(maxOutput !== undefined ? { maxOutputTokens: maxOutput } : {}),
      }),
    );
    if (
      model?.contextWindow !== undefined &&
      model.contextWindow > 0 &&
      !this.#fitsByBytes(request, requested, model.contextWindow)
    ) {
      const tokens = result.tokens;
      const needed = tokens.promptTokens + (requested ?? 0);
      if (needed > model.contextWindow) {
        throw new RequestValidationError('LLM_EDGE_CONTEXT_LENGTH_EXCEEDED', [
          {
            path: 'messages',
            message:
              requested === undefined
                ? `need about ${tokens.promptTokens} tokens; the model "${request.model}" has a ${model.contextWindow}-token context window`
                : `need about ${tokens.promptTokens} tokens plus ${requested} output tokens; the model "${request.model}" has a ${model.contextWindow}-token context window`,
          },
        ]);
      }
    }
    return result;
  }

  /**
   * Whether the request surely fits the window without counting tokens: a token of the default
   * tokenizer covers at least one UTF-8 byte, so the same estimate with bytes for tokens bounds
   * the prompt from above. Most requests are far below their window, so they skip the tokenizer
   * (tens of µs per request, and its tables are loaded only when a count is really needed).
   */
  #fitsByBytes(request: ChatRequest, requested: number | undefined, contextWindow: number): boolean {
    if (this.#o.countTokens !== countTextTokens) return false;
    const bound = estimateChatTokens(request, { countTokens: utf8Bytes }).promptTokens;
    return bound + (requested ?? 0) <= contextWindow;
  }

  /**
   * Validates an untrusted embeddings request body.
   *
   * @throws RequestValidationError `LLM_EDGE_REQUEST_TOO_LARGE` (413) or `LLM_EDGE_INVALID_REQUEST` (400).
   */
  validateEmbeddings(
    body: unknown,
    context: Pick<ValidationContext, 'bodyBytes'> = {},
  ): ValidatedEmbeddingsRequest {
    const bodyBytes = this.#checkBodySize(body, context.bodyBytes);
    const request = this.#parse(() => parseEmbeddingsRequest(body));
    const input = request.input;
    if (typeof input === 'string' ? input.length > this.#o.maxTotalChars : false) {
      throw new RequestValidationError('LLM_EDGE_INVALID_REQUEST', [
        { path: 'input', message: `holds more than ${this.#o.maxTotalChars} characters` },
      ]);
    }
    if (Array.isArray(input) && typeof input[0] === 'string') {
      const chars = (input as string[]).reduce((n, s) => n + s.length, 0);
      if (chars > this.#o.maxTotalChars) {
        throw new RequestValidationError('LLM_EDGE_INVALID_REQUEST', [
          {
            path: 'input',
            message: `holds ${chars} characters; at most ${this.#o.maxTotalChars} are allowed`,
          },
        ]);
      }
    }
    const countTokens = this.#o.countTokens;
    return new LazyTokens(request, bodyBytes, () => estimateEmbeddingsTokens(request, countTokens));
  }

  #checkBodySize(body: unknown, known: number | undefined): number {
    const bytes = known ?? (body === undefined ? 0 : Buffer.byteLength(JSON.stringify(body) ?? ''));
    if (bytes > this.#o.maxBodyBytes) {
      throw new RequestValidationError('LLM_EDGE_REQUEST_TOO_LARGE', [
        { path: '$', message: `body is ${bytes} bytes; at most ${this.#o.maxBodyBytes} are allowed` },
      ]);
    }
    return bytes;
  }

  #parse<T>(parse: () => T): T {
    try {
      return parse();
    } catch (error) {
      if (ProviderError.isInstance(error) && error.kind === 'bad_request') {
        const issues = error.issues?.length
          ? error.issues
          : [{ path: error.param ?? '$', message: error.message }];
        throw new RequestValidationError('LLM_EDGE_INVALID_REQUEST', issues, { cause: error });
      }
      throw error;
    }
  }
}

/**
 * Validates a chat request with default options (see {@link RequestValidator.validateChat}).
 *
 * @example
 * ```ts
 * const { request, tokens } = validateChatRequest(JSON.parse(raw));
 * ```
 */
export function validateChatRequest(body: unknown, context: ValidationContext = {}): ValidatedChatRequest {
  defaultValidator ??= new RequestValidator();
  return defaultValidator.validateChat(body, context);
}

let defaultValidator: RequestValidator | undefined;

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
