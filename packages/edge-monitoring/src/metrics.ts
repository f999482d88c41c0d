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

/** Keeps at most `max` distinct values of one label; the rest collapse into `_other`. */
class LabelGuard {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  value(raw: string | undefined): string {
    if (raw === undefined || raw === '') return '';
    const value = raw.length > 128 ? raw.slice(0, 128) : raw;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return '_other';
    this.seen.add(value);
    return value;
  }
}

type LabelValue = string | number | undefined;
type SeriesLabels = Record<string, LabelValue>;

function nth(i: number, a: LabelValue, b: LabelValue, c: LabelValue, d: LabelValue): LabelValue {
  return i === 0 ? a : i === 1 ? b : i === 2 ? c : d;
}

interface Level<S> {
  readonly next: Map<LabelValue, Level<S>>;
  series: S | undefined;
}

/**
 * The series of one metric, found by their label values through nested Maps (one level per
 * label). prom-client builds a hash string from a label object on every call; a walk of nested
 * Maps needs neither, and cannot confuse two series whatever characters the values hold.
 * Each series' label object is built once, when the series first appears.
 */
class SeriesTable<S> {
  private readonly root: Level<S> = { next: new Map(), series: undefined };
  /** Series in creation order, the order prom-client lists them in. */
  readonly series: S[] = [];

  constructor(
    readonly labelNames: readonly string[],
    private readonly create: (labels: SeriesLabels) => S,
  ) {
    // `get` takes the values as up to four arguments, so no array is built per call.
    if (labelNames.length > 4) throw new RangeError('a SeriesTable holds at most four labels');
  }

  /** The series with these label values (in `labelNames` order), created on first use. */
  get(a: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue): S {
    let level = this.root;
    const depth = this.labelNames.length;
    for (let i = 0; i < depth; i += 1) {
      const key = nth(i, a, b, c, d);
      let next = level.next.get(key);
      if (next === undefined) {
        next = { next: new Map(), series: undefined };
        level.next.set(key, next);
      }
      level = next;
    }
    if (level.series !== undefined) return level.series;
    const labels: SeriesLabels = {};
    for (let i = 0; i < depth; i += 1) labels[this.labelNames[i]!] = nth(i, a, b, c, d);
    const series = this.create(labels);
    level.series = series;
    this.series.push(series);
    return series;
  }

  clear(): void {
    this.root.next.clear();
    this.series.length = 0;
  }
}

interface MetricConfig {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: Registry[];
}

interface CounterSeries {
  readonly labels: SeriesLabels;
  value: number;
  /** Whether the series has been incremented yet: prom-client stores the first increment as is. */
  started: boolean;
}

/**
 * A prom-client counter whose increments land in a {@link SeriesTable}; its `collect` hook
 * rebuilds the counter from the table at every scrape, through prom-client's own `reset` and
 * `inc`, so the exposition is what direct increments would have produced.
 */
class TableCounter {
  readonly metric: Counter<string>;
  private readonly table: SeriesTable<CounterSeries>;

  constructor(config: MetricConfig) {
    const table = new SeriesTable<CounterSeries>(config.labelNames, (labels) => ({
      labels,
      value: 0,
      started: false,
    }));
    const metric = new Counter({
      ...config,
      collect() {
        Counter.prototype.reset.call(metric);
        for (const series of table.series) publishCounter(metric, series);
      },
    });
    // `registry.resetMetrics()` calls `reset()`: clear the table as well, or the next scrape
    // would publish the old values again.
    metric.reset = () => {
      Counter.prototype.reset.call(metric);
      table.clear();
    };
    this.metric = metric;
    this.table = table;
  }

  /** Adds `value` (default 1) to the series with these label values; throws as prom-client's `inc` does. */
  inc(value: number | undefined, a: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue): void {
    // The same checks, in the same order, as prom-client's Counter.inc (NaN passes there too).
    if (value && !Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (value !== undefined && value < 0) throw new Error('It is not possible to decrease a counter');
    const amount = value ?? 1;
    const series = this.table.get(a, b, c, d);
    if (series.started) {
      series.value += amount;
    } else {
      series.value = amount;
      series.started = true;
    }
  }
}

function publishCounter(metric: Counter<string>, series: CounterSeries): void {
  if (series.value === Number.POSITIVE_INFINITY) {
    // A total that overflowed is refused by `inc` as a single increment, but prom-client would
    // have reached it by adding; so does this.
    metric.inc(series.labels, Number.MAX_VALUE);
    metric.inc(series.labels, Number.MAX_VALUE);
  } else {
    metric.inc(series.labels, series.value);
  }
}

interface GaugeSeries {
  readonly labels: SeriesLabels;
  value: number;
}

/** A prom-client gauge moved by `inc`/`dec` on plain numbers, published at every scrape. */
class TableGauge {
  readonly metric: Gauge<string>;
  private readonly table: SeriesTable<GaugeSeries>;

  constructor(config: MetricConfig) {
    const table = new SeriesTable<GaugeSeries>(config.labelNames, (labels) => ({ labels, value: 0 }));
    const metric = new Gauge({
      ...config,
      collect() {
        Gauge.prototype.reset.call(metric);
        for (const series of table.series) metric.set(series.labels, series.value);
      },
    });
    metric.reset = () => {
      Gauge.prototype.reset.call(metric);
      table.clear();
    };
    this.metric = metric;
    this.table = table;
  }

  add(delta: number, a: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue): void {
    this.table.get(a, b, c, d).value += delta;
  }
}

interface HistogramSeries {
  readonly labels: SeriesLabels;
  /** prom-client's key of this series in its `hashMap`. */
  readonly key: string;
  /** Observations per bucket (not cumulative), by bucket index. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** prom-client 15's per-series histogram state, written by {@link TableHistogram} at scrape time. */
interface HistogramState {
  labels: SeriesLabels;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

interface HistogramInternals {
  hashMap: Record<string, HistogramState>;
}

/** The key prom-client 15 files a series under: `name:value,` for each defined label, names sorted. */
function promHash(labels: SeriesLabels, sortedNames: readonly string[]): string {
  let hash = '';
  for (const name of sortedNames) {
    const value = labels[name];
    if (value !== undefined) hash += `${name}:${value},`;
  }
  return hash;
}

let histogramStateWritable: boolean | undefined;

/**
 * Whether this prom-client keeps a histogram's series as {@link HistogramState} in `hashMap`,
 * the private layout {@link TableHistogram} publishes into (prom-client has no public way to
 * set a histogram). Checked once on a probe histogram; if the layout ever changes, histograms
 * fall back to prom-client's own `observe` on every call.
 */
function canWriteHistogramState(): boolean {
  if (histogramStateWritable !== undefined) return histogramStateWritable;
  histogramStateWritable = false;
  try {
    const probe = new Histogram({
      name: 'probe',
      help: 'probe',
      labelNames: ['b', 'a'],
      buckets: [1, 2],
      registers: [],
    });
    probe.observe({ b: 'y', a: 'x' }, 1.5);
    const hashMap = (probe as unknown as Partial<HistogramInternals>).hashMap;
    if (typeof hashMap === 'object' && hashMap !== null) {
      const keys = Object.keys(hashMap);
      const state = hashMap[promHash({ a: 'x', b: 'y' }, ['a', 'b'])];
      histogramStateWritable =
        keys.length === 1 &&
        state !== undefined &&
        Object.keys(state).sort().join() === 'bucketValues,count,labels,sum' &&
        state.labels['a'] === 'x' &&
        state.sum === 1.5 &&
        state.count === 1 &&
        Object.keys(state.bucketValues).join() === '1,2' &&
        state.bucketValues['1'] === 0 &&
        state.bucketValues['2'] === 1;
    }
  } catch {
    // Leave it false: the slower public path still works.
  }
  return histogramStateWritable;
}

/**
 * A prom-client histogram whose observations are counted per series in a {@link SeriesTable}
 * and written into the histogram's state at every scrape, in the layout prom-client itself
 * keeps, so the exposition is the same as if each value had gone through `observe`.
 */
class TableHistogram {
  readonly metric: Histogram<string>;
  private readonly table: SeriesTable<HistogramSeries>;
  private readonly bounds: readonly number[];
  private readonly direct: boolean;

  constructor(config: MetricConfig & { buckets: readonly number[] }) {
    const bounds = [...config.buckets];
    const direct = !canWriteHistogramState();
    const sortedNames = [...config.labelNames].sort();
    const table = new SeriesTable<HistogramSeries>(config.labelNames, (labels) => ({
      labels,
      key: promHash(labels, sortedNames),
      counts: bounds.map(() => 0),
      sum: 0,
      count: 0,
    }));
    const metric = new Histogram({
      ...config,
      buckets: bounds,
      collect() {
        if (direct) return;
        Histogram.prototype.reset.call(metric);
        const hashMap = (metric as unknown as HistogramInternals).hashMap;
        for (const series of table.series) {
          const bucketValues: Record<string, number> = {};
          for (let i = 0; i < bounds.length; i += 1) bucketValues[bounds[i]!] = series.counts[i]!;
          hashMap[series.key] = {
            labels: series.labels,
            bucketValues,
            sum: series.sum,
            count: series.count,
          };
        }
      },
    });
    metric.reset = () => {
      Histogram.prototype.reset.call(metric);
      table.clear();
    };
    this.metric = metric;
    this.table = table;
    this.bounds = bounds;
    this.direct = direct;
  }

  /** Observes `value`; throws as prom-client's `observe` does. */
  observe(value: number, a: LabelValue, b?: LabelValue, c?: LabelValue): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const series = this.table.get(a, b, c);
    if (this.direct) {
      this.metric.observe(series.labels, value);
      return;
    }
    series.sum += value;
    series.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i += 1) {
      if (value <= bounds[i]!) {
        series.counts[i]! += 1;
        return;
      }
    }
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
  const guards = {
    provider: new LabelGuard(maxLabelValues),
    model: new LabelGuard(maxLabelValues),
    key: new LabelGuard(maxLabelValues),
    target: new LabelGuard(maxLabelValues),
    code: new LabelGuard(maxLabelValues),
  };

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

  // Metrics touched on every request keep their values in tables published at scrape time
  // (see SeriesTable); prom-client's own calls hash a label object each time. Label names are
  // listed in the order the recorders pass values.
  function build() {
    return {
      requests: new TableCounter({
        name: `${prefix}requests_total`,
        help: 'HTTP requests finished, by route, provider, model and status.',
        labelNames: ['route', 'provider', 'model', 'status'],
        registers,
      }),
      duration: new TableHistogram({
        name: `${prefix}request_duration_seconds`,
        help: 'Time from request received to response finished.',
        labelNames: ['route', 'provider', 'model'],
        buckets: latencyBuckets,
        registers,
      }),
      ttft: new TableHistogram({
        name: `${prefix}time_to_first_token_seconds`,
        help: 'Time from request received to the first streamed token written to the client.',
        labelNames: ['route', 'provider', 'model'],
        buckets: ttftBuckets,
        registers,
      }),
      tokens: new TableCounter({
        name: `${prefix}tokens_total`,
        help: 'Tokens by kind: input (including cached), output, cached_input.',
        labelNames: ['provider', 'model', 'kind'],
        registers,
      }),
      cost: new TableCounter({
        name: `${prefix}cost_usd_total`,
        help: 'Cost of served requests in US dollars, from the provider price table.',
        labelNames: ['provider', 'model', 'key'],
        registers,
      }),
      cache: new TableCounter({
        name: `${prefix}cache_lookups_total`,
        help: 'Response cache lookups by layer and result (hit or miss).',
        labelNames: ['layer', 'result'],
        registers,
      }),
      rateLimited: new TableCounter({
        name: `${prefix}rate_limited_total`,
        help: 'Requests refused by a rate limit, by key name and limit.',
        labelNames: ['key', 'limit'],
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
      overhead: new TableHistogram({
        name: `${prefix}overhead_seconds`,
        help: "The gateway's own time per request: total time minus time waiting on the upstream and the client.",
        labelNames: ['route'],
        buckets: overheadBuckets,
        registers,
      }),
      errors: new TableCounter({
        name: `${prefix}errors_total`,
        help: 'Errors by stable code and route.',
        labelNames: ['code', 'route'],
        registers,
      }),
      attempts: new TableCounter({
        name: `${prefix}upstream_attempts_total`,
        help: 'Upstream attempts (retries, failovers and hedges included) by target, provider and outcome.',
        labelNames: ['target', 'provider', 'outcome'],
        registers,
      }),
      pii: new TableCounter({
        name: `${prefix}pii_detections_total`,
        help: 'PII findings in requests by kind and action taken.',
        labelNames: ['kind', 'action'],
        registers,
      }),
      inFlight: new TableGauge({
        name: `${prefix}in_flight_requests`,
        help: 'Requests being served, by route.',
        labelNames: ['route'],
        registers,
      }),
      // Left on prom-client's own path: rare, and the one counter that must work when others fail.
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

  const count = (value: number | undefined): number | undefined =>
    typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;

  // Each recorder has its own try/catch rather than a shared `safely(() => …)`: a closure per
  // call is an allocation on every request.
  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    recordRequest(metric) {
      try {
        const provider = guards.provider.value(metric.provider);
        const model = guards.model.value(metric.model);
        metrics.requests.inc(undefined, metric.route, provider, model, String(metric.status));
        metrics.duration.observe(metric.durationMs / 1000, metric.route, provider, model);
      } catch {
        fail('metrics');
      }
    },
    recordTimeToFirstToken(metric) {
      try {
        metrics.ttft.observe(
          metric.ttftMs / 1000,
          metric.route ?? '',
          guards.provider.value(metric.provider),
          guards.model.value(metric.model),
        );
      } catch {
        fail('metrics');
      }
    },
    recordTokens(metric) {
      try {
        const provider = guards.provider.value(metric.provider);
        const model = guards.model.value(metric.model);
        const input = count(metric.inputTokens);
        const output = count(metric.outputTokens);
        const cached = count(metric.cachedInputTokens);
        if (input !== undefined) metrics.tokens.inc(input, provider, model, 'input');
        if (output !== undefined) metrics.tokens.inc(output, provider, model, 'output');
        if (cached !== undefined) metrics.tokens.inc(cached, provider, model, 'cached_input');
      } catch {
        fail('metrics');
      }
    },
    recordCost(metric) {
      try {
        if (!Number.isFinite(metric.usd) || metric.usd < 0)
          throw new RangeError('cost must be finite and >= 0');
        metrics.cost.inc(
          metric.usd,
          guards.provider.value(metric.provider),
          guards.model.value(metric.model),
          guards.key.value(metric.key),
        );
      } catch {
        fail('metrics');
      }
    },
    recordCacheLookup(metric) {
      try {
        metrics.cache.inc(undefined, metric.layer, metric.hit ? 'hit' : 'miss');
      } catch {
        fail('metrics');
      }
    },
    recordRateLimited(metric) {
      try {
        metrics.rateLimited.inc(undefined, guards.key.value(metric.key), metric.limit);
      } catch {
        fail('metrics');
      }
    },
    setBreakerState(metric) {
      try {
        const value = BREAKER_STATE_VALUE[metric.state];
        if (value === undefined) throw new RangeError(`unknown breaker state ${String(metric.state)}`);
        metrics.breaker.set({ target: guards.target.value(metric.target) }, value);
      } catch {
        fail('metrics');
      }
    },
    setTargetHealth(metric) {
      try {
        metrics.health.set({ target: guards.target.value(metric.target) }, metric.healthy ? 1 : 0);
      } catch {
        fail('metrics');
      }
    },
    recordOverhead(metric) {
      try {
        metrics.overhead.observe(Math.max(0, metric.overheadMs) / 1000, metric.route);
      } catch {
        fail('metrics');
      }
    },
    recordError(metric) {
      try {
        metrics.errors.inc(undefined, guards.code.value(metric.code), metric.route ?? '');
      } catch {
        fail('metrics');
      }
    },
    recordUpstreamAttempt(metric) {
      try {
        metrics.attempts.inc(
          undefined,
          guards.target.value(metric.target),
          guards.provider.value(metric.provider),
          metric.outcome,
        );
      } catch {
        fail('metrics');
      }
    },
    recordPiiDetection(metric) {
      try {
        metrics.pii.inc(metric.count ?? 1, metric.kind, metric.action);
      } catch {
        fail('metrics');
      }
    },
    trackInFlight(route) {
      let released = false;
      try {
        metrics.inFlight.add(1, route);
      } catch {
        fail('metrics');
      }
      return () => {
        if (released) return;
        released = true;
        try {
          metrics.inFlight.add(-1, route);
        } catch {
          fail('metrics');
        }
      };
    },
    recordTelemetryFailure(component) {
      fail(component);
    },
  };
}

export { Registry };
