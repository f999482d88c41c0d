import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InvalidMonitoringOptionError } from './errors';
import { createMetrics, type GatewayMetrics } from './metrics';

async function values(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`metric ${name} missing`);
  return (await metric.get()).values;
}

/** Histogram series carry their sample name (`_sum`, `_bucket`, …) outside prom-client's public value type. */
function metricName(value: unknown): string | undefined {
  return (value as { metricName?: string }).metricName;
}

describe('createMetrics', () => {
  it('uses its own registry, not the global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    expect(a.registry).not.toBe(b.registry);
    a.recordRequest({ route: 'chat.completions', status: 200, durationMs: 1 });
    expect(await a.render()).toContain('llm_edge_requests_total{route="chat.completions"');
    expect(await b.render()).not.toContain('route="chat.completions"');
    expect(a.contentType).toContain('text/plain');
  });

  it('counts requests by route, provider, model and status and observes duration in seconds', async () => {
    const metrics = createMetrics();
    metrics.recordRequest({
      route: 'chat.completions',
      provider: 'openai',
      model: 'gpt-4o-mini',
      status: 200,
      durationMs: 420,
    });
    metrics.recordRequest({
      route: 'chat.completions',
      provider: 'openai',
      model: 'gpt-4o-mini',
      status: 200,
      durationMs: 80,
    });
    metrics.recordRequest({
      route: 'chat.completions',
      provider: 'openai',
      model: 'gpt-4o-mini',
      status: 503,
      durationMs: 5,
    });
    const requests = await values(metrics.registry, 'llm_edge_requests_total');
    expect(requests).toContainEqual({
      labels: { route: 'chat.completions', provider: 'openai', model: 'gpt-4o-mini', status: '200' },
      value: 2,
    });
    expect(requests).toContainEqual(
      expect.objectContaining({ labels: expect.objectContaining({ status: '503' }), value: 1 }),
    );
    const duration = await values(metrics.registry, 'llm_edge_request_duration_seconds');
    const sum = duration.find((v) => metricName(v) === 'llm_edge_request_duration_seconds_sum');
    expect(sum?.value).toBeCloseTo(0.505, 6);
  });

  it('records tokens by kind, cost, cache lookups, rate limits, breaker, health, overhead, errors, attempts and PII', async () => {
    const metrics = createMetrics();
    metrics.recordTokens({
      provider: 'anthropic',
      model: 'claude',
      inputTokens: 100,
      outputTokens: 20,
      cachedInputTokens: 60,
    });
    metrics.recordCost({ provider: 'anthropic', model: 'claude', key: 'team-a', usd: 0.25 });
    metrics.recordCost({ provider: 'anthropic', model: 'claude', key: 'team-a', usd: 0.5 });
    metrics.recordCacheLookup({ layer: 'l1', hit: false });
    metrics.recordCacheLookup({ layer: 'l2', hit: true });
    metrics.recordRateLimited({ key: 'team-a', limit: 'requests' });
    metrics.setBreakerState({ target: 't1', state: 'open' });
    metrics.setBreakerState({ target: 't2', state: 'half_open' });
    metrics.setTargetHealth({ target: 't1', healthy: false });
    metrics.recordOverhead({ route: 'chat.completions', overheadMs: 0.3 });
    metrics.recordError({ code: 'LLM_EDGE_NO_ROUTE', route: 'chat.completions' });
    metrics.recordUpstreamAttempt({ target: 't1', provider: 'openai', outcome: 'failed:server' });
    metrics.recordPiiDetection({ kind: 'email', action: 'redact', count: 2 });

    const r = metrics.registry;
    expect(await values(r, 'llm_edge_tokens_total')).toEqual(
      expect.arrayContaining([
        { labels: { provider: 'anthropic', model: 'claude', kind: 'input' }, value: 100 },
        { labels: { provider: 'anthropic', model: 'claude', kind: 'output' }, value: 20 },
        { labels: { provider: 'anthropic', model: 'claude', kind: 'cached_input' }, value: 60 },
      ]),
    );
    expect(await values(r, 'llm_edge_cost_usd_total')).toEqual([
      { labels: { provider: 'anthropic', model: 'claude', key: 'team-a' }, value: 0.75 },
    ]);
    expect(await values(r, 'llm_edge_cache_lookups_total')).toEqual(
      expect.arrayContaining([
        { labels: { layer: 'l1', result: 'miss' }, value: 1 },
        { labels: { layer: 'l2', result: 'hit' }, value: 1 },
      ]),
    );
    expect(await values(r, 'llm_edge_rate_limited_total')).toEqual([
      { labels: { key: 'team-a', limit: 'requests' }, value: 1 },
    ]);
    expect(await values(r, 'llm_edge_breaker_state')).toEqual(
      expect.arrayContaining([
        { labels: { target: 't1' }, value: 2 },
        { labels: { target: 't2' }, value: 1 },
      ]),
    );
    expect(await values(r, 'llm_edge_target_healthy')).toEqual([{ labels: { target: 't1' }, value: 0 }]);
    const overheadCount = (await values(r, 'llm_edge_overhead_seconds')).find(
      (v) => metricName(v) === 'llm_edge_overhead_seconds_bucket' && v.labels['le'] === 0.0005,
    );
    expect(overheadCount?.value).toBe(1);
    expect(await values(r, 'llm_edge_errors_total')).toEqual([
      { labels: { code: 'LLM_EDGE_NO_ROUTE', route: 'chat.completions' }, value: 1 },
    ]);
    expect(await values(r, 'llm_edge_upstream_attempts_total')).toEqual([
      { labels: { target: 't1', provider: 'openai', outcome: 'failed:server' }, value: 1 },
    ]);
    expect(await values(r, 'llm_edge_pii_detections_total')).toEqual([
      { labels: { kind: 'email', action: 'redact' }, value: 2 },
    ]);
  });

  it('tracks in-flight requests and releases each once', async () => {
    const metrics = createMetrics();
    const release = metrics.trackInFlight('chat.completions');
    metrics.trackInFlight('chat.completions');
    release();
    release();
    expect(await values(metrics.registry, 'llm_edge_in_flight_requests')).toEqual([
      { labels: { route: 'chat.completions' }, value: 1 },
    ]);
  });

  it('never throws from a recorder and counts the failure', async () => {
    const metrics = createMetrics();
    expect(() => metrics.recordCost({ usd: -1 })).not.toThrow();
    expect(() => metrics.recordCost({ usd: Number.NaN })).not.toThrow();
    expect(() => metrics.setBreakerState({ target: 't', state: 'melted' as never })).not.toThrow();
    expect(await values(metrics.registry, 'llm_edge_telemetry_failures_total')).toEqual([
      { labels: { component: 'metrics' }, value: 3 },
    ]);
  });

  it('caps distinct values of unbounded labels', async () => {
    const metrics = createMetrics({ maxLabelValues: 2 });
    for (const model of ['a', 'b', 'c', 'd', 'a']) {
      metrics.recordRequest({ route: 'chat.completions', model, status: 404, durationMs: 1 });
    }
    const models = (await values(metrics.registry, 'llm_edge_requests_total')).map((v) => [
      v.labels['model'],
      v.value,
    ]);
    expect(models).toEqual(
      expect.arrayContaining([
        ['a', 2],
        ['b', 1],
        ['_other', 2],
      ]),
    );
    expect(models).toHaveLength(3);
  });

  it('accepts a caller registry and a prefix, and refuses to register twice', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry, prefix: 'gw_' });
    expect(metrics.registry).toBe(registry);
    metrics.recordError({ code: 'X' });
    expect(await registry.metrics()).toContain('gw_errors_total{code="X",route=""} 1');
    expect(() => createMetrics({ registry, prefix: 'gw_' })).toThrowError(InvalidMonitoringOptionError);
  });

  it('validates options naming the bad field', () => {
    expect(() => createMetrics({ prefix: '1bad' })).toThrowError(/"prefix"/);
    expect(() => createMetrics({ latencyBuckets: [1, 0.5] })).toThrowError(/"latencyBuckets\[1\]"/);
    expect(() => createMetrics({ ttftBuckets: [] })).toThrowError(/"ttftBuckets"/);
    expect(() => createMetrics({ maxLabelValues: 0 })).toThrowError(/"maxLabelValues"/);
    expect(() => createMetrics({ registry: {} as Registry })).toThrowError(/"registry"/);
  });

  it('collects process metrics only when asked', async () => {
    expect(await createMetrics().render()).not.toContain('process_cpu');
    expect(await createMetrics({ collectDefaultMetrics: true }).render()).toContain('llm_edge_process_cpu');
  });
});

type Op = { [K in keyof GatewayMetrics]: GatewayMetrics[K] extends (arg: infer A) => void ? [K, A] : never }[
  | 'recordRequest'
  | 'recordTimeToFirstToken'
  | 'recordTokens'
  | 'recordCost'
  | 'recordCacheLookup'
  | 'recordRateLimited'
  | 'recordOverhead'
  | 'recordError'
  | 'recordUpstreamAttempt'
  | 'recordPiiDetection'];

/** Shape of the prom-client metric objects this test clones (fields prom-client keeps from its config). */
interface MetricDefinition {
  name: string;
  help: string;
  type: string;
  labelNames: string[];
  buckets?: number[];
}

/**
 * The recorders as they were written before their metrics kept series tables: every call goes
 * straight to prom-client, on clones of the metrics `source` holds. Label values are assumed to
 * be short and few (no cardinality guard).
 */
function directRecorder(source: Registry) {
  const registry = new Registry();
  const byName = new Map<string, Counter | Gauge | Histogram>();
  for (const metric of source.getMetricsAsArray()) {
    const { name, help, type, labelNames, buckets } = metric as unknown as MetricDefinition;
    const config = { name, help, labelNames, registers: [registry] };
    byName.set(
      name.replace(/^llm_edge_/, ''),
      type === 'counter'
        ? new Counter(config)
        : type === 'gauge'
          ? new Gauge(config)
          : new Histogram({ ...config, ...(buckets === undefined ? {} : { buckets }) }),
    );
  }
  const counter = (name: string) => byName.get(name) as Counter;
  const histogram = (name: string) => byName.get(name) as Histogram;
  const safely = (fn: () => void) => {
    try {
      fn();
    } catch {
      counter('telemetry_failures_total').inc({ component: 'metrics' });
    }
  };
  const v = (value: string | undefined) => value ?? '';
  const apply = ([method, m]: Op) => {
    switch (method) {
      case 'recordRequest':
        return safely(() => {
          const labels = { route: m.route, provider: v(m.provider), model: v(m.model) };
          counter('requests_total').inc({ ...labels, status: String(m.status) });
          histogram('request_duration_seconds').observe(labels, m.durationMs / 1000);
        });
      case 'recordTimeToFirstToken':
        return safely(() =>
          histogram('time_to_first_token_seconds').observe(
            { route: v(m.route), provider: v(m.provider), model: v(m.model) },
            m.ttftMs / 1000,
          ),
        );
      case 'recordTokens':
        return safely(() => {
          const labels = { provider: v(m.provider), model: v(m.model) };
          for (const [kind, n] of [
            ['input', m.inputTokens],
            ['output', m.outputTokens],
            ['cached_input', m.cachedInputTokens],
          ] as const) {
            if (typeof n === 'number' && Number.isFinite(n) && n > 0)
              counter('tokens_total').inc({ ...labels, kind }, n);
          }
        });
      case 'recordCost':
        return safely(() => {
          if (!Number.isFinite(m.usd) || m.usd < 0) throw new RangeError('cost');
          counter('cost_usd_total').inc({ provider: v(m.provider), model: v(m.model), key: v(m.key) }, m.usd);
        });
      case 'recordCacheLookup':
        return safely(() =>
          counter('cache_lookups_total').inc({ layer: m.layer, result: m.hit ? 'hit' : 'miss' }),
        );
      case 'recordRateLimited':
        return safely(() => counter('rate_limited_total').inc({ key: v(m.key), limit: m.limit }));
      case 'recordOverhead':
        return safely(() =>
          histogram('overhead_seconds').observe({ route: m.route }, Math.max(0, m.overheadMs) / 1000),
        );
      case 'recordError':
        return safely(() => counter('errors_total').inc({ code: v(m.code), route: v(m.route) }));
      case 'recordUpstreamAttempt':
        return safely(() =>
          counter('upstream_attempts_total').inc({
            target: v(m.target),
            provider: v(m.provider),
            outcome: m.outcome,
          }),
        );
      case 'recordPiiDetection':
        return safely(() =>
          counter('pii_detections_total').inc({ kind: m.kind, action: m.action }, m.count ?? 1),
        );
    }
  };
  return {
    registry,
    apply,
    inFlight: (route: string, delta: number) =>
      (byName.get('in_flight_requests') as Gauge).inc({ route }, delta),
  };
}

/** A small deterministic PRNG (mulberry32), so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomOps(next: () => number, length: number): Op[] {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const routes = ['chat.completions', 'embeddings', 'responses'];
  const providers = ['openai', 'anthropic', undefined];
  const models = ['gpt-4o-mini', 'claude', 'a,b:c', 'with "quotes" and \\ and \n newline', undefined];
  const ops: Op[] = [];
  for (let i = 0; i < length; i += 1) {
    const provider = pick(providers);
    const model = pick(models);
    const route = pick(routes);
    const choice = next();
    if (choice < 0.25) {
      const status = pick([200, 200, 200, 429, 500, 503]);
      // Some durations fall exactly on a bucket bound (bounds are inclusive).
      const durationMs = next() < 0.3 ? pick([5, 10, 250, 1000, 300_000]) : next() * 400_000;
      ops.push(['recordRequest', { route, provider, model, status, durationMs }]);
    } else if (choice < 0.35) {
      ops.push(['recordTimeToFirstToken', { route, provider, model, ttftMs: next() * 70_000 }]);
    } else if (choice < 0.5) {
      ops.push([
        'recordTokens',
        {
          provider,
          model,
          inputTokens: Math.floor(next() * 5000),
          outputTokens: next() < 0.2 ? 0 : Math.floor(next() * 800),
          cachedInputTokens: next() < 0.5 ? undefined : next() * 100,
        },
      ]);
    } else if (choice < 0.62) {
      ops.push([
        'recordCost',
        { provider, model, key: pick(['team-a', 'team-b', undefined]), usd: next() / 1000 },
      ]);
    } else if (choice < 0.75) {
      ops.push(['recordOverhead', { route, overheadMs: next() * 300 - 10 }]);
    } else if (choice < 0.85) {
      ops.push([
        'recordUpstreamAttempt',
        { target: pick(['t1', 't2']), provider, outcome: pick(['success', 'failed:server']) },
      ]);
    } else if (choice < 0.9) {
      ops.push(['recordCacheLookup', { layer: pick(['l1', 'l2']), hit: next() < 0.5 }]);
    } else if (choice < 0.93) {
      ops.push(['recordError', { code: pick(['LLM_EDGE_NO_ROUTE', 'LLM_EDGE_TIMEOUT']), route }]);
    } else if (choice < 0.96) {
      ops.push([
        'recordRateLimited',
        { key: pick(['team-a', undefined]), limit: pick(['requests', 'tokens']) },
      ]);
    } else {
      ops.push([
        'recordPiiDetection',
        { kind: pick(['email', 'phone']), action: 'redact', count: pick([1, 2, 0]) },
      ]);
    }
  }
  return ops;
}

function applyTo(metrics: GatewayMetrics, [method, arg]: Op): void {
  (metrics[method] as (a: typeof arg) => void)(arg);
}

describe('createMetrics exposition', () => {
  it('renders exactly what direct prom-client calls render, scrape after scrape', async () => {
    const metrics = createMetrics();
    const direct = directRecorder(metrics.registry);
    const next = random(42);
    for (let round = 0; round < 4; round += 1) {
      for (const op of randomOps(next, 500)) {
        applyTo(metrics, op);
        direct.apply(op);
      }
      // Failures are contained and counted the same way on both sides.
      for (const op of [
        ['recordRequest', { route: 'chat.completions', status: 200, durationMs: Number.NaN }],
        ['recordOverhead', { route: 'x', overheadMs: Number.POSITIVE_INFINITY }],
        ['recordCost', { usd: -1 }],
        ['recordPiiDetection', { kind: 'email', action: 'block', count: -1 }],
        ['recordPiiDetection', { kind: 'email', action: 'block', count: Number.POSITIVE_INFINITY }],
        // Two finite increments whose total overflows to +Inf.
        ['recordPiiDetection', { kind: 'phone', action: 'block', count: Number.MAX_VALUE }],
        ['recordPiiDetection', { kind: 'phone', action: 'block', count: Number.MAX_VALUE }],
      ] as Op[]) {
        applyTo(metrics, op);
        direct.apply(op);
      }
      const release = metrics.trackInFlight('chat.completions');
      direct.inFlight('chat.completions', 1);
      if (round % 2 === 0) {
        release();
        direct.inFlight('chat.completions', -1);
      }
      expect(await metrics.render()).toBe(await direct.registry.metrics());
      expect(await metrics.registry.getMetricsAsJSON()).toEqual(await direct.registry.getMetricsAsJSON());
    }
    expect(await metrics.render()).toContain('llm_edge_telemetry_failures_total{component="metrics"} 20');
  });

  it('renders a pinned exposition and does not count a value twice across scrapes', async () => {
    const metrics = createMetrics({ overheadBuckets: [0.001, 0.01] });
    const request = { route: 'chat.completions', provider: 'openai', model: 'gpt-4o-mini', status: 200 };
    metrics.recordRequest({ ...request, durationMs: 420 });
    metrics.recordOverhead({ route: 'chat.completions', overheadMs: 0.5 });
    metrics.recordCost({ provider: 'openai', model: 'gpt-4o-mini', key: 'team-a', usd: 0.1 });
    metrics.recordCost({ provider: 'openai', model: 'gpt-4o-mini', key: 'team-a', usd: 0.2 });
    const first = await metrics.render();
    expect(first).toContain(
      'llm_edge_requests_total{route="chat.completions",provider="openai",model="gpt-4o-mini",status="200"} 1\n',
    );
    expect(first).toContain(
      [
        "# HELP llm_edge_overhead_seconds The gateway's own time per request: total time minus time waiting on the upstream and the client.",
        '# TYPE llm_edge_overhead_seconds histogram',
        'llm_edge_overhead_seconds_bucket{le="0.001",route="chat.completions"} 1',
        'llm_edge_overhead_seconds_bucket{le="0.01",route="chat.completions"} 1',
        'llm_edge_overhead_seconds_bucket{le="+Inf",route="chat.completions"} 1',
        'llm_edge_overhead_seconds_sum{route="chat.completions"} 0.0005',
        'llm_edge_overhead_seconds_count{route="chat.completions"} 1',
      ].join('\n'),
    );
    // 0.1 + 0.2, added in order as prom-client adds them.
    expect(first).toContain(
      'llm_edge_cost_usd_total{provider="openai",model="gpt-4o-mini",key="team-a"} 0.30000000000000004\n',
    );
    expect(await metrics.render()).toBe(first);

    metrics.recordRequest({ ...request, durationMs: 80 });
    metrics.recordRequest({ ...request, status: 503, durationMs: 5 });
    metrics.recordOverhead({ route: 'chat.completions', overheadMs: 5 });
    const second = await metrics.render();
    expect(second).toContain(
      'llm_edge_requests_total{route="chat.completions",provider="openai",model="gpt-4o-mini",status="200"} 2\n' +
        'llm_edge_requests_total{route="chat.completions",provider="openai",model="gpt-4o-mini",status="503"} 1\n',
    );
    expect(second).toContain(
      [
        'llm_edge_overhead_seconds_bucket{le="0.001",route="chat.completions"} 1',
        'llm_edge_overhead_seconds_bucket{le="0.01",route="chat.completions"} 2',
        'llm_edge_overhead_seconds_bucket{le="+Inf",route="chat.completions"} 2',
        'llm_edge_overhead_seconds_sum{route="chat.completions"} 0.0055',
        'llm_edge_overhead_seconds_count{route="chat.completions"} 2',
      ].join('\n'),
    );
    expect(second).toContain(
      'llm_edge_request_duration_seconds_count{route="chat.completions",provider="openai",model="gpt-4o-mini"} 3\n',
    );
  });

  it('answers concurrent scrapes alike, each with every value recorded before it', async () => {
    const metrics = createMetrics();
    const request = { route: 'chat.completions', provider: 'openai', model: 'm', status: 200, durationMs: 3 };
    metrics.recordRequest(request);
    const a = metrics.render();
    const b = metrics.registry.getMetricsAsJSON();
    metrics.recordRequest(request);
    const c = metrics.render();
    const d = metrics.render();
    const [textA, jsonB, textC, textD] = await Promise.all([a, b, c, d]);
    const line = 'llm_edge_requests_total{route="chat.completions",provider="openai",model="m",status="200"}';
    expect(textA).toContain(`${line} 1\n`);
    expect(jsonB.find((m) => m.name === 'llm_edge_requests_total')?.values).toEqual([
      { labels: { route: 'chat.completions', provider: 'openai', model: 'm', status: '200' }, value: 1 },
    ]);
    expect(textC).toContain(`${line} 2\n`);
    expect(textD).toBe(textC);
  });

  it('starts again from zero after registry.resetMetrics()', async () => {
    const metrics = createMetrics();
    const request = { route: 'chat.completions', provider: 'openai', model: 'm', status: 200, durationMs: 3 };
    metrics.recordRequest(request);
    metrics.recordTokens({ provider: 'openai', model: 'm', inputTokens: 5 });
    metrics.recordOverhead({ route: 'chat.completions', overheadMs: 1 });
    metrics.trackInFlight('chat.completions');
    metrics.registry.resetMetrics();
    const empty = await metrics.render();
    expect(empty).not.toContain('route="chat.completions"');
    expect(empty).not.toContain('kind="input"');

    metrics.recordRequest(request);
    expect(await values(metrics.registry, 'llm_edge_requests_total')).toEqual([
      { labels: { route: 'chat.completions', provider: 'openai', model: 'm', status: '200' }, value: 1 },
    ]);
    const duration = await values(metrics.registry, 'llm_edge_request_duration_seconds');
    expect(duration.find((v) => metricName(v) === 'llm_edge_request_duration_seconds_count')?.value).toBe(1);
    expect(await values(metrics.registry, 'llm_edge_overhead_seconds')).toEqual([]);
  });
});
