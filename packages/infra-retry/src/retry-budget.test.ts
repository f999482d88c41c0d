import { describe, expect, it } from 'vitest';
import { InvalidRetryOptionError } from './errors';
import { RetryBudget } from './retry-budget';

function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

function takeRetries(budget: RetryBudget, max: number): number {
  let granted = 0;
  while (granted < max && budget.tryRetry()) granted += 1;
  return granted;
}

describe('RetryBudget', () => {
  it('grants retries up to the ratio of recorded requests, then refuses', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, now: clock.now });
    for (let i = 0; i < 10; i++) budget.recordRequest();
    expect(budget.snapshot()).toEqual({ requests: 10, retries: 0, allowance: 2, available: 2 });
    expect(takeRetries(budget, 100)).toBe(2);
    expect(budget.tryRetry()).toBe(false);
    expect(budget.snapshot()).toMatchObject({ requests: 10, retries: 2, available: 0 });
  });

  it('adds the per-second floor over the window, so a quiet caller can still retry', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0.5, windowMs: 4000, now: clock.now });
    expect(budget.snapshot().allowance).toBe(2);
    expect(takeRetries(budget, 100)).toBe(2);
  });

  it('does not lose a retry to floating-point error', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.29, minRetriesPerSecond: 0, now: clock.now });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    expect(takeRetries(budget, 100)).toBe(29);
  });

  it('refills once the spent retries slide out of the window', () => {
    const clock = manualClock();
    const budget = new RetryBudget({
      ratio: 1,
      minRetriesPerSecond: 1,
      windowMs: 10_000,
      buckets: 10,
      now: clock.now,
    });
    expect(takeRetries(budget, 100)).toBe(10);
    clock.advance(5000);
    expect(budget.tryRetry()).toBe(false);
    clock.advance(5000);
    // The bucket holding the spent retries has left the window: the floor is available again.
    expect(budget.snapshot()).toMatchObject({ retries: 0, available: 10 });
    expect(takeRetries(budget, 100)).toBe(10);
  });

  it('forgets requests bucket by bucket as the window slides', () => {
    const clock = manualClock(0);
    const budget = new RetryBudget({
      ratio: 0.5,
      minRetriesPerSecond: 0,
      windowMs: 3000,
      buckets: 3,
      now: clock.now,
    });
    for (let i = 0; i < 4; i++) budget.recordRequest(); // bucket [0, 1000)
    clock.advance(1000);
    for (let i = 0; i < 6; i++) budget.recordRequest(); // bucket [1000, 2000)
    expect(budget.snapshot()).toMatchObject({ requests: 10, allowance: 5 });
    clock.advance(2000); // now 3000: the first bucket has left, the second is still in
    expect(budget.snapshot()).toMatchObject({ requests: 6, allowance: 3 });
    clock.advance(1000); // now 4000: both have left
    expect(budget.snapshot()).toMatchObject({ requests: 0, allowance: 0 });
    expect(budget.tryRetry()).toBe(false);
  });

  it('recovers after a long idle gap without stale buckets leaking back', () => {
    const clock = manualClock();
    const budget = new RetryBudget({
      ratio: 0.5,
      minRetriesPerSecond: 0,
      windowMs: 1000,
      buckets: 4,
      now: clock.now,
    });
    for (let i = 0; i < 8; i++) budget.recordRequest();
    expect(takeRetries(budget, 100)).toBe(4);
    clock.advance(1_000_000);
    expect(budget.snapshot()).toEqual({ requests: 0, retries: 0, allowance: 0, available: 0 });
    budget.recordRequest();
    budget.recordRequest();
    expect(takeRetries(budget, 100)).toBe(1);
  });

  it.each([
    ['ratio', { ratio: -0.1 }],
    ['windowMs', { windowMs: 0 }],
    ['minRetriesPerSecond', { minRetriesPerSecond: Number.POSITIVE_INFINITY }],
    ['buckets', { buckets: 2.5 }],
    ['buckets', { windowMs: 5, buckets: 10 }],
    ['now', { now: 5 as unknown as () => number }],
  ])('rejects a bad %s, naming it', (option, options) => {
    expect(() => new RetryBudget(options)).toThrow(InvalidRetryOptionError);
    expect(() => new RetryBudget(options)).toThrow(expect.objectContaining({ option }));
  });
});
