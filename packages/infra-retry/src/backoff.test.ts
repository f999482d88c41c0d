import { describe, expect, it } from 'vitest';
import {
  backoffDelays,
  constantBackoff,
  decorrelatedJitterBackoff,
  exponentialBackoff,
  exponentialJitterBackoff,
  linearBackoff,
} from './backoff';
import { InvalidRetryOptionError } from './errors';
import { createSeededRandom } from './random';

/** A random source replaying fixed values, so expected delays can be written down by hand. */
function sequence(...values: number[]): () => number {
  let index = 0;
  return () => {
    const value = values[index % values.length]!;
    index += 1;
    return value;
  };
}

describe('constantBackoff', () => {
  it('waits the base delay before every retry', () => {
    expect(backoffDelays(constantBackoff({ baseDelayMs: 250 }), 5)).toEqual([250, 250, 250, 250, 250]);
  });
});

describe('linearBackoff', () => {
  it('grows by the base delay per retry and stops at the cap', () => {
    expect(backoffDelays(linearBackoff({ baseDelayMs: 100, maxDelayMs: 350 }), 5)).toEqual([
      100, 200, 300, 350, 350,
    ]);
  });
});

describe('exponentialBackoff', () => {
  it('multiplies by the factor per retry and stops at the cap', () => {
    const backoff = exponentialBackoff({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect(backoffDelays(backoff, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('honours a custom factor', () => {
    expect(backoffDelays(exponentialBackoff({ baseDelayMs: 10, factor: 3 }), 4)).toEqual([10, 30, 90, 270]);
  });

  it('saturates at the cap instead of overflowing for huge attempt numbers', () => {
    const backoff = exponentialBackoff({ baseDelayMs: 100, maxDelayMs: 5000, factor: 100 });
    expect(backoff.delay(10_000, Math.random, 0)).toBe(5000);
  });

  it('gives zero for a zero base delay', () => {
    expect(backoffDelays(exponentialBackoff({ baseDelayMs: 0 }), 3)).toEqual([0, 0, 0]);
  });
});

describe('exponentialJitterBackoff', () => {
  it('takes the jitter fraction off the capped exponential delay', () => {
    const backoff = exponentialJitterBackoff({ baseDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 });
    // d * (1 - 0.5 + 0.5 * r): r = 0 gives half, r → 1 gives (almost) all of it.
    expect(backoffDelays(backoff, 5, sequence(0, 0.5, 0.999, 0, 0.5))).toEqual([50, 150, 399, 400, 750]);
  });

  it('with full jitter draws from [0, d)', () => {
    const backoff = exponentialJitterBackoff({ baseDelayMs: 1000, jitter: 1 });
    expect(backoffDelays(backoff, 3, sequence(0, 0.25, 0.5))).toEqual([0, 500, 2000]);
  });

  it('with zero jitter equals plain exponential backoff', () => {
    const jittered = exponentialJitterBackoff({ baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 });
    const plain = exponentialBackoff({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect(backoffDelays(jittered, 6, createSeededRandom(3))).toEqual(backoffDelays(plain, 6));
  });

  it('stays within [d(1-j), d] and the cap for a seeded random source, reproducibly', () => {
    const backoff = exponentialJitterBackoff({ baseDelayMs: 100, maxDelayMs: 2000, jitter: 0.3 });
    const delays = backoffDelays(backoff, 12, createSeededRandom(42));
    const again = backoffDelays(backoff, 12, createSeededRandom(42));
    expect(delays).toEqual(again);
    delays.forEach((delay, index) => {
      const capped = Math.min(100 * 2 ** index, 2000);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(capped * 0.7));
      expect(delay).toBeLessThanOrEqual(capped);
    });
    expect(backoffDelays(backoff, 12, createSeededRandom(43))).not.toEqual(delays);
  });
});

describe('decorrelatedJitterBackoff', () => {
  it('draws each delay from [base, 3 × previous), starting from the base', () => {
    const backoff = decorrelatedJitterBackoff({ baseDelayMs: 100, maxDelayMs: 10_000 });
    // 1st: 100 + 0.5 * (300 - 100) = 200; 2nd: 100 + 0.5 * (600 - 100) = 350;
    // 3rd: 100 + 0 * … = 100; 4th: 100 + 1 * (300 - 100) = 300.
    expect(backoffDelays(backoff, 4, sequence(0.5, 0.5, 0, 1))).toEqual([200, 350, 100, 300]);
  });

  it('is a pure function of attempt, random and previous delay', () => {
    const backoff = decorrelatedJitterBackoff({ baseDelayMs: 100 });
    expect(backoff.delay(5, () => 0.25, 800)).toBe(backoff.delay(5, () => 0.25, 800));
    expect(backoff.delay(5, () => 0.25, 800)).toBe(100 + Math.floor(0.25 * (2400 - 100)));
  });

  it('never exceeds the cap nor falls below the base for a seeded random source', () => {
    const backoff = decorrelatedJitterBackoff({ baseDelayMs: 50, maxDelayMs: 3000 });
    const delays = backoffDelays(backoff, 50, createSeededRandom(9));
    expect(Math.max(...delays)).toBeLessThanOrEqual(3000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(50);
    expect(delays).toContain(3000);
  });
});

describe('backoff validation', () => {
  it.each([
    ['baseDelayMs', () => exponentialBackoff({ baseDelayMs: -1 })],
    ['maxDelayMs', () => linearBackoff({ baseDelayMs: 500, maxDelayMs: 100 })],
    ['maxDelayMs', () => constantBackoff({ maxDelayMs: 2 ** 31 })],
    ['factor', () => exponentialBackoff({ factor: 0.5 })],
    ['jitter', () => exponentialJitterBackoff({ jitter: 1.5 })],
    ['baseDelayMs', () => decorrelatedJitterBackoff({ baseDelayMs: Number.NaN })],
  ])('rejects a bad %s, naming it', (option, build) => {
    const error = (() => {
      try {
        build();
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(InvalidRetryOptionError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'LLM_EDGE_RETRY_INVALID_OPTION', option });
  });

  it('rejects attempt numbers below 1', () => {
    expect(() => exponentialBackoff().delay(0, Math.random, 0)).toThrow(InvalidRetryOptionError);
  });
});
