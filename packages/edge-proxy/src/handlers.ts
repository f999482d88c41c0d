import type { IncomingHttpHeaders } from 'node:http';
import type { CacheStatus, Context, Logger } from '@llm-edge/monitoring';
import type { ApiDialect } from './error-mapping';
import type { SseEvent } from './sse';

/** The API routes the proxy serves and hands to the pipeline. */
export type ProxyRoute = 'chat.completions' | 'embeddings' | 'models' | 'messages';

/** Headers a handler may set; numbers are written in decimal. */
export type ResponseHeaders = Readonly<Record<string, string | number>>;

/** Reply with one JSON document. */
export interface JsonResult {
  readonly kind: 'json';
  /** The value to serialize. */
  readonly body: unknown;
  /** @default 200 */
  readonly status?: number;
  readonly headers?: ResponseHeaders;
}

/** Reply with JSON serialized earlier (e.g. a cache hit), sent byte for byte. */
export interface SerializedJsonResult {
  readonly kind: 'json-text';
  readonly text: string | Uint8Array;
  /** @default 200 */
  readonly status?: number;
  readonly headers?: ResponseHeaders;
}

/**
 * Reply with a Server-Sent Events stream. The proxy writes headers when the first event is ready
 * (so a failure before it still gets a proper HTTP error status), frames each event for the
 * route's dialect, waits for `drain` when the client reads slowly, and ends OpenAI streams with
 * `data: [DONE]`. An error thrown by the iterable after the first event becomes a final error
 * event in the client's shape.
 */
export interface StreamResult {
  readonly kind: 'sse';
  readonly events: AsyncIterable<SseEvent>;
  /** @default 200 */
  readonly status?: number;
  readonly headers?: ResponseHeaders;
  /**
   * Write `data: [DONE]` after the last event (OpenAI routes only).
   * @default true
   */
  readonly done?: boolean;
}

/** What a route handler returns. */
export type HandlerResult = JsonResult | SerializedJsonResult | StreamResult;

/** Facts about a request the pipeline learns; they go into the request's log line, metrics and headers. */
export interface RequestAnnotations {
  /** Gateway key name (never the key). */
  keyName?: string;
  /** Provider instance that served the request. */
  provider?: string;
  /** Model the client asked for. */
  model?: string;
  /** Target id that served it; also sent as `x-llm-edge-target`. */
  target?: string;
  /** Response cache outcome; also sent as `x-llm-edge-cache`. */
  cache?: CacheStatus;
  /** Whether the response streams. */
  stream?: boolean;
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  costUsd?: number;
  /** Upstream attempts, retries and failovers included. */
  attempts?: number;
}

/**
 * Times waits on the upstream so the proxy can report its own overhead
 * (`x-llm-edge-overhead-ms`, `llm_edge_overhead_seconds`) as total time minus upstream wait.
 * Overlapping waits (hedged requests) count once.
 */
export interface UpstreamTimer {
  /** Counts the time until `promise` settles as upstream wait, and returns it. */
  track<T>(promise: Promise<T>): Promise<T>;
  /** Starts a wait; call the returned function (once) when it ends. */
  begin(): () => void;
  /** Wraps an upstream stream so the time spent awaiting each chunk counts as upstream wait. */
  iterate<T>(iterable: AsyncIterable<T>): AsyncIterable<T>;
  /** Adds a wait measured elsewhere, in milliseconds. */
  add(ms: number): void;
  /** Upstream wait so far, in milliseconds. */
  readonly waitedMs: number;
}

/** Everything a handler gets about one request. */
export interface ProxyContext<TBody = unknown> {
  /** Request id; echoed as `x-request-id` (and `request-id` on Anthropic routes). */
  readonly requestId: string;
  readonly route: ProxyRoute;
  /** The API shape the client spoke; errors and streams use it. */
  readonly dialect: ApiDialect;
  readonly method: string;
  /** URL path without the query string. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Parsed JSON body: always a plain object on POST routes (anything else is refused with 400
   * before the handler runs), `undefined` on GET routes. Not validated further.
   */
  readonly body: TBody;
  /**
   * Size of the request body in bytes as received (the `content-length`, or the length of a
   * chunked body); `undefined` on GET routes. Pass it on instead of measuring the parsed body again.
   */
  readonly bodyBytes: number | undefined;
  /** Request headers, names lower-cased. */
  readonly headers: Readonly<IncomingHttpHeaders>;
  /** Client address (`X-Forwarded-For` is honoured only with the `trustProxy` option). */
  readonly clientIp: string;
  /**
   * Aborted when the client disconnects, the idle timeout fires, or shutdown passes its deadline;
   * `signal.reason` is a `ProxyError` naming which. Pass it to every upstream call.
   */
  readonly signal: AbortSignal;
  /** Clock reading (ms) when the request arrived. */
  readonly receivedAt: number;
  /** OpenTelemetry context holding the request's server span; parent pipeline spans on it. */
  readonly traceContext: Context;
  /** Logger bound to this request id (a silent one when the server has no logger). */
  readonly logger: Logger;
  /** Upstream wait timing, for the overhead figure. */
  readonly upstream: UpstreamTimer;
  /**
   * Sets a response header. Refused (returns `false`, counted as `LLM_EDGE_PROXY_INVALID_HEADER`)
   * when the name is not an HTTP token, the value holds CR, LF or other control characters, the
   * name is one the proxy owns (content-length, content-type, transfer-encoding, connection,
   * x-request-id, x-llm-edge-overhead-ms), or the headers are already sent.
   */
  setHeader(name: string, value: string | number): boolean;
  /** Records facts for the log line and metrics; `target` and `cache` also set their headers. */
  annotate(fields: RequestAnnotations): void;
}

/** A route handler: the pipeline for one kind of request. Throw to answer with an error. */
export type RouteHandler = (ctx: ProxyContext<Record<string, unknown>>) => Promise<HandlerResult>;

/** One readiness check's outcome. */
export interface ReadinessCheck {
  ok: boolean;
  /** Shown in `/readyz`; never put secrets here. */
  detail?: string | number | boolean | Readonly<Record<string, unknown>>;
}

/** What `readiness()` reports; `/readyz` answers 200 when `ready`, else 503. */
export interface ReadinessReport {
  ready: boolean;
  checks?: Readonly<Record<string, ReadinessCheck>>;
}

/**
 * The request pipeline, supplied by the application. The proxy owns HTTP (parsing, limits,
 * timeouts, streaming, errors); each handler owns what happens to a request.
 */
export interface ProxyHandlers {
  /** `POST /v1/chat/completions` (OpenAI shape in and out). */
  chatCompletions: RouteHandler;
  /** `POST /v1/embeddings` (OpenAI shape). */
  embeddings: RouteHandler;
  /** `GET /v1/models` (OpenAI list shape). */
  models: (ctx: ProxyContext<undefined>) => Promise<HandlerResult>;
  /** `POST /v1/messages` (Anthropic shape in and out; streams as Anthropic events). */
  anthropicMessages: RouteHandler;
  /** Backs `GET /readyz`: config loaded, healthy targets, Redis state. */
  readiness: () => ReadinessReport | Promise<ReadinessReport>;
}

/**
 * A JSON reply.
 *
 * @example
 * return jsonResult({ object: 'list', data: models });
 */
export function jsonResult(
  body: unknown,
  init: { status?: number; headers?: ResponseHeaders } = {},
): JsonResult {
  return { kind: 'json', body, ...init };
}

/** A reply of JSON serialized earlier, sent byte for byte. */
export function serializedJsonResult(
  text: string | Uint8Array,
  init: { status?: number; headers?: ResponseHeaders } = {},
): SerializedJsonResult {
  return { kind: 'json-text', text, ...init };
}

/**
 * A Server-Sent Events reply.
 *
 * @example
 * return sseResult((async function* () {
 *   for await (const chunk of ctx.upstream.iterate(stream)) yield { data: chunk };
 * })());
 */
export function sseResult(
  events: AsyncIterable<SseEvent>,
  init: { status?: number; headers?: ResponseHeaders; done?: boolean } = {},
): StreamResult {
  return { kind: 'sse', events, ...init };
}
