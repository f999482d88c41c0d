import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import {
  createGenAiTracing,
  createLogger,
  createMetrics,
  type GatewayMetrics,
  type GenAiTracing,
  type Logger,
  logRequest,
  ROOT_CONTEXT,
  runWithContext,
} from '@llm-edge/monitoring';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import secureJson from 'secure-json-parse';
import { type ApiDialect, toErrorResponse } from './error-mapping';
import { ProxyError } from './errors';
import type {
  HandlerResult,
  ProxyContext,
  ProxyHandlers,
  ProxyRoute,
  ReadinessCheck,
  ReadinessReport,
  RouteHandler,
} from './handlers';
import { type ProxyServerOptions, type ResolvedProxyOptions, resolveProxyOptions } from './options';
import { RequestState, type RouteKind } from './request-state';
import { formatSseError, formatSseEvent, OPENAI_DONE_FRAME } from './sse';

/** A running (or ready to run) proxy server. */
export interface ProxyServer {
  /** Starts listening; resolves with the base URL. Defaults: port 0 (any free port), host 127.0.0.1. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  /**
   * Graceful shutdown: stops accepting connections, answers requests arriving on open
   * connections with 503, lets in-flight requests and streams finish for up to `deadlineMs`
   * (default `shutdownDeadlineMs`), then aborts the rest (streams end with an error event) and
   * closes every connection. Idempotent.
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
  /** Base URL, e.g. `http://127.0.0.1:8080`; throws `LLM_EDGE_PROXY_NOT_LISTENING` before `listen()`. */
  readonly url: string;
  /** The Node HTTP(S) server. */
  readonly server: Server | HttpsServer;
  /** The Fastify instance, for adding routes or plugins before `listen()`. */
  readonly app: FastifyInstance;
  /** Metrics the server records into (the option's, or its own). */
  readonly metrics: GatewayMetrics;
  /** Requests being served right now. */
  readonly inFlight: number;
}

interface RouteConfig {
  route: ProxyRoute | undefined;
  routeName: string;
  kind: RouteKind;
  dialect: ApiDialect;
}

const API_ROUTES: ReadonlyArray<{
  method: 'GET' | 'POST';
  path: string;
  config: RouteConfig;
  handler: keyof Omit<ProxyHandlers, 'readiness'>;
}> = [
  {
    method: 'POST',
    path: '/v1/chat/completions',
    config: { route: 'chat.completions', routeName: 'chat.completions', kind: 'api', dialect: 'openai' },
    handler: 'chatCompletions',
  },
  {
    method: 'POST',
    path: '/v1/embeddings',
    config: { route: 'embeddings', routeName: 'embeddings', kind: 'api', dialect: 'openai' },
    handler: 'embeddings',
  },
  {
    method: 'GET',
    path: '/v1/models',
    config: { route: 'models', routeName: 'models', kind: 'api', dialect: 'openai' },
    handler: 'models',
  },
  {
    method: 'POST',
    path: '/v1/messages',
    config: { route: 'messages', routeName: 'messages', kind: 'api', dialect: 'anthropic' },
    handler: 'anthropicMessages',
  },
];

const OPS_ROUTES: Record<string, RouteConfig> = {
  '/healthz': { route: undefined, routeName: 'healthz', kind: 'ops', dialect: 'openai' },
  '/readyz': { route: undefined, routeName: 'readyz', kind: 'ops', dialect: 'openai' },
  '/metrics': { route: undefined, routeName: 'metrics', kind: 'ops', dialect: 'openai' },
};

const UNMATCHED: RouteConfig = {
  route: undefined,
  routeName: 'unmatched',
  kind: 'unmatched',
  dialect: 'openai',
};
const UNMATCHED_ANTHROPIC: RouteConfig = { ...UNMATCHED, dialect: 'anthropic' };

const REQUEST_ID = /^[A-Za-z0-9._:@+/=-]{1,128}$/;

/**
 * Where a request's state hangs on its Fastify request and on its socket: a symbol slot costs a
 * fraction of the WeakMap set, gets and delete each request made, and leaves no ephemeron work
 * for the garbage collector.
 */
const STATE = Symbol('llm-edge.requestState');

interface StateSlot {
  [STATE]?: RequestState | null;
}

function stateOf(holder: FastifyRequest | Socket): RequestState | undefined {
  return (holder as StateSlot)[STATE] ?? undefined;
}

function setState(holder: FastifyRequest | Socket, state: RequestState | undefined): void {
  (holder as StateSlot)[STATE] = state;
}

/**
 * Whether a body needs secure-json-parse: text holding neither `__proto__` nor `constructor`
 * literally nor any `\\u` escape (which could spell them) cannot poison a prototype, so plain
 * `JSON.parse` gives the same result without the library's two regular-expression scans. A
 * leading byte-order mark, which the library strips, also takes the library's path.
 */
function needsSecureParse(text: string): boolean {
  return (
    text.charCodeAt(0) === 0xfeff ||
    text.includes('\\u') ||
    text.includes('__proto__') ||
    text.includes('constructor')
  );
}
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Which API a request the router did not match was meant for, so even its 404 has the right shape. */
function dialectOf(path: string, headers: IncomingMessage['headers']): ApiDialect {
  return path.startsWith('/v1/messages') || headers['anthropic-version'] !== undefined
    ? 'anthropic'
    : 'openai';
}

function dialectOfRawPacket(packet: unknown): ApiDialect {
  if (!Buffer.isBuffer(packet)) return 'openai';
  const head = packet.subarray(0, 256).toString('latin1');
  return /^[A-Z]+ \/v1\/messages[ ?/]/.test(head) || /\r\nanthropic-version:/i.test(head)
    ? 'anthropic'
    : 'openai';
}

function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

function isHandlerResult(value: unknown): value is HandlerResult {
  if (!isPlainObject(value)) return false;
  switch (value['kind']) {
    case 'json':
      return 'body' in value;
    case 'json-text':
      return typeof value['text'] === 'string' || value['text'] instanceof Uint8Array;
    case 'sse': {
      const events = value['events'];
      return (
        typeof events === 'object' &&
        events !== null &&
        typeof (events as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
      );
    }
    default:
      return false;
  }
}

function resultStatus(status: unknown): number {
  if (status === undefined) return 200;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 200 && status <= 599) return status;
  throw new ProxyError(
    'LLM_EDGE_PROXY_INVALID_HANDLER_RESULT',
    `Handler returned an invalid status ${String(status)}.`,
  );
}

type LogFn = FastifyBaseLogger['info'];

/**
 * Fastify's per-request logger, made only when something logs through it. Fastify builds a child
 * logger for every request, but with its request logging off it logs through it only on rare
 * error paths; a pino child per request was a measurable share of each request's CPU.
 */
class DeferredChildLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: Parameters<FastifyBaseLogger['child']>[1],
  ) {}

  #resolve(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  get level(): string {
    return this.#child?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.#resolve().level = level;
  }

  fatal(...args: Parameters<LogFn>): void {
    this.#resolve().fatal(...args);
  }

  error(...args: Parameters<LogFn>): void {
    this.#resolve().error(...args);
  }

  warn(...args: Parameters<LogFn>): void {
    this.#resolve().warn(...args);
  }

  info(...args: Parameters<LogFn>): void {
    this.#resolve().info(...args);
  }

  debug(...args: Parameters<LogFn>): void {
    this.#resolve().debug(...args);
  }

  trace(...args: Parameters<LogFn>): void {
    this.#resolve().trace(...args);
  }

  silent(...args: Parameters<LogFn>): void {
    this.#resolve().silent(...args);
  }

  child(...args: Parameters<FastifyBaseLogger['child']>): FastifyBaseLogger {
    return this.#resolve().child(...args);
  }
}

function cancellableDelay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Creates the gateway's HTTP server (Fastify 5): the OpenAI and Anthropic routes backed by the
 * supplied handlers, health, readiness and metrics routes, SSE streaming with backpressure,
 * body limit, timeouts, graceful shutdown, optional TLS, and one place mapping every error to
 * the client's API shape.
 *
 * @example
 * const proxy = createProxyServer({
 *   handlers: {
 *     chatCompletions: async (ctx) => jsonResult({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] }),
 *     embeddings: async () => jsonResult({ object: 'list', data: [] }),
 *     models: async () => jsonResult({ object: 'list', data: [] }),
 *     anthropicMessages: async () => jsonResult({ type: 'message', content: [] }),
 *     readiness: () => ({ ready: true }),
 *   },
 * });
 * const url = await proxy.listen({ port: 8080 });
 */
export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const o: ResolvedProxyOptions = resolveProxyOptions(options);
  const metrics = o.metrics ?? createMetrics();
  const tracing: GenAiTracing =
    o.tracing ?? createGenAiTracing({ onFailure: () => metrics.recordTelemetryFailure('tracing') });
  const logger: Logger = o.logger ?? createLogger({ level: 'silent' });
  const logging = o.logger !== undefined;
  const { clock, handlers, mapError } = o;
  const generateRequestId = o.generateRequestId ?? randomUUID;
  const env = { clock, idleMs: o.timeouts.idleMs, metrics, logger };

  const routeConfigs = new Map<string, RouteConfig>(Object.entries(OPS_ROUTES));
  for (const route of API_ROUTES) routeConfigs.set(route.path, route.config);
  const inFlight = new Set<RequestState>();
  // One sweep over the requests in flight stands in for a no-progress timer per request: arming,
  // refreshing and clearing a Timeout cost ~4,000 instructions a request, and a refresh per stream
  // event. A request is aborted within a quarter of idleMs (at most a second) after its idleMs.
  const idleSweepMs = Math.max(1, Math.min(1000, Math.floor(o.timeouts.idleMs / 4)));
  let idleSweep: NodeJS.Timeout | undefined;
  const sweepIdle = () => {
    if (inFlight.size === 0) {
      // Nothing to watch: stop, so an idle gateway has no timer waking it; the next request restarts it.
      clearInterval(idleSweep);
      idleSweep = undefined;
      return;
    }
    const now = performance.now();
    for (const state of inFlight) state.abortIfIdle(now);
  };
  let drainWaiters: Array<() => void> = [];
  let draining = false;
  let closing: Promise<void> | undefined;
  let url: string | undefined;

  const { headersMs, requestMs, keepAliveMs } = o.timeouts;
  const nodeServerOptions = {
    headersTimeout: headersMs,
    requestTimeout: requestMs,
    keepAliveTimeout: keepAliveMs,
    // Node checks header/request deadlines on this interval (30 s by default); keep it a
    // fraction of the shortest deadline so a slow client is cut close to its deadline.
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(Math.min(headersMs, requestMs) / 4))),
  };
  const common = {
    bodyLimit: o.bodyLimit,
    // The proxy writes its own single line per request (logRequest), with the pipeline's fields.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: false,
    connectionTimeout: 0,
    keepAliveTimeout: keepAliveMs,
    requestTimeout: requestMs,
    requestIdHeader: false as const,
    genReqId: (req: IncomingMessage) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : generateRequestId();
    },
    trustProxy: o.trustProxy,
    clientErrorHandler: onClientError,
    routerOptions: { ignoreTrailingSlash: true },
    loggerInstance: o.logger as FastifyBaseLogger | undefined,
    childLoggerFactory: (
      logger: FastifyBaseLogger,
      bindings: Record<string, unknown>,
      options: Parameters<FastifyBaseLogger['child']>[1],
    ): FastifyBaseLogger => new DeferredChildLogger(logger, bindings, options),
  };
  const app: FastifyInstance =
    o.tls === undefined
      ? Fastify({ ...common, http: nodeServerOptions })
      : // The HTTPS instance differs only in its server type; everything used here is common to both.
        (Fastify({ ...common, https: { ...nodeServerOptions, ...o.tls } }) as unknown as FastifyInstance);

  // Fastify applies only some server options itself; set the rest on the server it made.
  app.server.headersTimeout = headersMs;

  function finishRequest(state: RequestState, res: ServerResponse): void {
    if (state.finished) return;
    state.finished = true;
    state.stopIdleClock();
    const clientClosed = !res.writableFinished;
    if (clientClosed) {
      state.abort(new ProxyError('LLM_EDGE_PROXY_CLIENT_CLOSED', 'The client closed the connection.'));
    }
    const signal = state.signal;
    if (signal.aborted && state.errorCode === undefined) {
      const reason: unknown = signal.reason;
      state.errorCode = ProxyError.isInstance(reason) ? reason.code : 'LLM_EDGE_PROXY_CLIENT_CLOSED';
    }
    const now = clock();
    const status = state.forcedStatus ?? (clientClosed && !state.headersSent ? 499 : res.statusCode);
    const latencyMs = now - state.receivedAt;
    const overheadMs = state.overheadMs(now);
    const a = state.annotations;

    if (state.kind !== 'ops') {
      metrics.recordRequest({
        route: state.routeName,
        provider: a.provider,
        model: a.model,
        status,
        durationMs: latencyMs,
      });
      if (state.kind === 'api') metrics.recordOverhead({ route: state.routeName, overheadMs });
      if (state.firstEventAt !== undefined) {
        metrics.recordTimeToFirstToken({
          route: state.routeName,
          provider: a.provider,
          model: a.model,
          ttftMs: state.firstEventAt - state.receivedAt,
        });
      }
    }
    if (state.errorCode !== undefined) metrics.recordError({ code: state.errorCode, route: state.routeName });
    state.span?.endWithStatus(status);

    if (logging && (state.kind !== 'ops' || o.logHealthChecks)) {
      logRequest(
        logger,
        {
          requestId: state.requestId,
          route: state.routeName,
          status,
          latencyMs,
          ttftMs: state.firstEventAt === undefined ? undefined : state.firstEventAt - state.receivedAt,
          overheadMs: state.kind === 'api' ? overheadMs : undefined,
          clientIp: state.clientIp,
          stream: state.streamed || a.stream,
          keyName: a.keyName,
          provider: a.provider,
          model: a.model,
          target: a.target,
          inputTokens: a.inputTokens,
          outputTokens: a.outputTokens,
          cachedInputTokens: a.cachedInputTokens,
          costUsd: a.costUsd,
          cache: a.cache,
          attempts: a.attempts,
          errorCode: state.errorCode,
          error: status >= 500 ? state.error : undefined,
        },
        { onFailure: () => metrics.recordTelemetryFailure('logging') },
      );
    }

    inFlight.delete(state);
    if (inFlight.size === 0 && drainWaiters.length > 0) {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  function onClientError(error: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const state = stateOf(socket);
    let proxyError: ProxyError;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      proxyError = new ProxyError('LLM_EDGE_PROXY_REQUEST_TIMEOUT', 'The request was not received in time.', {
        cause: error,
      });
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      proxyError = new ProxyError('LLM_EDGE_PROXY_HEADERS_TOO_LARGE', 'The request headers are too large.', {
        cause: error,
      });
    } else {
      // Malformed HTTP, including header values with bare CR/LF: never parsed, never reflected.
      proxyError = new ProxyError('LLM_EDGE_PROXY_BAD_REQUEST', 'The request is not valid HTTP.', {
        cause: error,
      });
    }
    const requestId = state?.requestId ?? generateRequestId();
    const dialect = state?.dialect ?? dialectOfRawPacket(error.rawPacket);
    const mapped = toErrorResponse(proxyError, { dialect, requestId, mapError });
    if (state !== undefined) {
      state.forcedStatus = mapped.status;
      state.recordError(mapped.code, proxyError);
    } else {
      metrics.recordRequest({ route: 'unparsed', status: mapped.status, durationMs: 0 });
      metrics.recordError({ code: mapped.code, route: 'unparsed' });
      if (logging) {
        logRequest(logger, {
          requestId,
          route: 'unparsed',
          status: mapped.status,
          latencyMs: 0,
          errorCode: mapped.code,
        });
      }
    }
    if (socket.writable && state?.headersSent !== true) {
      const body = JSON.stringify(mapped.payload);
      socket.write(
        `HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status] ?? 'Error'}\r\n` +
          `Content-Type: ${JSON_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  }

  /** Writes a complete JSON response straight to the socket, with the request's headers. */
  function writeJson(
    state: RequestState,
    reply: FastifyReply,
    status: number,
    text: string | Uint8Array,
  ): void {
    state.stopIdleClock();
    state.headersSent = true;
    const headers = state.responseHeaders;
    headers['content-type'] = JSON_CONTENT_TYPE;
    headers['content-length'] = String(typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength);
    if (state.kind === 'api') headers['x-llm-edge-overhead-ms'] = state.overheadMs().toFixed(3);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(status, headers);
    res.end(text);
  }

  /** The one path from a thrown value to a response. */
  function sendError(state: RequestState, reply: FastifyReply, error: unknown): void {
    // When the proxy aborted the handler, its own reason explains the failure better than
    // whatever the handler threw on seeing the abort.
    const reason: unknown = state.signal.aborted ? state.signal.reason : error;
    const mapped = toErrorResponse(reason, { dialect: state.dialect, requestId: state.requestId, mapError });
    state.recordError(mapped.code, reason);
    if (reply.raw.destroyed || reply.raw.headersSent) {
      reply.hijack();
      if (!reply.raw.destroyed) reply.raw.destroy();
      return;
    }
    Object.assign(state.responseHeaders, mapped.headers);
    writeJson(state, reply, mapped.status, JSON.stringify(mapped.payload));
  }

  async function streamEvents(
    state: RequestState,
    reply: FastifyReply,
    result: Extract<HandlerResult, { kind: 'sse' }>,
  ): Promise<void> {
    const status = resultStatus(result.status);
    const iterator = result.events[Symbol.asyncIterator]();
    const release = () => {
      try {
        Promise.resolve(iterator.return?.()).catch(() => metrics.recordTelemetryFailure('stream-return'));
      } catch {
        metrics.recordTelemetryFailure('stream-return');
      }
    };
    let next: IteratorResult<unknown>;
    try {
      // Headers wait for the first event: a failure before it still gets a real HTTP status.
      next = await state.race(iterator.next());
    } catch (error) {
      release();
      throw error;
    }

    const res = reply.raw;
    state.touch();
    state.headersSent = true;
    state.streamed = true;
    const headers = state.responseHeaders;
    headers['content-type'] = 'text/event-stream; charset=utf-8';
    headers['cache-control'] = 'no-cache';
    headers['x-accel-buffering'] = 'no';
    headers['x-llm-edge-overhead-ms'] = state.overheadMs().toFixed(3);
    reply.hijack();
    res.writeHead(status, headers);

    const dialect = state.dialect;
    try {
      while (next.done !== true) {
        if (res.destroyed) break;
        const frame = formatSseEvent(next.value as Parameters<typeof formatSseEvent>[0], dialect);
        if (state.firstEventAt === undefined) state.firstEventAt = clock();
        if (!res.write(frame)) await state.waitForDrain(res);
        if (res.destroyed) break;
        if (state.signal.aborted) throw state.signal.reason;
        state.touch();
        next = await state.race(iterator.next());
      }
      if (res.destroyed) {
        release();
        return;
      }
      if (dialect === 'openai' && result.done !== false) res.write(OPENAI_DONE_FRAME);
      res.end();
    } catch (error) {
      release();
      const reason: unknown = state.signal.aborted ? state.signal.reason : error;
      const mapped = toErrorResponse(reason, { dialect, requestId: state.requestId, mapError });
      state.recordError(mapped.code, reason);
      if (!res.destroyed && !res.writableEnded) {
        // A client that stopped reading cannot receive a final event; cut it off instead.
        if (res.writableNeedDrain) res.destroy();
        else res.end(formatSseError(mapped, dialect));
      }
    } finally {
      state.stopIdleClock();
    }
  }

  async function runApiRoute(
    request: FastifyRequest,
    reply: FastifyReply,
    handlerName: keyof Omit<ProxyHandlers, 'readiness'>,
  ): Promise<void> {
    const state = stateOf(request)!;
    if (request.method === 'POST') {
      if (!isPlainObject(request.body)) {
        throw new ProxyError('LLM_EDGE_PROXY_INVALID_BODY', 'The request body must be a JSON object.');
      }
      state.body = request.body;
    }
    state.touch();
    const handler = handlers[handlerName] as RouteHandler;
    const pending = runWithContext(state.traceContext, () => {
      try {
        return Promise.resolve(handler(state as ProxyContext<Record<string, unknown>>));
      } catch (error) {
        return Promise.reject(error);
      }
    });
    const result: unknown = await state.race(pending);
    if (!isHandlerResult(result)) {
      throw new ProxyError(
        'LLM_EDGE_PROXY_INVALID_HANDLER_RESULT',
        `The ${handlerName} handler returned something other than a HandlerResult.`,
      );
    }
    if (result.headers !== undefined) {
      for (const [name, value] of Object.entries(result.headers)) state.setHeader(name, value);
    }
    if (result.kind === 'sse') {
      await streamEvents(state, reply, result);
      return;
    }
    const status = resultStatus(result.status);
    let text: string | Uint8Array;
    if (result.kind === 'json-text') {
      text = result.text;
    } else {
      try {
        text = JSON.stringify(result.body) ?? 'null';
      } catch (cause) {
        throw new ProxyError(
          'LLM_EDGE_PROXY_INVALID_HANDLER_RESULT',
          'The handler result is not serializable.',
          {
            cause,
          },
        );
      }
    }
    writeJson(state, reply, status, text);
  }

  async function readiness(): Promise<ReadinessReport> {
    const timeout = cancellableDelay(o.readinessTimeoutMs);
    try {
      const report = await Promise.race([
        Promise.resolve().then(() => handlers.readiness()),
        timeout.promise.then(() => {
          throw new ProxyError('LLM_EDGE_PROXY_IDLE_TIMEOUT', 'readiness check timed out');
        }),
      ]);
      if (!isPlainObject(report) || typeof report['ready'] !== 'boolean') {
        throw new ProxyError(
          'LLM_EDGE_PROXY_INVALID_HANDLER_RESULT',
          'readiness() must return { ready: boolean }',
        );
      }
      return report;
    } catch (error) {
      metrics.recordError({ code: 'readiness_failed', route: 'readyz' });
      const detail = ProxyError.isInstance(error) ? error.message : 'readiness check failed';
      const checks: Record<string, ReadinessCheck> = { readiness: { ok: false, detail } };
      return { ready: false, checks };
    } finally {
      timeout.cancel();
    }
  }

  // ---- Fastify wiring --------------------------------------------------------------------

  // Declared up front so every request object has the slot from construction (one shape).
  app.decorateRequest(STATE, null);
  app.removeAllContentTypeParsers();
  // Every POST route speaks JSON whatever the content-type says (curl -d sends form encoding).
  const parseJsonBody = (
    request: FastifyRequest,
    body: string | Buffer,
    done: (error: Error | null, value?: unknown) => void,
  ): void => {
    const state = stateOf(request);
    if (state !== undefined) {
      // Node's parser holds a body to its content-length, so only a chunked body is measured.
      const declared = Number(request.headers['content-length']);
      state.bodyBytes =
        Number.isSafeInteger(declared) && declared >= 0 ? declared : Buffer.byteLength(body as string);
    }
    try {
      const text = body as string;
      done(
        null,
        needsSecureParse(text)
          ? secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
          : JSON.parse(text),
      );
    } catch (cause) {
      done(
        new ProxyError('LLM_EDGE_PROXY_INVALID_JSON', 'The request body is not valid JSON.', { cause }),
        undefined,
      );
    }
  };
  // Registered by name as well as for '*': Fastify remembers the parser it found for a
  // content-type only when a named parser matched, so with the catch-all alone it re-parsed the
  // header of every request (a regular expression and a parameters map each time).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJsonBody);

  app.addHook('onRequest', (request, reply, done) => {
    const raw = request.raw;
    const path = pathOf(raw.url ?? '/');
    // Fastify builds a new routeOptions object on every read: read it once.
    const routeUrl = request.routeOptions.url;
    const matched = routeUrl === undefined ? undefined : routeConfigs.get(routeUrl);
    const config =
      matched ?? (dialectOf(path, raw.headers) === 'anthropic' ? UNMATCHED_ANTHROPIC : UNMATCHED);
    const receivedAt = clock();
    const clientIp = request.ip;
    const span =
      config.kind === 'ops'
        ? undefined
        : tracing.startRequestSpan({
            method: request.method,
            route: routeUrl ?? config.routeName,
            headers: raw.headers,
            requestId: request.id,
            clientAddress: clientIp,
          });
    const state = new RequestState(
      {
        requestId: request.id,
        route: config.route,
        routeName: config.routeName,
        kind: config.kind,
        dialect: config.dialect,
        method: request.method,
        path,
        query: request.query as Record<string, string | string[] | undefined>,
        headers: raw.headers,
        clientIp,
        receivedAt,
        traceContext: span?.context ?? ROOT_CONTEXT,
        span,
      },
      env,
    );
    setState(request, state);
    setState(raw.socket, state);
    inFlight.add(state);
    if (idleSweep === undefined) {
      idleSweep = setInterval(sweepIdle, idleSweepMs);
      idleSweep.unref();
    }
    const res = reply.raw;
    const releaseInFlight = config.kind === 'api' ? metrics.trackInFlight(config.routeName) : undefined;
    res.once('close', () => {
      releaseInFlight?.();
      if (stateOf(raw.socket) === state) setState(raw.socket, undefined);
      finishRequest(state, res);
    });
    if (draining) {
      done(
        new ProxyError(
          'LLM_EDGE_PROXY_SHUTTING_DOWN',
          'The gateway is shutting down; retry on another instance.',
          { expose: true },
        ),
      );
      return;
    }
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const state = stateOf(request);
    if (state === undefined) {
      // Only reachable if Fastify fails before onRequest; answer without per-request state.
      const mapped = toErrorResponse(error, {
        dialect: dialectOf(pathOf(request.url), request.headers),
        requestId: request.id,
        mapError,
      });
      reply
        .code(mapped.status)
        .headers(mapped.headers)
        .type(JSON_CONTENT_TYPE)
        .send(JSON.stringify(mapped.payload));
      return;
    }
    sendError(state, reply, error);
  });

  const knownPaths = new Map<string, string[]>();
  for (const route of API_ROUTES) knownPaths.set(route.path, [route.method]);
  for (const path of ['/healthz', '/readyz', ...(o.exposeMetrics ? ['/metrics'] : [])])
    knownPaths.set(path, ['GET', 'HEAD']);

  app.setNotFoundHandler((request, reply) => {
    const state = stateOf(request)!;
    const path = state.path.length > 1 && state.path.endsWith('/') ? state.path.slice(0, -1) : state.path;
    const allowed = knownPaths.get(path);
    if (allowed !== undefined) {
      state.responseHeaders['allow'] = allowed.join(', ');
      sendError(
        state,
        reply,
        new ProxyError('LLM_EDGE_PROXY_METHOD_NOT_ALLOWED', `Use ${allowed[0]} ${path}.`),
      );
      return;
    }
    sendError(
      state,
      reply,
      new ProxyError('LLM_EDGE_PROXY_NOT_FOUND', `Unknown route ${request.method} ${path}.`),
    );
  });

  for (const route of API_ROUTES) {
    app.route({
      method: route.method,
      url: route.path,
      handler: (request, reply) => runApiRoute(request, reply, route.handler),
    });
  }

  app.get('/healthz', async (request, reply) => {
    writeJson(stateOf(request)!, reply, 200, '{"status":"ok"}');
  });

  app.get('/readyz', async (request, reply) => {
    const state = stateOf(request)!;
    if (draining) {
      writeJson(state, reply, 503, '{"status":"draining"}');
      return;
    }
    const report = await readiness();
    const body: { status: string; checks?: ReadinessReport['checks'] } = {
      status: report.ready ? 'ready' : 'not_ready',
    };
    if (report.checks !== undefined) body.checks = report.checks;
    let text: string;
    try {
      text = JSON.stringify(body);
    } catch {
      text = JSON.stringify({ status: report.ready ? 'ready' : 'not_ready' });
    }
    writeJson(state, reply, report.ready ? 200 : 503, text);
  });

  if (o.exposeMetrics) {
    app.get('/metrics', async (request, reply) => {
      const state = stateOf(request)!;
      const text = await metrics.render();
      state.stopIdleClock();
      state.headersSent = true;
      reply.hijack();
      reply.raw.writeHead(200, {
        ...state.responseHeaders,
        'content-type': metrics.contentType,
        'content-length': String(Buffer.byteLength(text)),
      });
      reply.raw.end(text);
    });
  }

  function waitDrained(): Promise<void> {
    if (inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => drainWaiters.push(resolve));
  }

  return {
    async listen(listenOptions = {}) {
      await app.listen({ port: listenOptions.port ?? 0, host: listenOptions.host ?? '127.0.0.1' });
      const address = app.server.address() as AddressInfo;
      url = `${o.tls === undefined ? 'http' : 'https'}://${formatHost(address.address)}:${address.port}`;
      return url;
    },
    close(closeOptions = {}) {
      closing ??= (async () => {
        const deadlineMs = closeOptions.deadlineMs ?? o.shutdownDeadlineMs;
        draining = true;
        const closed = app.close();
        if (inFlight.size > 0) {
          const deadline = cancellableDelay(deadlineMs);
          const drainedInTime = await Promise.race([
            waitDrained().then(() => true),
            deadline.promise.then(() => false),
          ]);
          deadline.cancel();
          if (!drainedInTime) {
            const reason = new ProxyError('LLM_EDGE_PROXY_SHUTTING_DOWN', 'The gateway is shutting down.', {
              expose: true,
            });
            for (const state of inFlight) state.abort(reason);
            const grace = cancellableDelay(Math.min(1000, deadlineMs));
            await Promise.race([waitDrained(), grace.promise]);
            grace.cancel();
          }
        }
        // Nothing is in flight any more: connections left open are idle keep-alives (or
        // handlers that ignored the abort) and must not hold the shutdown up.
        app.server.closeAllConnections();
        await closed;
        clearInterval(idleSweep);
        idleSweep = undefined;
      })();
      return closing;
    },
    get url() {
      if (url === undefined) throw new ProxyError('LLM_EDGE_PROXY_NOT_LISTENING', 'Call listen() first.');
      return url;
    },
    get server() {
      return app.server;
    },
    app,
    metrics,
    get inFlight() {
      return inFlight.size;
    },
  };
}
