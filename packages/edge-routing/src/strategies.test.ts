import { describe, expect, it } from 'vitest';
import {
  cheapestStrategy,
  leastBusyStrategy,
  leastLatencyStrategy,
  priorityStrategy,
  roundRobinStrategy,
  type StrategyCandidate,
  type StrategyInput,
  weightedStrategy,
} from './strategies';
import { seededRandom } from './test-helpers';

const candidate = (id: string, index: number, extra: Partial<StrategyCandidate> = {}): StrategyCandidate => ({
  id,
  index,
  priority: 0,
  weight: 1,
  inFlight: 0,
  ...extra,
});

const input = (extra: Partial<StrategyInput> = {}): StrategyInput => ({
  random: seededRandom(1),
  turn: 0,
  latencyMetric: 'latency',
  ...extra,
});

const ids = (order: { id: string }[]): string[] => order.map((c) => c.id);

describe('priorityStrategy', () => {
  it('orders by priority, then configuration order', () => {
    const order = priorityStrategy(
      [
        candidate('c', 0, { priority: 2 }),
        candidate('a', 1, { priority: 1 }),
        candidate('b', 2, { priority: 1 }),
      ],
      input(),
    );
    expect(ids(order)).toEqual(['a', 'b', 'c']);
    expect(order[0]!.reason).toBe('priority 1');
  });
});

describe('weightedStrategy', () => {
  it('draws the first target in proportion to the weights (seeded, 3 sigma tolerance)', () => {
    const random = seededRandom(42);
    const candidates = [candidate('a', 0, { weight: 1 }), candidate('b', 1, { weight: 3 })];
    const n = 4000;
    let b = 0;
    for (let i = 0; i < n; i++) {
      if (weightedStrategy(candidates, input({ random }))[0]!.id === 'b') b++;
    }
    const sigma = Math.sqrt(n * 0.75 * 0.25);
    expect(Math.abs(b - n * 0.75)).toBeLessThan(3 * sigma);
  });

  it('lists every target once, zero-weight ones last', () => {
    const order = weightedStrategy(
      [candidate('z', 0, { weight: 0 }), candidate('a', 1, { weight: 2 }), candidate('b', 2, { weight: 5 })],
      input(),
    );
    expect(new Set(ids(order))).toEqual(new Set(['a', 'b', 'z']));
    expect(order[2]).toEqual({ id: 'z', reason: 'weighted fallback (weight 0)' });
  });

  it('picks by the random draw: a low draw takes the first weight band', () => {
    const candidates = [candidate('a', 0, { weight: 1 }), candidate('b', 1, { weight: 3 })];
    expect(weightedStrategy(candidates, input({ random: () => 0.2 }))[0]!.id).toBe('a');
    expect(weightedStrategy(candidates, input({ random: () => 0.3 }))[0]!.id).toBe('b');
  });
});

describe('roundRobinStrategy', () => {
  it('rotates the configuration order by turn', () => {
    const cs = [candidate('a', 0), candidate('b', 1), candidate('c', 2)];
    expect(ids(roundRobinStrategy(cs, input({ turn: 0 })))).toEqual(['a', 'b', 'c']);
    expect(ids(roundRobinStrategy(cs, input({ turn: 1 })))).toEqual(['b', 'c', 'a']);
    expect(ids(roundRobinStrategy(cs, input({ turn: 5 })))).toEqual(['c', 'a', 'b']);
  });

  it('returns nothing for no candidates', () => {
    expect(roundRobinStrategy([], input({ turn: 3 }))).toEqual([]);
  });
});

describe('leastLatencyStrategy', () => {
  it('puts unmeasured targets first, then the lowest average', () => {
    const cs = [
      candidate('slow', 0, { latencyMs: 900 }),
      candidate('fast', 1, { latencyMs: 100 }),
      candidate('new', 2),
    ];
    const order = leastLatencyStrategy(cs, input());
    expect(ids(order)).toEqual(['new', 'fast', 'slow']);
    expect(order[1]!.reason).toBe('least-latency (latency avg 100ms)');
  });

  it('compares time to first token for streams, falling back to total latency', () => {
    const cs = [
      candidate('a', 0, { ttftMs: 300, latencyMs: 400 }),
      candidate('b', 1, { ttftMs: 50, latencyMs: 2000 }),
      candidate('c', 2, { latencyMs: 100 }),
    ];
    expect(ids(leastLatencyStrategy(cs, input({ latencyMetric: 'ttft' })))).toEqual(['b', 'c', 'a']);
    expect(ids(leastLatencyStrategy(cs, input({ latencyMetric: 'latency' })))).toEqual(['c', 'a', 'b']);
  });
});

describe('leastBusyStrategy', () => {
  it('orders by in-flight count, priority among equals', () => {
    const cs = [
      candidate('a', 0, { inFlight: 3 }),
      candidate('b', 1, { inFlight: 1, priority: 1 }),
      candidate('c', 2, { inFlight: 1 }),
    ];
    expect(ids(leastBusyStrategy(cs, input()))).toEqual(['c', 'b', 'a']);
  });
});

describe('cheapestStrategy', () => {
  it('orders by price, unknown prices last', () => {
    const cs = [
      candidate('unknown', 0),
      candidate('pricey', 1, { usdPerMTok: 12.5 }),
      candidate('cheap', 2, { usdPerMTok: 0.75 }),
    ];
    const order = cheapestStrategy(cs, input());
    expect(ids(order)).toEqual(['cheap', 'pricey', 'unknown']);
    expect(order[2]!.reason).toBe('cheapest (price unknown)');
  });
});
