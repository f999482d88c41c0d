import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { InvalidMonitoringOptionError } from './errors';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /**
   * Registry the metrics are registered on. A library must not use prom-client's global
   * registry, so a fresh one is created unless you pass yours.
   * @default new Registry()
   */
  registry?: Registry;
  /**
   * Prefix of every metric name.
   * @default 'llm_edge_'
   */
  prefix?: string;
  /**
   * Buckets (seconds) of the request duration histogram.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300]
   */
  latencyBuckets?: readonly number[];
  /**
   * Buckets (seconds) of the time-to-first-token histogram.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60]
   */
  ttftBuckets?: readonly number[];
  /**
   * Buckets (seconds) of the gateway overhead histogram; fine-grained because overhead is
   * measured in tenths of a millisecond.
   * @default [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25]
   */
  overheadBuckets?: readonly number[];
  /**
   * Distinct values kept per unbounded label (model, key, target, code); later values are
   * reported as `_other`, so a client sending random model names cannot explode cardinality.
   * @default 500
   */
  maxLabelValues?: number;
  /**
   * Also collect prom-client's process metrics (CPU, memory, event loop lag) on this registry.
   * @default false
   */
  collectDefaultMetrics?: boolean;
}

/** Defaults of {@link MetricsOptions}. */
export const DEFAULT_METRICS_OPTIONS = Object.freeze({
  prefix: 'llm_edge_',
  latencyBuckets: Object.freeze([
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300,
  ]),
  ttftBuckets: Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60]),
  overheadBuckets: Object.freeze([
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  ]),
  maxLabelValues: 500,
  collectDefaultMetrics: false,
});

/** Circuit breaker state as reported by {@link GatewayMetrics.setBreakerState}. */
export type BreakerState = 'closed' | 'half_open' | 'open';

const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** One finished HTTP request, recorded by the proxy. */
export interface RequestMetric {
  /** Route name, e.g. `chat.completions`. */
  route: string;
  /** HTTP status sent (499 when the client went away first). */
  status: number;
  /** Total time in milliseconds. */
  durationMs: number;
  /** Provider instance that served it, if any. */
  provider?: string;
  /** Model the client asked for, if any. */
  model?: string;
}

/** Token counts of one response. */
export interface TokenMetric {
  provider?: string;
  model?: string;
  /** Input tokens including cached ones. */
  inputTokens?: number;
  outputTokens?: number;
  /** Input tokens read from the provider's prompt cache. */
  cachedInputTokens?: number;
}

/**
 * The gateway's Prometheus metrics behind named recorders. Every recorder swallows its own
 * failures (counted in `llm_edge_telemetry_failures_total`) so telemetry never fails a request.
 */
export interface GatewayMetrics {
  /** Registry holding these metrics; serve `registry.metrics()` on `/metrics`. */
  readonly registry: Registry;
  /** Content type of {@link GatewayMetrics.render}'s output. */
  readonly contentType: string;
  /** The exposition text of the whole registry. */
  render(): Promise<string>;
  /** Counts a finished request by route, provider, model and status and observes its duration. */
  recordRequest(metric: RequestMetric): void;
  /** Observes the time to the first token of a streamed response. */
  recordTimeToFirstToken(metric: { route?: string; provider?: string; model?: string; ttftMs: number }): void;
  /** Adds token counts by kind (`input`, `output`, `cached_input`). */
  recordTokens(metric: TokenMetric): void;
  /** Adds a request's cost in USD. */
  recordCost(metric: { provider?: string; model?: string; key?: string; usd: number }): void;
  /** Counts a response-cache lookup by layer (`l1`, `l2`, …) and result. */
  recordCacheLookup(metric: { layer: string; hit: boolean }): void;
  /** Counts a request refused by a rate limit; `limit` names it, e.g. `requests`, `tokens`, `ip`. */
  recordRateLimited(metric: { key?: string; limit: string }): void;
  /** Sets a target's circuit breaker state (gauge: 0 closed, 1 half-open, 2 open). */
  setBreakerState(metric: { target: string; state: BreakerState }): void;
  /** Sets whether a target is healthy (gauge: 1 healthy, 0 not). */
  setTargetHealth(metric: { target: string; healthy: boolean }): void;
  /** Observes the gateway's own time for a request: total minus time waiting on the upstream. */
  recordOverhead(metric: { route: string; overheadMs: number }): void;
  /** Counts an error by stable code. */
  recordError(metric: { code: string; route?: string }): void;
  /** Counts one upstream attempt (retries, failovers and hedges each count) by target and outcome. */
  recordUpstreamAttempt(metric: { target: string; provider?: string; outcome: string }): void;
  /** Counts PII findings by kind and the action taken (`redact`, `block`, `detect`). */
  recordPiiDetection(metric: { kind: string; action: string; count?: number }): void;
  /** Marks a request in flight on a route; call the returned function once when it ends. */
  trackInFlight(route: string): () => void;
  /** Counts a failure inside telemetry itself (a logger, tracer or recorder that threw). */
  recordTelemetryFailure(component: string): void;
}

function validateBuckets(field: string, buckets: readonly number[]): number[] {
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new InvalidMonitoringOptionError(field, 'expected a non-empty array of numbers');
  }
  for (let i = 0; i < buckets.length; i += 1) {
    const bucket = buckets[i]!;
    if (typeof bucket !== 'number' || !Number.isFinite(bucket) || bucket <= 0) {
      throw new InvalidMonitoringOptionError(
        `${field}[${i}]`,
        `expected a positive finite number, got ${String(bucket)}`,
      );
    }
    if (i > 0 && bucket <= buckets[i - 1]!) {
      throw new InvalidMonitoringOptionError(`${field}[${i}]`, 'buckets must be strictly increasing');
    }
  }
  return [...buckets];
}

// Duck-typed so a registry from another installed copy of prom-client is accepted.
function isRegistry(value: unknown): value is Registry {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<'metrics' | 'registerMetric' | 'getSingleMetric', unknown>>;
  return (
    typeof candidate.metrics === 'function' &&
    typeof candidate.registerMetric === 'function' &&
    typeof candidate.getSingleMetric === 'function'
  );
}

/** Keeps at most `max` distinct values per label; the rest collapse into `_other`. */
class LabelGuard {
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly max: number) {}

  value(label: string, raw: string | undefined): string {
    if (raw === undefined || raw === '') return '';
    const value = raw.length > 128 ? raw.slice(0, 128) : raw;
    let values = this.seen.get(label);
    if (values === undefined) {
      values = new Set();
      this.seen.set(label, values);
    }
    if (values.has(value)) return value;
    if (values.size >= this.max) return '_other';
    values.add(value);
    return value;
  }
}

/**
 * Creates the gateway metrics on a non-global registry (yours, or a new one).
 *
 * @example
 * const metrics = createMetrics();
 * metrics.recordRequest({ route: 'chat.completions', provider: 'openai', model: 'gpt-4o-mini', status: 200, durationMs: 420 });
 * const text = await metrics.render(); // Prometheus exposition format
 */
export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const prefix = options.prefix ?? DEFAULT_METRICS_OPTIONS.prefix;
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new InvalidMonitoringOptionError(
      'prefix',
      'expected a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)',
    );
  }
  if (options.registry !== undefined && !isRegistry(options.registry)) {
    throw new InvalidMonitoringOptionError('registry', 'expected a prom-client Registry');
  }
  const latencyBuckets = validateBuckets(
    'latencyBuckets',
    options.latencyBuckets ?? DEFAULT_METRICS_OPTIONS.latencyBuckets,
  );
  const ttftBuckets = validateBuckets(
    'ttftBuckets',
    options.ttftBuckets ?? DEFAULT_METRICS_OPTIONS.ttftBuckets,
  );
  const overheadBuckets = validateBuckets(
    'overheadBuckets',
    options.overheadBuckets ?? DEFAULT_METRICS_OPTIONS.overheadBuckets,
  );
  const maxLabelValues = options.maxLabelValues ?? DEFAULT_METRICS_OPTIONS.maxLabelValues;
  if (!Number.isInteger(maxLabelValues) || maxLabelValues < 1) {
    throw new InvalidMonitoringOptionError('maxLabelValues', 'expected a positive integer');
  }

  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const guard = new LabelGuard(maxLabelValues);

  let metrics: ReturnType<typeof build>;
  try {
    metrics = build();
    if (options.collectDefaultMetrics ?? DEFAULT_METRICS_OPTIONS.collectDefaultMetrics) {
      collectDefaultMetrics({ register: registry, prefix });
    }
  } catch (cause) {
    throw new InvalidMonitoringOptionError(
      'registry',
      `could not register metrics with prefix "${prefix}" (does the registry already hold them?)`,
      { cause },
    );
  }

  function build() {
    return {
      requests: new Counter({
        name: `${prefix}requests_total`,
        help: 'HTTP requests finished, by route, provider, model and status.',
        labelNames: ['route', 'provider', 'model', 'status'] as const,
        registers,
      }),
      duration: new Histogram({
        name: `${prefix}request_duration_seconds`,
        help: 'Time from request received to response finished.',
        labelNames: ['route', 'provider', 'model'] as const,
        buckets: latencyBuckets,
        registers,
      }),
      ttft: new Histogram({
        name: `${prefix}time_to_first_token_seconds`,
        help: 'Time from request received to the first streamed token written to the client.',
        labelNames: ['route', 'provider', 'model'] as const,
        buckets: ttftBuckets,
        registers,
      }),
      tokens: new Counter({
        name: `${prefix}tokens_total`,
        help: 'Tokens by kind: input (including cached), output, cached_input.',
        labelNames: ['provider', 'model', 'kind'] as const,
        registers,
      }),
      cost: new Counter({
        name: `${prefix}cost_usd_total`,
        help: 'Cost of served requests in US dollars, from the provider price table.',
        labelNames: ['provider', 'model', 'key'] as const,
        registers,
      }),
      cache: new Counter({
        name: `${prefix}cache_lookups_total`,
        help: 'Response cache lookups by layer and result (hit or miss).',
        labelNames: ['layer', 'result'] as const,
        registers,
      }),
      rateLimited: new Counter({
        name: `${prefix}rate_limited_total`,
        help: 'Requests refused by a rate limit, by key name and limit.',
        labelNames: ['key', 'limit'] as const,
        registers,
      }),
      breaker: new Gauge({
        name: `${prefix}breaker_state`,
        help: 'Circuit breaker state per target: 0 closed, 1 half-open, 2 open.',
        labelNames: ['target'] as const,
        registers,
      }),
      health: new Gauge({
        name: `${prefix}target_healthy`,
        help: 'Whether a target is healthy (1) or not (0).',
        labelNames: ['target'] as const,
        registers,
      }),
      overhead: new Histogram({
        name: `${prefix}overhead_seconds`,
        help: "The gateway's own time per request: total time minus time waiting on the upstream and the client.",
        labelNames: ['route'] as const,
        buckets: overheadBuckets,
        registers,
      }),
      errors: new Counter({
        name: `${prefix}errors_total`,
        help: 'Errors by stable code and route.',
        labelNames: ['code', 'route'] as const,
        registers,
      }),
      attempts: new Counter({
        name: `${prefix}upstream_attempts_total`,
        help: 'Upstream attempts (retries, failovers and hedges included) by target, provider and outcome.',
        labelNames: ['target', 'provider', 'outcome'] as const,
        registers,
      }),
      pii: new Counter({
        name: `${prefix}pii_detections_total`,
        help: 'PII findings in requests by kind and action taken.',
        labelNames: ['kind', 'action'] as const,
        registers,
      }),
      inFlight: new Gauge({
        name: `${prefix}in_flight_requests`,
        help: 'Requests being served, by route.',
        labelNames: ['route'] as const,
        registers,
      }),
      telemetryFailures: new Counter({
        name: `${prefix}telemetry_failures_total`,
        help: 'Failures inside logging, metrics or tracing that were contained instead of failing a request.',
        labelNames: ['component'] as const,
        registers,
      }),
    };
  }

  function fail(component: string): void {
    try {
      metrics.telemetryFailures.inc({ component });
    } catch {
      // The failure counter itself failed; there is nowhere left to count it.
    }
  }

  function safely(fn: () => void): void {
    try {
      fn();
    } catch {
      fail('metrics');
    }
  }

  const count = (value: number | undefined): number | undefined =>
    typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    recordRequest(metric) {
      safely(() => {
        const provider = guard.value('provider', metric.provider);
        const model = guard.value('model', metric.model);
        metrics.requests.inc({ route: metric.route, provider, model, status: String(metric.status) });
        metrics.duration.observe({ route: metric.route, provider, model }, metric.durationMs / 1000);
      });
    },
    recordTimeToFirstToken(metric) {
      safely(() => {
        metrics.ttft.observe(
          {
            route: metric.route ?? '',
            provider: guard.value('provider', metric.provider),
            model: guard.value('model', metric.model),
          },
          metric.ttftMs / 1000,
        );
      });
    },
    recordTokens(metric) {
      safely(() => {
        const labels = {
          provider: guard.value('provider', metric.provider),
          model: guard.value('model', metric.model),
        };
        const input = count(metric.inputTokens);
        const output = count(metric.outputTokens);
        const cached = count(metric.cachedInputTokens);
        if (input !== undefined) metrics.tokens.inc({ ...labels, kind: 'input' }, input);
        if (output !== undefined) metrics.tokens.inc({ ...labels, kind: 'output' }, output);
        if (cached !== undefined) metrics.tokens.inc({ ...labels, kind: 'cached_input' }, cached);
      });
    },
    recordCost(metric) {
      safely(() => {
        if (!Number.isFinite(metric.usd) || metric.usd < 0)
          throw new RangeError('cost must be finite and >= 0');
        metrics.cost.inc(
          {
            provider: guard.value('provider', metric.provider),
            model: guard.value('model', metric.model),
            key: guard.value('key', metric.key),
          },
          metric.usd,
        );
      });
    },
    recordCacheLookup(metric) {
      safely(() => metrics.cache.inc({ layer: metric.layer, result: metric.hit ? 'hit' : 'miss' }));
    },
    recordRateLimited(metric) {
      safely(() => metrics.rateLimited.inc({ key: guard.value('key', metric.key), limit: metric.limit }));
    },
    setBreakerState(metric) {
      safely(() => {
        const value = BREAKER_STATE_VALUE[metric.state];
        if (value === undefined) throw new RangeError(`unknown breaker state ${String(metric.state)}`);
        metrics.breaker.set({ target: guard.value('target', metric.target) }, value);
      });
    },
    setTargetHealth(metric) {
      safely(() =>
        metrics.health.set({ target: guard.value('target', metric.target) }, metric.healthy ? 1 : 0),
      );
    },
    recordOverhead(metric) {
      safely(() => metrics.overhead.observe({ route: metric.route }, Math.max(0, metric.overheadMs) / 1000));
    },
    recordError(metric) {
      safely(() => metrics.errors.inc({ code: guard.value('code', metric.code), route: metric.route ?? '' }));
    },
    recordUpstreamAttempt(metric) {
      safely(() =>
        metrics.attempts.inc({
          target: guard.value('target', metric.target),
          provider: guard.value('provider', metric.provider),
          outcome: metric.outcome,
        }),
      );
    },
    recordPiiDetection(metric) {
      safely(() => metrics.pii.inc({ kind: metric.kind, action: metric.action }, metric.count ?? 1));
    },
    trackInFlight(route) {
      let released = false;
      safely(() => metrics.inFlight.inc({ route }));
      return () => {
        if (released) return;
        released = true;
        safely(() => metrics.inFlight.dec({ route }));
      };
    },
    recordTelemetryFailure(component) {
      fail(component);
    },
  };
}

export { Registry };
