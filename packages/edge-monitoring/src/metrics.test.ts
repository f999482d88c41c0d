import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InvalidMonitoringOptionError } from './errors';
import { createMetrics } from './metrics';

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
