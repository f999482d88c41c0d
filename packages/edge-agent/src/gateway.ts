import { type Cache, createCache, createKeyGenerator } from '@llm-edge/cache';
import type { RedisStore } from '@llm-edge/cache/redis';
import {
  createGenAiTracing,
  createLogger,
  createMetrics,
  type DestinationStream,
  type GatewayMetrics,
  type Logger,
} from '@llm-edge/monitoring';
import { findModel } from '@llm-edge/providers';
import { createProxyServer, type ProxyServer, type ReadinessReport } from '@llm-edge/proxy';
import { exponentialJitterBackoff } from '@llm-edge/retry';
import { Router } from '@llm-edge/routing';
import {
  type ApiKeyEntry,
  ApiKeyStore,
  generateApiKey,
  hashApiKey,
  PiiScanner,
  preloadTokenizer,
  RateLimiter,
  RequestValidator,
  SecurityGuard,
  SpendLedger,
} from '@llm-edge/security';
import type { Simulator } from '@llm-edge/simulator';
import { AttemptTracer } from './attempt-tracing';
import { type Env, type GatewayConfigInput, isValidatedConfig, parseConfig } from './config-loader';
import type { GatewayConfig } from './config-schema';
import { AgentError } from './errors';
import { Pipeline } from './pipeline';
import { createProviderFromConfig, type GatewayProvider, upstreamEndpoint } from './provider-factory';
import type { RedisConnection, RedisState } from './redis-connection';
import type { TraceExport } from './trace-export';

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /**
   * Environment for `${VAR}` interpolation when `config` is not validated yet.
   * @default process.env
   */
  env?: Env;
  /**
   * Where the config came from, shown by `/readyz`.
   * @default 'inline'
   */
  source?: string;
  /**
   * Logger for the request lines and the gateway's own messages.
   * @default createLogger({ level: config.telemetry.logLevel, destination })
   */
  logger?: Logger;
  /**
   * Where the default logger writes.
   * @default standard output
   */
  logDestination?: DestinationStream;
  /**
   * The development key used when authentication is on and no key is configured.
   * @default env.LLM_EDGE_DEV_KEY, else a freshly generated key
   */
  devKey?: string;
}

/** A running (or ready to run) gateway. */
export interface Gateway {
  /** The validated configuration in force. */
  readonly config: GatewayConfig;
  /** Base URL once started, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The development key, when one was generated (no keys configured, authentication on). */
  readonly devKey: string | undefined;
  /** The in-process simulator, when a `type: simulator` provider uses it. */
  readonly simulator: Simulator | undefined;
  /** The Prometheus metrics the gateway records (served on `/metrics`). */
  readonly metrics: GatewayMetrics;
  /** Starts the simulator (if used), connects Redis in the background, listens. */
  start(): Promise<void>;
  /** Drains in-flight requests within `server.shutdownDeadlineMs`, then closes everything. */
  stop(): Promise<void>;
  /** The `/readyz` report. */
  readiness(): ReadinessReport;
}

interface Running {
  proxy: ProxyServer;
  router: Router;
  cache: Cache | undefined;
  redis: RedisConnection | undefined;
  redisStore: RedisStore | undefined;
  providers: GatewayProvider[];
  simulator: Simulator | undefined;
  traceExport: TraceExport | undefined;
  url: string;
}

function usesInProcessSimulator(config: GatewayConfig): boolean {
  return Object.values(config.providers).some((p) => p.type === 'simulator' && p.url === undefined);
}

/**
 * Creates the gateway runtime from a configuration: providers, router, security, cache, metrics,
 * tracing and the HTTP proxy, wired into the request pipeline.
 *
 * @example
 * ```ts
 * const gateway = createGateway({
 *   providers: { sim: { type: 'simulator' } },
 *   targets: [{ id: 'mini', provider: 'sim', model: 'gpt-4o-mini' }],
 *   security: { auth: false },
 * });
 * await gateway.start();
 * const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }) });
 * await gateway.stop();
 * ```
 */
export function createGateway(
  config: GatewayConfigInput | GatewayConfig,
  options: GatewayOptions = {},
): Gateway {
  const env = options.env ?? process.env;
  const resolved = isValidatedConfig(config) ? config : parseConfig(config, env).config;
  const source = options.source ?? 'inline';
  const logger =
    options.logger ??
    createLogger({
      level: resolved.telemetry.logLevel,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
  const metrics = createMetrics({ collectDefaultMetrics: resolved.telemetry.metrics });
  // A bounded destination (createLogDestination) drops lines rather than stall; count each drop.
  const destination = options.logDestination as Partial<NodeJS.EventEmitter> | undefined;
  destination?.on?.('drop', () => metrics.recordTelemetryFailure('logging'));

  const security = resolved.security;
  let devKey: string | undefined;
  if (security.auth && security.keys.length === 0) {
    devKey = options.devKey ?? env.LLM_EDGE_DEV_KEY ?? generateApiKey().key;
  }

  let running: Running | undefined;
  let starting: Promise<void> | undefined;
  let redisState: RedisState = resolved.redis.url ? 'connecting' : 'disabled';

  const readiness = (): ReadinessReport => {
    if (running === undefined) return { ready: false, checks: { config: { ok: true, detail: source } } };
    const health = running.router.health();
    const available = health.targets.filter((t) => t.available).length;
    const total = health.targets.length;
    const l2 = running.redisStore;
    return {
      ready: available > 0,
      checks: {
        config: { ok: true, detail: source },
        targets: { ok: available > 0, detail: { available, total } },
        redis: { ok: redisState === 'up' || redisState === 'disabled', detail: redisState },
        ...(l2 ? { cacheL2: { ok: l2.ready, detail: l2.ready ? 'up' : 'down' } } : {}),
      },
    };
  };

  async function start(): Promise<void> {
    // With a tokens-per-minute limit every request is counted, so the tokenizer's tables (~50 MB,
    // ~0.25 s) load now rather than in the first request; without one, only a prompt near its
    // model's context window needs an exact count, and most gateways never pay for them.
    const security = resolved.security;
    if (
      security.defaults.tpm !== undefined ||
      security.anonymous.tpm !== undefined ||
      security.keys.some((k) => k.tpm !== undefined)
    ) {
      preloadTokenizer();
    }
    const simulator = usesInProcessSimulator(resolved)
      ? // Loaded only when used: the simulator brings its tokenizer tables (~50 MB) with it.
        await (await import('@llm-edge/simulator')).startSimulator({
          port: resolved.simulator.port,
          seed: resolved.simulator.seed,
          timeScale: resolved.simulator.timeScale,
        })
      : undefined;
    // Spans go to this gateway's own exporter when one is configured, else to the global API. The
    // OpenTelemetry SDK and its exporter (~12 MB of RSS with the Redis client) load only then.
    const traceExport =
      resolved.telemetry.tracing.exporter === 'otlp'
        ? (await import('./trace-export')).createTraceExport(resolved.telemetry.tracing, () =>
            metrics.recordTelemetryFailure('trace_export'),
          )
        : undefined;
    const tracing = createGenAiTracing({
      ...(traceExport ? { tracer: traceExport.tracer } : {}),
      onFailure: () => metrics.recordTelemetryFailure('tracing'),
    });
    const attempts = new AttemptTracer(tracing);
    const providers: Record<string, GatewayProvider> = {};
    for (const [name, provider] of Object.entries(resolved.providers)) {
      const created = createProviderFromConfig(name, provider, simulator?.url);
      providers[name] = attempts.wrap(created, upstreamEndpoint(provider, simulator?.url));
    }

    const routing = resolved.routing;
    const router = new Router({
      providers,
      targets: resolved.targets.map((t) => ({
        id: t.id,
        provider: t.provider,
        model: t.model,
        ...(t.weight !== undefined ? { weight: t.weight } : {}),
        ...(t.priority !== undefined ? { priority: t.priority } : {}),
        ...(t.contextWindow !== undefined ? { contextWindow: t.contextWindow } : {}),
        ...(t.usdPerMTok !== undefined ? { usdPerMTok: t.usdPerMTok } : {}),
      })),
      aliases: resolved.aliases.map((a) => ({
        name: a.name,
        targets: a.targets,
        strategy: a.strategy,
        ...(a.hedgeDelayMs !== undefined ? { hedgeDelayMs: a.hedgeDelayMs } : {}),
      })),
      allowDirect: routing.allowDirect,
      defaultStrategy: routing.defaultStrategy,
      retry: {
        maxRetries: routing.retry.maxRetries,
        backoff: exponentialJitterBackoff({
          baseDelayMs: routing.retry.baseDelayMs,
          maxDelayMs: Math.max(routing.retry.baseDelayMs, routing.retry.maxDelayMs),
        }),
      },
      hedge: {
        maxHedges: routing.hedge.maxHedges,
        ...(routing.hedge.delayMs !== undefined ? { delayMs: routing.hedge.delayMs } : {}),
      },
      breaker: routing.breaker,
      cooldown: routing.cooldown,
    });
    router.on('attempt', (event) => {
      const outcome = event.outcome === 'error' ? `error:${event.error?.kind ?? 'unknown'}` : event.outcome;
      metrics.recordUpstreamAttempt({ target: event.target.id, provider: event.target.provider, outcome });
    });
    router.on('stream-end', (event) => {
      if (event.outcome !== 'completed') {
        metrics.recordUpstreamAttempt({
          target: event.target.id,
          provider: event.target.provider,
          outcome:
            event.outcome === 'error' ? `stream_error:${event.error?.kind ?? 'unknown'}` : 'stream_cancelled',
        });
      }
    });
    router.on('breaker', (event) => {
      metrics.setBreakerState({
        target: event.target.id,
        state: event.state === 'isolated' ? 'open' : event.state,
      });
      metrics.setTargetHealth({ target: event.target.id, healthy: event.state === 'closed' });
    });
    for (const target of resolved.targets) metrics.setTargetHealth({ target: target.id, healthy: true });

    let redis: RedisConnection | undefined;
    if (resolved.redis.url) {
      // The Redis client loads only for a config that has Redis.
      const { RedisConnection } = await import('./redis-connection');
      redis = new RedisConnection({
        url: resolved.redis.url,
        connectTimeoutMs: resolved.redis.connectTimeoutMs,
        onError: () => metrics.recordError({ code: 'LLM_EDGE_REDIS_UNAVAILABLE' }),
        onStateChange: (state) => {
          redisState = state;
          logger.warn({ redis: state }, `redis ${state}`);
        },
      });
      await redis.connect();
      redisState = redis.state;
    }

    const prefix = resolved.redis.keyPrefix;
    const countFallback = (event: { scope: string }) =>
      metrics.recordError({ code: `LLM_EDGE_${event.scope.toUpperCase()}_LIMIT_LOCAL_FALLBACK` });
    const keys = security.auth
      ? new ApiKeyStore({
          keys: keyEntries(resolved, devKey),
          ...(security.hashSecret ? { secret: security.hashSecret } : {}),
          defaults: security.defaults,
        })
      : undefined;
    const limiter = new RateLimiter({
      ...(redis ? { redis: redis.client } : {}),
      keyPrefix: `${prefix}rl`,
      anonymous: security.anonymous,
      onFallback: countFallback,
    });
    const spend = new SpendLedger({
      ...(redis ? { redis: redis.client } : {}),
      keyPrefix: `${prefix}spend`,
      onFallback: countFallback,
    });
    const validator = new RequestValidator({
      maxBodyBytes: resolved.server.bodyLimitBytes,
      maxMessages: security.limits.maxMessages,
      maxTotalChars: security.limits.maxTotalChars,
      maxTools: security.limits.maxTools,
      maxN: security.limits.maxN,
      resolveModel: modelLimitsResolver(router, resolved),
    });
    const pii = new PiiScanner({
      mode: security.pii.mode,
      ...(security.pii.kinds ? { kinds: security.pii.kinds } : {}),
    });
    const guard = new SecurityGuard({ ...(keys ? { keys } : {}), limiter, spend, validator, pii });

    let cache: Cache | undefined;
    let redisStore: RedisStore | undefined;
    if (resolved.cache.enabled) {
      if (resolved.redis.url && resolved.cache.l2) {
        const { createRedisStore } = await import('@llm-edge/cache/redis');
        redisStore = createRedisStore({
          url: resolved.redis.url,
          keyPrefix: `${prefix}cache`,
          connectTimeoutMs: resolved.redis.connectTimeoutMs,
          onConnectionError: () => metrics.recordError({ code: 'LLM_EDGE_CACHE_L2_UNAVAILABLE' }),
        });
      }
      cache = createCache({
        ttlMs: resolved.cache.ttlSeconds * 1000,
        l1: { maxEntries: resolved.cache.l1.maxEntries, maxBytes: resolved.cache.l1.maxBytes },
        ...(redisStore ? { l2: redisStore } : {}),
      });
      cache.on('hit', (event) => metrics.recordCacheLookup({ layer: event.layer, hit: true }));
      cache.on('miss', (event) => metrics.recordCacheLookup({ layer: event.layer, hit: false }));
    }

    const pipeline = new Pipeline({
      config: resolved,
      router,
      guard,
      cache,
      cacheKey: createKeyGenerator(),
      metrics,
      tracing,
      attempts,
      readiness,
      startedAt: Math.floor(Date.now() / 1000),
    });
    const server = resolved.server;
    const proxy = createProxyServer({
      handlers: pipeline.handlers(),
      logger,
      metrics,
      tracing,
      bodyLimit: server.bodyLimitBytes,
      timeouts: server.timeouts,
      shutdownDeadlineMs: server.shutdownDeadlineMs,
      trustProxy: server.trustProxy,
      exposeMetrics: resolved.telemetry.metrics,
      ...(server.tls ? { tls: { cert: server.tls.cert, key: server.tls.key } } : {}),
    });
    const url = await proxy.listen({ port: server.port, host: server.host });
    running = {
      proxy,
      router,
      cache,
      redis,
      redisStore,
      providers: Object.values(providers),
      simulator,
      traceExport,
      url,
    };
    logger.info(
      {
        url,
        providers: Object.keys(resolved.providers),
        targets: resolved.targets.length,
        aliases: resolved.aliases.length,
        redis: redisState,
        simulator: simulator?.url,
      },
      'llm-edge gateway listening',
    );
  }

  return {
    config: resolved,
    get url() {
      if (running === undefined) throw new AgentError('LLM_EDGE_GATEWAY_STATE', 'The gateway is not started');
      return running.url;
    },
    devKey,
    get simulator() {
      return running?.simulator;
    },
    metrics,
    readiness,
    start() {
      starting ??= start();
      return starting;
    },
    async stop() {
      const r = running;
      if (r === undefined) return;
      running = undefined;
      starting = undefined;
      await r.proxy.close();
      // Every request span has ended with the proxy: send them before the process may exit.
      await flushSpans(r.traceExport, resolved.server.shutdownDeadlineMs, metrics);
      await r.cache?.close();
      await r.redis?.close();
      await Promise.all(r.providers.map((p) => p.close?.()));
      await r.simulator?.close();
    },
  };
}

/** Flushes and stops the span exporter, waiting at most `deadlineMs` for an unreachable collector. */
async function flushSpans(
  traceExport: TraceExport | undefined,
  deadlineMs: number,
  metrics: GatewayMetrics,
): Promise<void> {
  if (traceExport === undefined) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
    timer.unref();
  });
  try {
    const outcome = await Promise.race([traceExport.shutdown(), deadline]);
    if (outcome === 'late') metrics.recordTelemetryFailure('trace_export');
  } catch {
    metrics.recordTelemetryFailure('trace_export');
  } finally {
    clearTimeout(timer);
  }
}

function keyEntries(config: GatewayConfig, devKey: string | undefined): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = config.security.keys.map((k) => ({
    name: k.name,
    hash: k.hash ?? hashApiKey(k.key!),
    ...(k.models ? { models: k.models } : {}),
    ...(k.rpm !== undefined ? { rpm: k.rpm } : {}),
    ...(k.tpm !== undefined ? { tpm: k.tpm } : {}),
    ...(k.budgetUsd !== undefined ? { budgetUsd: k.budgetUsd } : {}),
    ...(k.budgetPeriod !== undefined ? { budgetPeriod: k.budgetPeriod } : {}),
    ...(k.disabled !== undefined ? { disabled: k.disabled } : {}),
  }));
  if (devKey !== undefined) entries.push({ name: 'development', hash: hashApiKey(devKey) });
  return entries;
}

type ModelLimits = { contextWindow?: number; maxOutputTokens?: number };

/**
 * Limits of a model name for validation: the smallest window among the targets it may reach.
 * Memoised per name (bounded), so validation does not walk the route table on every request.
 */
function modelLimitsResolver(
  router: Router,
  config: GatewayConfig,
): (model: string) => ModelLimits | undefined {
  const configured = new Map(config.targets.map((t) => [t.id, t.contextWindow]));
  const memo = new Map<string, ModelLimits | undefined>();
  return (model) => {
    if (memo.has(model)) return memo.get(model);
    const limits = modelLimits(router, configured, model);
    if (memo.size >= 1_000) memo.clear();
    memo.set(model, limits);
    return limits;
  };
}

function modelLimits(
  router: Router,
  configured: ReadonlyMap<string, number | undefined>,
  model: string,
): ModelLimits | undefined {
  const route = router.resolve(model);
  if (route === undefined) return undefined;
  let contextWindow: number | undefined;
  let maxOutputTokens: number | undefined;
  for (const target of route.targets) {
    const entry = findModel(target.model);
    const window = configured.get(target.id) ?? entry?.contextWindow;
    if (window === undefined || entry === undefined) return undefined;
    contextWindow = contextWindow === undefined ? window : Math.min(contextWindow, window);
    maxOutputTokens =
      maxOutputTokens === undefined
        ? entry.maxOutputTokens
        : Math.min(maxOutputTokens, entry.maxOutputTokens);
  }
  return {
    ...(contextWindow !== undefined ? { contextWindow } : {}),
    ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}),
  };
}
