import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { scrubSecrets } from './redaction';
import type { TokenUsage } from './usage';

/** Name the default tracer is obtained under. */
export const TRACER_NAME = '@llm-edge/monitoring';

/**
 * OpenTelemetry GenAI semantic-convention attribute names used by this package
 * (semantic-conventions GenAI client spans, v1.37+; `gen_ai.system` is the pre-1.37 name of
 * `gen_ai.provider.name`, still emitted by default for older back ends).
 */
export const GEN_AI_ATTRIBUTES = Object.freeze({
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  SYSTEM: 'gen_ai.system',
  REQUEST_MODEL: 'gen_ai.request.model',
  REQUEST_MAX_TOKENS: 'gen_ai.request.max_tokens',
  REQUEST_TEMPERATURE: 'gen_ai.request.temperature',
  REQUEST_TOP_P: 'gen_ai.request.top_p',
  REQUEST_STREAM: 'gen_ai.request.stream',
  RESPONSE_ID: 'gen_ai.response.id',
  RESPONSE_MODEL: 'gen_ai.response.model',
  RESPONSE_FINISH_REASONS: 'gen_ai.response.finish_reasons',
  USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  USAGE_CACHE_READ_INPUT_TOKENS: 'gen_ai.usage.cache_read.input_tokens',
  USAGE_CACHE_CREATION_INPUT_TOKENS: 'gen_ai.usage.cache_creation.input_tokens',
  ERROR_TYPE: 'error.type',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
});

/** GenAI operations the gateway performs (`gen_ai.operation.name`). */
export type GenAiOperation = 'chat' | 'embeddings' | 'text_completion';

const PROVIDER_NAMES: Record<string, string> = {
  openai: 'openai',
  'azure-openai': 'azure.ai.openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
};

/**
 * Maps a provider kind (`openai`, `azure-openai`, `anthropic`, `gemini`, `openai-compatible`) to
 * the well-known `gen_ai.provider.name` value; unknown kinds (OpenAI-compatible servers) use
 * `fallback`, typically the provider instance name.
 */
export function genAiProviderName(kind: string, fallback: string = kind): string {
  return PROVIDER_NAMES[kind] ?? fallback;
}

/** Options of {@link createGenAiTracing}. */
export interface GenAiTracingOptions {
  /**
   * Tracer spans are started on. Libraries never configure an SDK or exporter: without one
   * registered by the application, spans are no-ops.
   * @default trace.getTracer('@llm-edge/monitoring')
   */
  tracer?: Tracer;
  /**
   * Also set the legacy `gen_ai.system` attribute next to `gen_ai.provider.name`.
   * @default true
   */
  emitLegacySystemAttribute?: boolean;
  /**
   * Called when a span operation throws; the request goes on. Pass
   * `(e) => metrics.recordTelemetryFailure('tracing')` to count them.
   * @default counts into `GenAiTracing.failures` only
   */
  onFailure?: (error: unknown) => void;
}

/** Defaults of {@link GenAiTracingOptions}. */
export const DEFAULT_GEN_AI_TRACING_OPTIONS = Object.freeze({ emitLegacySystemAttribute: true });

/** Headers as Node gives them (values may repeat) or as `fetch` takes them. */
export type HeaderCarrier = Record<string, string | string[] | undefined>;

/** A started span with a context to parent children on; all methods are safe to call twice. */
export interface SpanHandle {
  /** The underlying OpenTelemetry span. */
  readonly span: Span;
  /** A context holding this span, to parent child spans or to run code in. */
  readonly context: Context;
  /** Sets attributes, skipping `undefined` values. */
  setAttributes(attributes: Record<string, AttributeValue | undefined>): void;
  /** Marks the span failed: status ERROR, `error.type` from the error's `code`/`kind`/name, the exception recorded with secrets scrubbed. */
  fail(error: unknown): void;
  /** Ends the span; later calls do nothing. */
  end(): void;
}

/** The HTTP server span of one gateway request. */
export interface RequestSpan extends SpanHandle {
  /** Ends the span with the response status (5xx marks it failed). */
  endWithStatus(status: number): void;
}

/** Parameters of {@link GenAiTracing.startInferenceSpan}. */
export interface InferenceSpanParams {
  operation: GenAiOperation;
  /** `gen_ai.provider.name`; see {@link genAiProviderName}. */
  provider: string;
  /** Model requested upstream (`gen_ai.request.model`). */
  model: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stream?: boolean;
  /** Upstream host and port (`server.address`, `server.port`). */
  serverAddress?: string;
  serverPort?: number;
  /** Parent context; defaults to the active one. */
  parent?: Context;
  /** Extra attributes, e.g. `llm_edge.target`. */
  attributes?: Record<string, AttributeValue | undefined>;
}

/** What the upstream answered, for {@link InferenceSpan.setResponse}. */
export interface InferenceResponseInfo {
  id?: string;
  model?: string;
  finishReasons?: readonly string[];
  usage?: TokenUsage;
}

/** A GenAI client span (`{operation} {model}`, kind CLIENT). */
export interface InferenceSpan extends SpanHandle {
  /** Records the first streamed token as an event and a `llm_edge.ttft_ms` attribute. */
  recordFirstToken(ttftMs?: number): void;
  /** Sets `gen_ai.response.*` and `gen_ai.usage.*` attributes. */
  setResponse(info: InferenceResponseInfo): void;
  /** Writes `traceparent` (and `tracestate`) for this span into upstream request headers and returns them. */
  injectHeaders(headers?: Record<string, string>): Record<string, string>;
}

/** Span helpers over `@opentelemetry/api`, following the GenAI semantic conventions. */
export interface GenAiTracing {
  /** Starts the SERVER span of an incoming request, parented on the client's `traceparent` if any. */
  startRequestSpan(params: {
    method: string;
    route: string;
    headers?: HeaderCarrier;
    requestId?: string;
    clientAddress?: string;
  }): RequestSpan;
  /** Starts a GenAI CLIENT span for one upstream call. */
  startInferenceSpan(params: InferenceSpanParams): InferenceSpan;
  /** Starts an INTERNAL span for a pipeline stage (`authenticate`, `rate-limit`, `cache`, …). */
  startStageSpan(
    name: string,
    params?: { parent?: Context; attributes?: Record<string, AttributeValue | undefined> },
  ): SpanHandle;
  /** Runs `fn` inside a stage span that ends (and fails, if `fn` throws) with it. */
  withStage<T>(
    name: string,
    fn: (span: SpanHandle) => Promise<T> | T,
    params?: { parent?: Context },
  ): Promise<T>;
  /** How many span operations threw and were contained. */
  readonly failures: number;
}

function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const record = error as Record<string, unknown>;
    for (const field of ['code', 'kind', 'name'] as const) {
      const value = record[field];
      if (typeof value === 'string' && value.length > 0) return value;
    }
  }
  return '_OTHER';
}

/**
 * Writes the trace context of `ctx` (default: the active context) into `headers` through the
 * registered propagator; when none is registered (only `@opentelemetry/api` loaded) and the span
 * context is valid, writes a W3C `traceparent`/`tracestate` itself. Never throws.
 *
 * @example
 * const headers = injectTraceHeaders({}, span.context); // { traceparent: '00-…-…-01' }
 */
export function injectTraceHeaders(
  headers: Record<string, string> = {},
  ctx: Context = context.active(),
): Record<string, string> {
  try {
    const before = Object.keys(headers).length;
    propagation.inject(ctx, headers);
    if (Object.keys(headers).length > before) return headers;
    const spanContext = trace.getSpanContext(ctx);
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return headers;
    const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
    headers['traceparent'] = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
    const state = spanContext.traceState?.serialize();
    if (state !== undefined && state.length > 0) headers['tracestate'] = state;
  } catch {
    // Propagation is best effort: an upstream call without trace headers is still a valid call.
  }
  return headers;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

function firstHeader(headers: HeaderCarrier, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads the client's trace context from request headers through the registered propagator,
 * falling back to parsing W3C `traceparent` when none is registered. Returns `ROOT_CONTEXT`
 * when there is none. Never throws.
 */
export function extractTraceContext(headers: HeaderCarrier): Context {
  try {
    const extracted = propagation.extract(ROOT_CONTEXT, headers);
    if (trace.getSpanContext(extracted) !== undefined) return extracted;
    const header = firstHeader(headers, 'traceparent')?.trim().toLowerCase();
    const match = header === undefined ? null : TRACEPARENT.exec(header);
    if (match === null || match[1] === 'ff') return extracted;
    const spanContext = {
      traceId: match[2]!,
      spanId: match[3]!,
      traceFlags: Number.parseInt(match[4]!, 16),
      isRemote: true,
    };
    return isSpanContextValid(spanContext) ? trace.setSpanContext(extracted, spanContext) : extracted;
  } catch {
    return ROOT_CONTEXT;
  }
}

/** Counts contained failures and forwards them to the `onFailure` hook. */
class FailureSink {
  count = 0;

  constructor(private readonly hook: ((error: unknown) => void) | undefined) {}

  report(error: unknown): void {
    this.count += 1;
    try {
      this.hook?.(error);
    } catch {
      // The failure hook itself threw; the failure is already counted above.
    }
  }
}

function cleanAttributes(
  attributes: Record<string, AttributeValue | undefined> | undefined,
  into: Attributes,
): Attributes {
  if (attributes === undefined) return into;
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (value !== undefined) into[key] = value;
  }
  return into;
}

/**
 * Whether `span` adds nothing to `parent`: it records nothing and carries the parent's span
 * context (or none where the parent has none), as the API's no-op tracer does when no SDK is
 * registered. Such a span's context is the parent's, which saves a context object per span on a
 * gateway that exports no traces; trace propagation is unchanged, as the span context is the same.
 */
function isInert(span: Span, parent: Context): boolean {
  if (span.isRecording()) return false;
  const own = span.spanContext();
  const inherited = trace.getSpanContext(parent);
  return own === inherited || (inherited === undefined && own === INVALID_SPAN_CONTEXT);
}

class BaseSpanHandle implements SpanHandle {
  protected ended = false;
  private spanContext: Context | undefined;

  constructor(
    readonly span: Span,
    private readonly parent: Context,
    protected readonly failures: FailureSink,
  ) {}

  get context(): Context {
    if (this.spanContext === undefined) {
      try {
        this.spanContext = isInert(this.span, this.parent)
          ? this.parent
          : trace.setSpan(this.parent, this.span);
      } catch (error) {
        this.failures.report(error);
        this.spanContext = this.parent;
      }
    }
    return this.spanContext;
  }

  setAttributes(attributes: Record<string, AttributeValue | undefined>): void {
    try {
      this.span.setAttributes(cleanAttributes(attributes, {}));
    } catch (error) {
      this.failures.report(error);
    }
  }

  fail(error: unknown): void {
    try {
      const type = errorType(error);
      this.span.setAttribute(GEN_AI_ATTRIBUTES.ERROR_TYPE, type);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      const record = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
      const exception: { name: string; message: string; stack?: string } = {
        name: typeof record['name'] === 'string' ? record['name'] : 'Error',
        message: scrubSecrets(typeof record['message'] === 'string' ? record['message'] : String(error)),
      };
      if (typeof record['stack'] === 'string') exception.stack = scrubSecrets(record['stack']);
      this.span.recordException(exception);
    } catch (failure) {
      this.failures.report(failure);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.span.end();
    } catch (error) {
      this.failures.report(error);
    }
  }
}

class RequestSpanHandle extends BaseSpanHandle implements RequestSpan {
  endWithStatus(status: number): void {
    if (this.ended) return;
    try {
      this.span.setAttribute('http.response.status_code', status);
      if (status >= 500) this.span.setStatus({ code: SpanStatusCode.ERROR });
    } catch (error) {
      this.failures.report(error);
    }
    this.end();
  }
}

class InferenceSpanHandle extends BaseSpanHandle implements InferenceSpan {
  private firstTokenSeen = false;

  recordFirstToken(ttftMs?: number): void {
    if (this.firstTokenSeen) return;
    this.firstTokenSeen = true;
    try {
      this.span.addEvent('gen_ai.first_token');
      if (ttftMs !== undefined) this.span.setAttribute('llm_edge.ttft_ms', ttftMs);
    } catch (error) {
      this.failures.report(error);
    }
  }

  setResponse(info: InferenceResponseInfo): void {
    this.setAttributes({
      [GEN_AI_ATTRIBUTES.RESPONSE_ID]: info.id,
      [GEN_AI_ATTRIBUTES.RESPONSE_MODEL]: info.model,
      [GEN_AI_ATTRIBUTES.RESPONSE_FINISH_REASONS]:
        info.finishReasons === undefined ? undefined : [...info.finishReasons],
      [GEN_AI_ATTRIBUTES.USAGE_INPUT_TOKENS]: info.usage?.inputTokens,
      [GEN_AI_ATTRIBUTES.USAGE_OUTPUT_TOKENS]: info.usage?.outputTokens,
      [GEN_AI_ATTRIBUTES.USAGE_CACHE_READ_INPUT_TOKENS]: info.usage?.cachedInputTokens,
      [GEN_AI_ATTRIBUTES.USAGE_CACHE_CREATION_INPUT_TOKENS]: info.usage?.cacheWriteInputTokens,
    });
  }

  injectHeaders(headers: Record<string, string> = {}): Record<string, string> {
    return injectTraceHeaders(headers, this.context);
  }
}

function isThenable<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const INVALID_SPAN = trace.wrapSpanContext({
  traceId: '0'.repeat(32),
  spanId: '0'.repeat(16),
  traceFlags: 0,
});

/**
 * Creates span helpers over `@opentelemetry/api` only. No SDK or exporter is configured here:
 * the application registers one; without it every span is a cheap no-op.
 *
 * @example
 * const tracing = createGenAiTracing();
 * const span = tracing.startInferenceSpan({ operation: 'chat', provider: 'openai', model: 'gpt-4o-mini', maxTokens: 256 });
 * const headers = span.injectHeaders({ authorization: '…' }); // adds traceparent
 * span.setResponse({ id: 'chatcmpl-1', model: 'gpt-4o-mini-2024-07-18', finishReasons: ['stop'], usage: { inputTokens: 9, outputTokens: 2 } });
 * span.end();
 */
export function createGenAiTracing(options: GenAiTracingOptions = {}): GenAiTracing {
  const tracer = options.tracer ?? trace.getTracer(TRACER_NAME);
  const legacySystem =
    options.emitLegacySystemAttribute ?? DEFAULT_GEN_AI_TRACING_OPTIONS.emitLegacySystemAttribute;
  const failures = new FailureSink(options.onFailure);

  function start(name: string, kind: SpanKind, parent: Context, attributes: Attributes): Span {
    try {
      return tracer.startSpan(name, { kind, attributes }, parent);
    } catch (error) {
      failures.report(error);
      return INVALID_SPAN;
    }
  }

  function activeContext(): Context {
    try {
      return context.active();
    } catch (error) {
      failures.report(error);
      return ROOT_CONTEXT;
    }
  }

  const startStageSpan: GenAiTracing['startStageSpan'] = (name, params = {}) => {
    const parent = params.parent ?? activeContext();
    return new BaseSpanHandle(
      start(name, SpanKind.INTERNAL, parent, cleanAttributes(params.attributes, {})),
      parent,
      failures,
    );
  };

  return {
    get failures() {
      return failures.count;
    },
    startRequestSpan(params) {
      const parent = params.headers === undefined ? activeContext() : extractTraceContext(params.headers);
      const attributes: Attributes = {
        'http.request.method': params.method,
        'http.route': params.route,
      };
      if (params.requestId !== undefined) attributes['llm_edge.request_id'] = params.requestId;
      if (params.clientAddress !== undefined) attributes['client.address'] = params.clientAddress;
      return new RequestSpanHandle(
        start(`${params.method} ${params.route}`, SpanKind.SERVER, parent, attributes),
        parent,
        failures,
      );
    },
    startInferenceSpan(params) {
      const parent = params.parent ?? activeContext();
      const attributes: Attributes = {
        [GEN_AI_ATTRIBUTES.OPERATION_NAME]: params.operation,
        [GEN_AI_ATTRIBUTES.PROVIDER_NAME]: params.provider,
        [GEN_AI_ATTRIBUTES.REQUEST_MODEL]: params.model,
      };
      if (legacySystem) attributes[GEN_AI_ATTRIBUTES.SYSTEM] = params.provider;
      if (params.maxTokens !== undefined) attributes[GEN_AI_ATTRIBUTES.REQUEST_MAX_TOKENS] = params.maxTokens;
      if (params.temperature !== undefined)
        attributes[GEN_AI_ATTRIBUTES.REQUEST_TEMPERATURE] = params.temperature;
      if (params.topP !== undefined) attributes[GEN_AI_ATTRIBUTES.REQUEST_TOP_P] = params.topP;
      if (params.stream !== undefined) attributes[GEN_AI_ATTRIBUTES.REQUEST_STREAM] = params.stream;
      if (params.serverAddress !== undefined)
        attributes[GEN_AI_ATTRIBUTES.SERVER_ADDRESS] = params.serverAddress;
      if (params.serverPort !== undefined) attributes[GEN_AI_ATTRIBUTES.SERVER_PORT] = params.serverPort;
      cleanAttributes(params.attributes, attributes);
      return new InferenceSpanHandle(
        start(`${params.operation} ${params.model}`, SpanKind.CLIENT, parent, attributes),
        parent,
        failures,
      );
    },
    startStageSpan,
    withStage(name, fn, params) {
      // Not an `async` function: the gateway runs several stages per request, and an async
      // frame with its `await` costs extra promises and a suspension each, even when `fn`
      // answers synchronously. Every outcome is still a promise, and a throw a rejection.
      let stage: SpanHandle | undefined;
      try {
        const handle = startStageSpan(name, params);
        stage = handle;
        const result = context.with(handle.context, () => fn(handle));
        if (!isThenable(result)) {
          handle.end();
          return Promise.resolve(result);
        }
        // `Promise.resolve` returns a native promise as is and adopts any other thenable, as
        // `await` did.
        return Promise.resolve(result).then(
          (value) => {
            handle.end();
            return value;
          },
          (error: unknown) => {
            handle.fail(error);
            handle.end();
            throw error;
          },
        );
      } catch (error) {
        stage?.fail(error);
        stage?.end();
        return Promise.reject(error);
      }
    },
  };
}

export type { Context, Span, Tracer };

/** The empty OpenTelemetry context (no span), re-exported so callers need not depend on the API package. */
export { ROOT_CONTEXT };

/**
 * Runs `fn` with `ctx` as the active context, so spans started inside (by any library) are
 * parented on it. Falls back to calling `fn` directly if the context manager fails.
 */
export function runWithContext<T>(ctx: Context, fn: () => T): T {
  let entered = false;
  try {
    return context.with(ctx, () => {
      entered = true;
      return fn();
    });
  } catch (error) {
    if (entered) throw error;
    return fn();
  }
}
