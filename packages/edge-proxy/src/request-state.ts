import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Context, GatewayMetrics, Logger, RequestSpan } from '@llm-edge/monitoring';
import type { ApiDialect } from './error-mapping';
import { ProxyError } from './errors';
import type { ProxyContext, ProxyRoute, RequestAnnotations } from './handlers';
import { IntervalUpstreamTimer } from './upstream-timer';

/** How a request is accounted: API routes, operational routes, or no route at all. */
export type RouteKind = 'api' | 'ops' | 'unmatched';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
// Visible ASCII, space and tab only: no CR, LF, NUL or other controls, so nothing can split a header.
const HEADER_VALUE = /^[\t\x20-\x7e]{0,8192}$/;
const PROTECTED_HEADERS = new Set([
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'trailer',
  'set-cookie',
  'x-request-id',
  'request-id',
  'x-llm-edge-overhead-ms',
]);

/** Checks a header a handler or an error wants to send; `undefined` means refuse it. */
export function safeHeader(name: string, value: string | number): [string, string] | undefined {
  if (typeof name !== 'string' || !HEADER_NAME.test(name)) return undefined;
  const lower = name.toLowerCase();
  if (PROTECTED_HEADERS.has(lower)) return undefined;
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : undefined) : value;
  if (typeof text !== 'string' || !HEADER_VALUE.test(text)) return undefined;
  return [lower, text];
}

/** Server-wide collaborators each request state needs. */
export interface RequestEnvironment {
  clock: () => number;
  idleMs: number;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** Fields fixed when a request arrives. */
export interface RequestInit {
  requestId: string;
  route: ProxyRoute | undefined;
  routeName: string;
  kind: RouteKind;
  dialect: ApiDialect;
  method: string;
  path: string;
  query: Readonly<Record<string, string | string[] | undefined>>;
  headers: Readonly<IncomingHttpHeaders>;
  clientIp: string;
  receivedAt: number;
  traceContext: Context;
  span: RequestSpan | undefined;
}

/** The proxy's record of one request, and the {@link ProxyContext} handed to its handler. */
export class RequestState implements ProxyContext<Record<string, unknown> | undefined> {
  readonly requestId: string;
  readonly routeName: string;
  readonly kind: RouteKind;
  readonly dialect: ApiDialect;
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  readonly headers: Readonly<IncomingHttpHeaders>;
  readonly clientIp: string;
  readonly receivedAt: number;
  readonly traceContext: Context;
  readonly span: RequestSpan | undefined;
  readonly upstream: IntervalUpstreamTimer;
  readonly annotations: RequestAnnotations = {};
  readonly responseHeaders: Record<string, string>;
  body: Record<string, unknown> | undefined = undefined;
  bodyBytes: number | undefined = undefined;
  /** Time spent waiting for a slow client's socket to drain, excluded from overhead. */
  clientWaitMs = 0;
  /** Clock reading when the first stream event was written. */
  firstEventAt: number | undefined;
  headersSent = false;
  streamed = false;
  /** Status decided outside the response (e.g. a 408 written straight to the socket). */
  forcedStatus: number | undefined;
  errorCode: string | undefined;
  error: unknown;
  finished = false;

  private readonly controller = new AbortController();
  private readonly routeValue: ProxyRoute | undefined;
  /** When the no-progress clock last restarted; undefined while it is stopped. */
  private idleSince: number | undefined;
  /** Rejections of the races waiting on the abort signal (see {@link RequestState.race}). */
  private racers: Set<(reason: unknown) => void> | undefined;
  private childLogger: Logger | undefined;

  constructor(
    init: RequestInit,
    private readonly env: RequestEnvironment,
  ) {
    this.requestId = init.requestId;
    this.routeValue = init.route;
    this.routeName = init.routeName;
    this.kind = init.kind;
    this.dialect = init.dialect;
    this.method = init.method;
    this.path = init.path;
    this.query = init.query;
    this.headers = init.headers;
    this.clientIp = init.clientIp;
    this.receivedAt = init.receivedAt;
    this.traceContext = init.traceContext;
    this.span = init.span;
    this.upstream = new IntervalUpstreamTimer(env.clock);
    this.responseHeaders = { 'x-request-id': init.requestId };
    if (init.dialect === 'anthropic') this.responseHeaders['request-id'] = init.requestId;
  }

  get route(): ProxyRoute {
    // Handlers only ever see API requests, which always have a route.
    return this.routeValue as ProxyRoute;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get logger(): Logger {
    this.childLogger ??= this.env.logger.child({ reqId: this.requestId });
    return this.childLogger;
  }

  setHeader(name: string, value: string | number): boolean {
    const header = this.headersSent ? undefined : safeHeader(name, value);
    if (header === undefined) {
      this.env.metrics.recordError({ code: 'LLM_EDGE_PROXY_INVALID_HEADER', route: this.routeName });
      this.env.logger.warn(
        { reqId: this.requestId, header: typeof name === 'string' ? name.slice(0, 64) : typeof name },
        this.headersSent
          ? 'response header set after headers were sent; ignored'
          : 'unsafe response header refused',
      );
      return false;
    }
    this.responseHeaders[header[0]] = header[1];
    return true;
  }

  annotate(fields: RequestAnnotations): void {
    Object.assign(this.annotations, fields);
    if (fields.target !== undefined) this.setHeader('x-llm-edge-target', fields.target);
    if (fields.cache !== undefined) this.setHeader('x-llm-edge-cache', fields.cache);
  }

  /** Aborts the handler's signal once, with `reason` (a ProxyError naming why). */
  abort(reason: ProxyError): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    // The controller is private and this is the only place it aborts, so pending races are
    // rejected here rather than through a listener on the signal (one listener added and removed
    // per request, on every request, for an event most requests never see).
    const racers = this.racers;
    if (racers !== undefined) {
      for (const reject of racers) reject(reason);
      racers.clear();
    }
  }

  /**
   * Starts (or restarts) the no-progress clock. The server's idle sweep (not a timer per request)
   * aborts the request once the clock has run `idleMs`; see {@link RequestState.abortIfIdle}.
   */
  touch(): void {
    if (this.finished) return;
    // Real time, not the injected clock (which is for latency and overhead figures).
    this.idleSince = performance.now();
  }

  stopIdleClock(): void {
    this.idleSince = undefined;
  }

  /**
   * Aborts with `LLM_EDGE_PROXY_IDLE_TIMEOUT` when the no-progress clock has run `idleMs` by `now`
   * (a `performance.now()` reading).
   */
  abortIfIdle(now: number): void {
    const since = this.idleSince;
    if (since === undefined || now - since < this.env.idleMs) return;
    this.idleSince = undefined;
    this.abort(
      new ProxyError(
        'LLM_EDGE_PROXY_IDLE_TIMEOUT',
        `No progress for ${this.env.idleMs} ms; the request was abandoned.`,
        { expose: true },
      ),
    );
  }

  /** Settles with `promise`, or rejects with the abort reason as soon as the signal aborts. */
  race<T>(promise: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) {
      promise.then(undefined, () => undefined);
      return Promise.reject(signal.reason);
    }
    // abort() rejects every pending race; no listener on the signal per race (once per stream
    // chunk), which cost more than the race itself.
    this.racers ??= new Set();
    const racers = this.racers;
    return new Promise<T>((resolve, reject) => {
      racers.add(reject);
      promise.then(
        (value) => {
          racers.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          racers.delete(reject);
          reject(error);
        },
      );
    });
  }

  /**
   * Waits until a slow client drains the socket, it closes, or the signal aborts; the time counts
   * as client wait, not gateway overhead.
   */
  async waitForDrain(res: ServerResponse): Promise<void> {
    const start = this.env.clock();
    const signal = this.controller.signal;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
      signal.addEventListener('abort', done, { once: true });
    });
    this.clientWaitMs += this.env.clock() - start;
  }

  /** Gateway overhead so far: elapsed time minus upstream and client waits. */
  overheadMs(now: number = this.env.clock()): number {
    return Math.max(0, now - this.receivedAt - this.upstream.waitedMs - this.clientWaitMs);
  }

  recordError(code: string, error: unknown): void {
    this.errorCode = code;
    this.error = error;
  }
}
