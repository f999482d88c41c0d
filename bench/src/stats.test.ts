import { describe, expect, it } from 'vitest';
import {
  aggregateProfile,
  checkTarget,
  compare,
  componentOf,
  median,
  nodesAfter,
  percentile,
  summarize,
} from './stats.ts';

describe('percentile and summarize', () => {
  it('uses the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarises an unsorted sample without changing it', () => {
    const values = [5, 1, 4, 2, 3];
    const s = summarize(values);
    expect(values).toEqual([5, 1, 4, 2, 3]);
    expect(s).toEqual({ count: 5, mean: 3, p50: 3, p90: 5, p99: 5, max: 5 });
  });
});

describe('compare', () => {
  it('gives the throughput ratio and the added latency per percentile', () => {
    const direct = { rps: 10_000, latency: { count: 1, mean: 1, p50: 0.1, p90: 0.2, p99: 0.5, max: 1 } };
    const gateway = { rps: 4_000, latency: { count: 1, mean: 2, p50: 0.25, p90: 0.5, p99: 1.5, max: 3 } };
    const c = compare(direct, gateway);
    expect(c.rpsRatio).toBeCloseTo(0.4, 10);
    expect(c.addedP50).toBeCloseTo(0.15, 10);
    expect(c.addedP90).toBeCloseTo(0.3, 10);
    expect(c.addedP99).toBeCloseTo(1, 10);
  });

  it('has no ratio when the direct run served nothing', () => {
    const zero = { rps: 0, latency: summarize([]) };
    expect(compare(zero, zero).rpsRatio).toBeNaN();
  });
});

describe('median and checkTarget', () => {
  it('takes the middle of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('reports how far a figure misses its bound', () => {
    expect(checkTarget(0.15, 0.2, 'max')).toEqual({ met: true, gap: 0 });
    expect(checkTarget(1.3, 1, 'max').gap).toBeCloseTo(0.3, 10);
    expect(checkTarget(0.35, 0.4, 'min').met).toBe(false);
    expect(checkTarget(Number.NaN, 1, 'max').met).toBe(false);
  });
});

describe('aggregateProfile', () => {
  it('sums self time per frame and per component', () => {
    const nodes = [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, hitCount: 0 },
      { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 }, hitCount: 50 },
      {
        id: 3,
        callFrame: {
          functionName: 'serialize',
          url: 'file:///r/node_modules/.pnpm/fastify@5/node_modules/fastify/lib/reply.js',
          lineNumber: 9,
        },
        hitCount: 30,
      },
      {
        id: 4,
        callFrame: {
          functionName: 'chat',
          url: 'file:///r/packages/edge-agent/dist/index.js',
          lineNumber: 0,
        },
        hitCount: 15,
      },
      {
        id: 5,
        callFrame: {
          functionName: 'chat',
          url: 'file:///r/packages/edge-agent/dist/index.js',
          lineNumber: 0,
        },
        hitCount: 5,
      },
    ];
    const { frames, components, samples } = aggregateProfile(nodes, 2);
    expect(samples).toBe(100);
    expect(frames).toEqual([
      { name: '(idle)', location: '', selfPercent: 50 },
      { name: 'serialize', location: 'fastify/lib/reply.js:10', selfPercent: 30 },
    ]);
    expect(components).toContainEqual({ component: '@llm-edge/agent', selfPercent: 20 });
    expect(components).toContainEqual({ component: 'fastify', selfPercent: 30 });
  });

  it('recounts hits from the samples after a point in time', () => {
    const frame = { functionName: 'f', url: '', lineNumber: 0 };
    const profile = {
      nodes: [
        { id: 1, callFrame: frame, hitCount: 5 },
        { id: 2, callFrame: { ...frame, functionName: 'g' }, hitCount: 5 },
      ],
      samples: [1, 1, 2, 2, 2],
      timeDeltas: [500, 500, 500, 500, 500],
    };
    expect(nodesAfter(profile, 1.2).map((n) => n.hitCount)).toEqual([0, 3]);
    expect(nodesAfter(profile, 0).map((n) => n.hitCount)).toEqual([2, 3]);
  });

  it('names the component of a script', () => {
    expect(componentOf('node:internal/http')).toBe('node core');
    expect(componentOf('file:///x/node_modules/.pnpm/pino@9/node_modules/pino/lib/x.js')).toBe('pino');
    expect(componentOf('file:///x/node_modules/@opentelemetry/api/build/a.js')).toBe('@opentelemetry/api');
    expect(componentOf('file:///x/packages/infra-retry/dist/index.js')).toBe('@llm-edge/retry');
  });
});

describe('overhead histogram', () => {
  it('reads the bucket bound under which a percentile of the new requests fell', async () => {
    const { bucketPercentile, parseOverheadBuckets } = await import('./overhead-metric.ts');
    const text = (counts: number[]) =>
      [
        '# TYPE llm_edge_overhead_seconds histogram',
        `llm_edge_overhead_seconds_bucket{le="0.0001",route="chat.completions"} ${counts[0]}`,
        `llm_edge_overhead_seconds_bucket{le="0.00025",route="chat.completions"} ${counts[1]}`,
        `llm_edge_overhead_seconds_bucket{le="0.001",route="chat.completions"} ${counts[2]}`,
        `llm_edge_overhead_seconds_bucket{le="+Inf",route="chat.completions"} ${counts[3]}`,
        `llm_edge_overhead_seconds_bucket{le="+Inf",route="messages"} 999`,
      ].join('\n');
    const before = parseOverheadBuckets(text([10, 10, 10, 10]), 'chat.completions');
    const after = parseOverheadBuckets(text([10, 60, 109, 110]), 'chat.completions');
    expect(before.get(0.1)).toBe(10);
    expect(bucketPercentile(before, after, 50)).toBeCloseTo(0.25, 10);
    expect(bucketPercentile(before, after, 99)).toBe(1);
    expect(bucketPercentile(after, after, 50)).toBeNaN();
  });
});
