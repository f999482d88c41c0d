import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { GatewayMetrics, GenAiTracing, Logger } from '@llm-edge/monitoring';
import type { ErrorMapper } from './error-mapping';
import { InvalidProxyOptionError } from './errors';
import type { ProxyHandlers } from './handlers';

/** Server timeouts, in milliseconds. */
export interface ProxyTimeouts {
  /**
   * Longest time to receive a request's headers (slow-loris guard); answered 408.
   * @default 10000
   */
  headersMs?: number;
  /**
   * Longest time to receive a whole request, headers and body; answered 408. Must be ≥ `headersMs`.
   * @default 60000
   */
  requestMs?: number;
  /**
   * Longest time without progress while responding: before a JSON handler settles, and between
   * stream events or socket drains. Then the handler's signal aborts with
   * `LLM_EDGE_PROXY_IDLE_TIMEOUT` and the client gets 504 (or a final error event). Requests in
   * flight are checked every quarter of `idleMs` (at most every second), so the abort comes up to
   * that much later.
   * @default 300000
   */
  idleMs?: number;
  /**
   * How long an idle keep-alive connection stays open; keep it above your load balancer's.
   * @default 72000
   */
  keepAliveMs?: number;
}

/** TLS material: PEM contents, or paths to PEM files. */
export interface ProxyTlsOptions {
  /** Certificate chain: PEM text, a Buffer, or a file path. */
  cert: string | Buffer;
  /** Private key: PEM text, a Buffer, or a file path. */
  key: string | Buffer;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
}

/** Options of {@link createProxyServer}. */
export interface ProxyServerOptions {
  /** The request pipeline. Required. */
  handlers: ProxyHandlers;
  /**
   * pino logger for the one line per request (and Fastify's own messages).
   * @default no logging
   */
  logger?: Logger;
  /**
   * Metrics the proxy records into and serves on `/metrics`.
   * @default createMetrics() on a fresh registry
   */
  metrics?: GatewayMetrics;
  /**
   * Tracing helpers; a SERVER span is started per API request.
   * @default createGenAiTracing() (no-op until the application registers an OpenTelemetry SDK)
   */
  tracing?: GenAiTracing;
  /**
   * Largest request body in bytes; larger ones get 413 without being read further.
   * @default 10485760 (10 MiB, room for base64 images)
   */
  bodyLimit?: number;
  /** @default see {@link ProxyTimeouts} */
  timeouts?: ProxyTimeouts;
  /**
   * Serve HTTPS with this certificate and key.
   * @default undefined (plain HTTP)
   */
  tls?: ProxyTlsOptions;
  /**
   * How long `close()` lets in-flight requests and streams finish before aborting them.
   * @default 10000
   */
  shutdownDeadlineMs?: number;
  /**
   * Trust `X-Forwarded-For` for the client address (Fastify `trustProxy`: `true`, or the proxies' addresses/CIDRs).
   * @default false
   */
  trustProxy?: boolean | string | string[];
  /**
   * Serve `GET /metrics` from `metrics.registry`.
   * @default true
   */
  exposeMetrics?: boolean;
  /**
   * Longest wait for `handlers.readiness()`; a slower answer counts as not ready.
   * @default 2000
   */
  readinessTimeoutMs?: number;
  /**
   * Also log `/healthz`, `/readyz` and `/metrics` requests.
   * @default false
   */
  logHealthChecks?: boolean;
  /**
   * Monotonic clock in milliseconds, used for latency and overhead.
   * @default performance.now
   */
  clock?: () => number;
  /**
   * Generates request ids when the client sent no usable `x-request-id`.
   * @default crypto.randomUUID
   */
  generateRequestId?: () => string;
  /**
   * Extra error mapping applied before the default (see `HttpErrorLike`); return `undefined` to
   * keep the default.
   * @default undefined
   */
  mapError?: ErrorMapper;
}

/** Defaults of {@link ProxyServerOptions}. */
export const DEFAULT_PROXY_SERVER_OPTIONS = Object.freeze({
  bodyLimit: 10 * 1024 * 1024,
  timeouts: Object.freeze({ headersMs: 10_000, requestMs: 60_000, idleMs: 300_000, keepAliveMs: 72_000 }),
  shutdownDeadlineMs: 10_000,
  trustProxy: false as boolean | string | string[],
  exposeMetrics: true,
  readinessTimeoutMs: 2_000,
  logHealthChecks: false,
});

/** Options after validation, with defaults applied. */
export interface ResolvedProxyOptions {
  handlers: ProxyHandlers;
  logger: Logger | undefined;
  metrics: GatewayMetrics | undefined;
  tracing: GenAiTracing | undefined;
  bodyLimit: number;
  timeouts: Required<ProxyTimeouts>;
  tls: { cert: Buffer; key: Buffer; passphrase?: string } | undefined;
  shutdownDeadlineMs: number;
  trustProxy: boolean | string | string[];
  exposeMetrics: boolean;
  readinessTimeoutMs: number;
  logHealthChecks: boolean;
  clock: () => number;
  generateRequestId: (() => string) | undefined;
  mapError: ErrorMapper | undefined;
}

const HANDLER_NAMES = ['chatCompletions', 'embeddings', 'models', 'anthropicMessages', 'readiness'] as const;

function positiveInteger(field: string, value: unknown, fallback: number): number {
  const resolved = value ?? fallback;
  if (typeof resolved !== 'number' || !Number.isInteger(resolved) || resolved <= 0) {
    throw new InvalidProxyOptionError(field, `expected a positive integer, got ${String(resolved)}`);
  }
  return resolved;
}

function optionalFunction<T>(field: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidProxyOptionError(field, 'expected a function');
  }
  return value;
}

function pem(field: string, value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidProxyOptionError(field, 'expected PEM text, a Buffer or a file path');
  }
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  try {
    return readFileSync(value);
  } catch (cause) {
    throw new InvalidProxyOptionError(field, `cannot read the file ${JSON.stringify(value)}`, { cause });
  }
}

/** Validates options once, naming the bad field, and applies defaults. */
export function resolveProxyOptions(options: ProxyServerOptions): ResolvedProxyOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidProxyOptionError('options', 'expected an object');
  }
  const handlers = options.handlers;
  if (typeof handlers !== 'object' || handlers === null) {
    throw new InvalidProxyOptionError('handlers', 'expected an object with the route handlers');
  }
  for (const name of HANDLER_NAMES) {
    if (typeof handlers[name] !== 'function') {
      throw new InvalidProxyOptionError(`handlers.${name}`, 'expected a function');
    }
  }
  const defaults = DEFAULT_PROXY_SERVER_OPTIONS.timeouts;
  const timeouts = options.timeouts ?? {};
  if (typeof timeouts !== 'object' || timeouts === null) {
    throw new InvalidProxyOptionError('timeouts', 'expected an object');
  }
  const resolvedTimeouts: Required<ProxyTimeouts> = {
    headersMs: positiveInteger('timeouts.headersMs', timeouts.headersMs, defaults.headersMs),
    requestMs: positiveInteger('timeouts.requestMs', timeouts.requestMs, defaults.requestMs),
    idleMs: positiveInteger('timeouts.idleMs', timeouts.idleMs, defaults.idleMs),
    keepAliveMs: positiveInteger('timeouts.keepAliveMs', timeouts.keepAliveMs, defaults.keepAliveMs),
  };
  if (resolvedTimeouts.requestMs < resolvedTimeouts.headersMs) {
    throw new InvalidProxyOptionError(
      'timeouts.requestMs',
      'must be greater than or equal to timeouts.headersMs',
    );
  }

  let tls: ResolvedProxyOptions['tls'];
  if (options.tls !== undefined) {
    if (typeof options.tls !== 'object' || options.tls === null) {
      throw new InvalidProxyOptionError('tls', 'expected { cert, key }');
    }
    tls = { cert: pem('tls.cert', options.tls.cert), key: pem('tls.key', options.tls.key) };
    if (options.tls.passphrase !== undefined) {
      if (typeof options.tls.passphrase !== 'string')
        throw new InvalidProxyOptionError('tls.passphrase', 'expected a string');
      tls.passphrase = options.tls.passphrase;
    }
  }

  const trustProxy = options.trustProxy ?? DEFAULT_PROXY_SERVER_OPTIONS.trustProxy;
  const trustProxyValid =
    typeof trustProxy === 'boolean' ||
    typeof trustProxy === 'string' ||
    (Array.isArray(trustProxy) && trustProxy.every((entry) => typeof entry === 'string'));
  if (!trustProxyValid) {
    throw new InvalidProxyOptionError('trustProxy', 'expected a boolean, an address or a list of addresses');
  }

  for (const field of ['exposeMetrics', 'logHealthChecks'] as const) {
    if (options[field] !== undefined && typeof options[field] !== 'boolean') {
      throw new InvalidProxyOptionError(field, 'expected a boolean');
    }
  }
  const metrics = options.metrics;
  if (metrics !== undefined && (typeof metrics !== 'object' || typeof metrics.recordRequest !== 'function')) {
    throw new InvalidProxyOptionError('metrics', 'expected GatewayMetrics from createMetrics()');
  }
  const tracing = options.tracing;
  if (
    tracing !== undefined &&
    (typeof tracing !== 'object' || typeof tracing.startRequestSpan !== 'function')
  ) {
    throw new InvalidProxyOptionError('tracing', 'expected GenAiTracing from createGenAiTracing()');
  }
  const logger = options.logger;
  if (logger !== undefined && (typeof logger !== 'object' || typeof logger.child !== 'function')) {
    throw new InvalidProxyOptionError('logger', 'expected a pino logger');
  }

  return {
    handlers,
    logger,
    metrics,
    tracing,
    bodyLimit: positiveInteger('bodyLimit', options.bodyLimit, DEFAULT_PROXY_SERVER_OPTIONS.bodyLimit),
    timeouts: resolvedTimeouts,
    tls,
    shutdownDeadlineMs: positiveInteger(
      'shutdownDeadlineMs',
      options.shutdownDeadlineMs,
      DEFAULT_PROXY_SERVER_OPTIONS.shutdownDeadlineMs,
    ),
    trustProxy,
    exposeMetrics: options.exposeMetrics ?? DEFAULT_PROXY_SERVER_OPTIONS.exposeMetrics,
    readinessTimeoutMs: positiveInteger(
      'readinessTimeoutMs',
      options.readinessTimeoutMs,
      DEFAULT_PROXY_SERVER_OPTIONS.readinessTimeoutMs,
    ),
    logHealthChecks: options.logHealthChecks ?? DEFAULT_PROXY_SERVER_OPTIONS.logHealthChecks,
    clock: optionalFunction('clock', options.clock) ?? (() => performance.now()),
    generateRequestId: optionalFunction('generateRequestId', options.generateRequestId),
    mapError: optionalFunction('mapError', options.mapError),
  };
}
