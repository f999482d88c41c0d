import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  type Backoff,
  backoffDelays,
  constantBackoff,
  decorrelatedJitterBackoff,
  exponentialBackoff,
  exponentialJitterBackoff,
  linearBackoff,
} from './backoff';
import { AttemptTimeoutError, InvalidRetryOptionError, RetryBudgetExhaustedError } from './errors';
import { createSeededRandom } from './random';
import { RetryBudget } from './retry-budget';
import {
  type AttemptContext,
  type GiveUpEvent,
  type RetryEvent,
  RetryPolicy,
  type RetryPolicyOptions,
  retry,
} from './retry-policy';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Observes a promise without leaving a rejection unhandled while fake time is advanced. */
function settle<T>(promise: Promise<T>): {
  readonly current: Outcome<T> | undefined;
  done: Promise<Outcome<T>>;
} {
  const state: { current: Outcome<T> | undefined; done: Promise<Outcome<T>> } = {
    current: undefined,
    done: promise.then(
      (value) => {
        state.current = { ok: true, value };
        return state.current;
      },
      (error: unknown) => {
        state.current = { ok: false, error };
        return state.current;
      },
    ),
  };
  return state;
}

function httpError(status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status, ...extra });
}

/** An attempt function failing with the given errors in turn, then resolving to 'ok'; records when each attempt ran. */
function scripted(failures: unknown[]): {
  fn: (context: AttemptContext) => Promise<string>;
  times: number[];
  contexts: AttemptContext[];
} {
  const times: number[] = [];
  const contexts: AttemptContext[] = [];
  return {
    times,
    contexts,
    fn: async (context) => {
      times.push(Date.now());
      contexts.push(context);
      const failure = failures[times.length - 1];
      if (failure !== undefined) throw failure;
      return 'ok';
    },
  };
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((time, index) => time - times[index]!);
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.parse('2026-01-01T00:00:00Z'));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('RetryPolicy delays', () => {
  const strategies: [string, () => Backoff][] = [
    ['constant', () => constantBackoff({ baseDelayMs: 300 })],
    ['linear', () => linearBackoff({ baseDelayMs: 100, maxDelayMs: 250 })],
    ['exponential', () => exponentialBackoff({ baseDelayMs: 100, maxDelayMs: 500 })],
    [
      'exponential-jitter',
      () => exponentialJitterBackoff({ baseDelayMs: 100, maxDelayMs: 5000, jitter: 0.8 }),
    ],
    ['decorrelated-jitter', () => decorrelatedJitterBackoff({ baseDelayMs: 100, maxDelayMs: 5000 })],
  ];

  it.each(strategies)(
    'waits exactly the %s delays between attempts (seeded random)',
    async (_name, build) => {
      const backoff = build();
      const expected = backoffDelays(backoff, 4, createSeededRandom(1234));
      const events: RetryEvent[] = [];
      const policy = new RetryPolicy({
        maxRetries: 4,
        backoff,
        random: createSeededRandom(1234),
        onRetry: (event) => events.push(event),
      });
      const failure = httpError(503);
      const script = scripted([failure, failure, failure, failure]);
      const outcome = settle(policy.execute(script.fn));

      await vi.advanceTimersByTimeAsync(0);
      expect(script.times).toHaveLength(1);
      for (const [index, delay] of expected.entries()) {
        // Not one millisecond early, and on time.
        if (delay > 0) {
          await vi.advanceTimersByTimeAsync(delay - 1);
          expect(script.times).toHaveLength(index + 1);
        }
        await vi.advanceTimersByTimeAsync(1);
        expect(script.times).toHaveLength(index + 2);
      }
      expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
      expect(gaps(script.times)).toEqual(expected);
      expect(events.map((event) => event.delay)).toEqual(expected);
      expect(events.map((event) => event.attempt)).toEqual([1, 2, 3, 4]);
      expect(events.every((event) => event.error === failure && event.source === 'backoff')).toBe(true);
      expect(script.contexts.map((context) => context.attempt)).toEqual([1, 2, 3, 4, 5]);
    },
  );

  it('caps growing delays at maxDelayMs', async () => {
    const policy = new RetryPolicy({
      maxRetries: 4,
      backoff: exponentialBackoff({ baseDelayMs: 1000, maxDelayMs: 2500 }),
    });
    const script = scripted([httpError(500), httpError(500), httpError(500), httpError(500)]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
    expect(gaps(script.times)).toEqual([1000, 2000, 2500, 2500]);
  });

  it('defaults to exponential backoff with jitter, capped at 30 s', async () => {
    const policy = new RetryPolicy({ random: () => 0.999 });
    expect(policy.backoff.name).toBe('exponential-jitter');
    expect(policy.backoff.maxDelayMs).toBe(30_000);
    expect(policy.maxRetries).toBe(3);
    const script = scripted([httpError(503), httpError(503), httpError(503)]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
    expect(gaps(script.times)).toEqual([199, 399, 799]);
  });
});

describe('RetryPolicy decisions', () => {
  it('surfaces the last error unchanged once retries are exhausted', async () => {
    const giveUps: GiveUpEvent[] = [];
    const policy = new RetryPolicy({
      maxRetries: 2,
      backoff: constantBackoff({ baseDelayMs: 10 }),
      onGiveUp: (event) => giveUps.push(event),
    });
    const last = httpError(503);
    const script = scripted([httpError(503), httpError(503), last]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: false, error: last });
    expect(script.times).toHaveLength(3);
    expect(giveUps).toEqual([{ attempts: 3, error: last, reason: 'retries-exhausted' }]);
    expect(policy.stats()).toMatchObject({
      executions: 1,
      attempts: 3,
      retries: 2,
      successes: 0,
      failures: 1,
    });
  });

  it('does not retry what the default classifier calls permanent', async () => {
    const giveUps: GiveUpEvent[] = [];
    const policy = new RetryPolicy({ onGiveUp: (event) => giveUps.push(event) });
    const notFound = httpError(404);
    const script = scripted([notFound]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: false, error: notFound });
    expect(script.times).toHaveLength(1);
    expect(giveUps[0]?.reason).toBe('not-retryable');
  });

  it('asks retryIf with the error and the failed attempt number', async () => {
    const calls: [unknown, number][] = [];
    const special = new Error('try again');
    const policy = new RetryPolicy({
      backoff: constantBackoff({ baseDelayMs: 1 }),
      retryIf: (error, attempt) => {
        calls.push([error, attempt]);
        return error === special;
      },
    });
    const final = new Error('stop');
    const script = scripted([special, special, final]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: false, error: final });
    expect(calls).toEqual([
      [special, 1],
      [special, 2],
      [final, 3],
    ]);
  });

  it('retries a TypeError when retryIf allows it, which p-retry alone would refuse', async () => {
    const policy = new RetryPolicy({ backoff: constantBackoff({ baseDelayMs: 1 }), retryIf: () => true });
    const script = scripted([new TypeError('not a network error'), new TypeError('again')]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
    expect(script.times).toHaveLength(3);
  });

  it('retries network errors without a status: ECONNRESET and a wrapped fetch failure', async () => {
    const policy = new RetryPolicy({ backoff: constantBackoff({ baseDelayMs: 5 }) });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const fetchFailed = new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    const script = scripted([reset, fetchFailed]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
    expect(script.times).toHaveLength(3);
  });

  it('keeps thrown non-Error values as they are', async () => {
    const policy = new RetryPolicy({
      backoff: constantBackoff({ baseDelayMs: 1 }),
      maxRetries: 1,
      retryIf: () => true,
    });
    const outcome = settle(
      policy.execute(() => {
        throw 'plain string';
      }),
    );
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: false, error: 'plain string' });
  });

  it('accepts synchronous functions', async () => {
    await expect(new RetryPolicy().execute(() => 7)).resolves.toBe(7);
  });
});

describe('first attempt and later attempts', () => {
  it('numbers attempts and retries the same from the first failure on', async () => {
    const retries: RetryEvent[] = [];
    const giveUps: GiveUpEvent[] = [];
    const policy = new RetryPolicy({
      maxRetries: 3,
      backoff: constantBackoff({ baseDelayMs: 5 }),
      onRetry: (event) => retries.push(event),
      onGiveUp: (event) => giveUps.push(event),
    });
    const first = httpError(503);
    const second = httpError(502);
    const script = scripted([first, second]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
    expect(script.contexts.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(retries.map((r) => [r.attempt, r.error, r.delay])).toEqual([
      [1, first, 5],
      [2, second, 5],
    ]);
    expect(giveUps).toEqual([]);
    expect(policy.stats()).toMatchObject({
      executions: 1,
      attempts: 3,
      retries: 2,
      successes: 1,
      failures: 0,
    });
  });

  it('a first attempt that succeeds makes one attempt and calls no hook', async () => {
    const onRetry = vi.fn();
    const onGiveUp = vi.fn();
    const policy = new RetryPolicy({ onRetry, onGiveUp });
    await expect(policy.execute(({ attempt }) => `attempt ${attempt}`)).resolves.toBe('attempt 1');
    expect(onRetry).not.toHaveBeenCalled();
    expect(onGiveUp).not.toHaveBeenCalled();
    expect(policy.stats()).toMatchObject({ executions: 1, attempts: 1, retries: 0, successes: 1 });
  });

  it('with maxRetries 0 a failed first attempt gives up as retries-exhausted without asking retryIf', async () => {
    const retryIf = vi.fn(() => true);
    const giveUps: GiveUpEvent[] = [];
    const policy = new RetryPolicy({ maxRetries: 0, retryIf, onGiveUp: (event) => giveUps.push(event) });
    const failure = httpError(503);
    await expect(policy.execute(scripted([failure]).fn)).rejects.toBe(failure);
    expect(retryIf).not.toHaveBeenCalled();
    expect(giveUps).toEqual([{ attempts: 1, error: failure, reason: 'retries-exhausted' }]);
  });

  it('a failed last retry gives up with the number of attempts made', async () => {
    const giveUps: GiveUpEvent[] = [];
    const policy = new RetryPolicy({
      maxRetries: 1,
      backoff: constantBackoff({ baseDelayMs: 1 }),
      onGiveUp: (event) => giveUps.push(event),
    });
    const last = httpError(500);
    const outcome = settle(policy.execute(scripted([httpError(503), last]).fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: false, error: last });
    expect(giveUps).toEqual([{ attempts: 2, error: last, reason: 'retries-exhausted' }]);
  });

  it("leaves a settled attempt's signal alone when the caller aborts afterwards", async () => {
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const policy = new RetryPolicy();
    await policy.execute(
      (context) => {
        signal = context.signal;
        return 'ok';
      },
      { signal: controller.signal },
    );
    controller.abort(new Error('later'));
    expect(signal?.aborted).toBe(false);
  });
});

describe('Retry-After', () => {
  it('waits the retryAfterMs an error carries instead of the backoff', async () => {
    const events: RetryEvent[] = [];
    const policy = new RetryPolicy({
      backoff: exponentialBackoff({ baseDelayMs: 100 }),
      onRetry: (event) => events.push(event),
    });
    const script = scripted([{ status: 429, retryable: true, retryAfterMs: 5000 }]);
    const outcome = settle(policy.execute(script.fn));
    await vi.advanceTimersByTimeAsync(4999);
    expect(script.times).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
    expect(gaps(script.times)).toEqual([5000]);
    expect(events[0]).toMatchObject({ attempt: 1, delay: 5000, source: 'retry-after' });
  });

  it('reads an HTTP-date Retry-After header against the injected clock', async () => {
    const policy = new RetryPolicy({ backoff: constantBackoff({ baseDelayMs: 10 }), now: () => Date.now() });
    const headers = new Headers({ 'retry-after': new Date(Date.now() + 3000).toUTCString() });
    const script = scripted([httpError(503, { headers })]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
    expect(gaps(script.times)).toEqual([3000]);
  });

  it('caps Retry-After at the backoff maxDelayMs', async () => {
    const policy = new RetryPolicy({ backoff: exponentialBackoff({ baseDelayMs: 100, maxDelayMs: 10_000 }) });
    const script = scripted([httpError(429, { headers: { 'Retry-After': '120' } })]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
    expect(gaps(script.times)).toEqual([10_000]);
  });

  it('ignores Retry-After when respectRetryAfter is false', async () => {
    const policy = new RetryPolicy({
      backoff: constantBackoff({ baseDelayMs: 50 }),
      respectRetryAfter: false,
    });
    const script = scripted([httpError(429, { retryAfterMs: 9000 })]);
    const outcome = settle(policy.execute(script.fn));
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: true, value: 'ok' });
    expect(gaps(script.times)).toEqual([50]);
  });
});

describe('cancellation and timeouts', () => {
  it('aborting mid-wait rejects at once with the reason and makes no further attempt', async () => {
    const giveUps: GiveUpEvent[] = [];
    const policy = new RetryPolicy({
      backoff: constantBackoff({ baseDelayMs: 1000 }),
      onGiveUp: (event) => giveUps.push(event),
    });
    const controller = new AbortController();
    const script = scripted([httpError(503), httpError(503)]);
    const outcome = settle(policy.execute(script.fn, { signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(500);
    expect(script.times).toHaveLength(1);
    const reason = new Error('client went away');
    controller.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome.current).toEqual({ ok: false, error: reason });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(script.times).toHaveLength(1);
    expect(giveUps).toEqual([{ attempts: 1, error: reason, reason: 'aborted' }]);
    expect(policy.stats()).toMatchObject({ aborted: 1, failures: 1 });
  });

  it('aborting mid-attempt aborts the attempt signal and rejects without waiting for the attempt', async () => {
    const policy = new RetryPolicy();
    const controller = new AbortController();
    let attemptSignal: AbortSignal | undefined;
    const outcome = settle(
      policy.execute(
        ({ signal }) => {
          attemptSignal = signal;
          return new Promise<never>(() => {
            // Deliberately deaf to its signal: the policy must not hang on it.
          });
        },
        { signal: controller.signal },
      ),
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(outcome.current).toBeUndefined();
    controller.abort('stop');
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome.current).toEqual({ ok: false, error: 'stop' });
    expect(attemptSignal?.aborted).toBe(true);
    expect(attemptSignal?.reason).toBe('stop');
  });

  it('never calls the function when the signal is already aborted', async () => {
    const budget = new RetryBudget({ now: () => Date.now() });
    const policy = new RetryPolicy({ budget });
    const fn = vi.fn(async () => 'ok');
    const reason = new Error('already cancelled');
    await expect(policy.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(budget.snapshot().requests).toBe(0);
  });

  it('times out each attempt, aborting its signal with an AttemptTimeoutError, and retries', async () => {
    const policy = new RetryPolicy({
      maxRetries: 2,
      attemptTimeoutMs: 1000,
      backoff: constantBackoff({ baseDelayMs: 100 }),
    });
    const signals: AbortSignal[] = [];
    const outcome = settle(
      policy.execute(({ signal }) => {
        signals.push(signal);
        return new Promise<never>(() => {
          // Never settles and ignores its signal.
        });
      }),
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signals[0]?.reason).toBeInstanceOf(AttemptTimeoutError);
    await vi.advanceTimersByTimeAsync(100);
    expect(signals).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1100);
    expect(signals).toHaveLength(3);
    expect(outcome.current).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1000);
    const result = await outcome.done;
    expect(result.ok).toBe(false);
    const error = result.ok ? undefined : result.error;
    expect(AttemptTimeoutError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'LLM_EDGE_RETRY_ATTEMPT_TIMEOUT', attempt: 3, timeoutMs: 1000 });
    expect(Date.now() - Date.parse('2026-01-01T00:00:00Z')).toBe(3 * 1000 + 2 * 100);
  });

  it('succeeds when a retry finishes within the attempt timeout', async () => {
    const policy = new RetryPolicy({ attemptTimeoutMs: 500, backoff: constantBackoff({ baseDelayMs: 10 }) });
    let calls = 0;
    const outcome = settle(
      policy.execute(({ signal }) => {
        calls += 1;
        if (calls === 1) {
          return new Promise<string>((_resolve, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          });
        }
        return new Promise<string>((resolve) => setTimeout(() => resolve('second time lucky'), 200));
      }),
    );
    await vi.runAllTimersAsync();
    expect(await outcome.done).toEqual({ ok: true, value: 'second time lucky' });
    expect(calls).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('retry budget', () => {
  it('surfaces the failure at once, wrapped with a clear code, when the budget is exhausted', async () => {
    const giveUps: GiveUpEvent[] = [];
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0, now: () => Date.now() });
    const policy = new RetryPolicy({
      backoff: constantBackoff({ baseDelayMs: 1000 }),
      budget,
      onGiveUp: (event) => giveUps.push(event),
    });
    const original = httpError(503);
    const script = scripted([original]);
    const outcome = settle(policy.execute(script.fn));
    await vi.advanceTimersByTimeAsync(0);
    const result = outcome.current;
    expect(result?.ok).toBe(false);
    const error = result?.ok === false ? result.error : undefined;
    expect(RetryBudgetExhaustedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'LLM_EDGE_RETRY_BUDGET_EXHAUSTED', attempts: 1, retryable: false });
    expect((error as Error).cause).toBe(original);
    expect(script.times).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(giveUps[0]).toMatchObject({ attempts: 1, reason: 'budget-exhausted' });
    expect(policy.stats()).toMatchObject({ budgetExhausted: 1, retries: 0 });
  });

  it('is shared by policies and refills as the window slides', async () => {
    const budget = new RetryBudget({
      ratio: 0,
      minRetriesPerSecond: 1,
      windowMs: 1000,
      buckets: 1,
      now: () => Date.now(),
    });
    const fast = new RetryPolicy({ budget, backoff: constantBackoff({ baseDelayMs: 0 }), maxRetries: 5 });
    const other = new RetryPolicy({ budget, backoff: constantBackoff({ baseDelayMs: 0 }) });

    const first = scripted([httpError(503), httpError(503)]);
    const firstOutcome = settle(fast.execute(first.fn));
    await vi.advanceTimersByTimeAsync(0);
    // The one retry the floor allows per second was spent; the second retry is refused.
    expect(
      RetryBudgetExhaustedError.isInstance(firstOutcome.current?.ok === false && firstOutcome.current.error),
    ).toBe(true);
    expect(first.times).toHaveLength(2);

    const second = scripted([httpError(503)]);
    await expect(other.execute(second.fn)).rejects.toSatisfy(RetryBudgetExhaustedError.isInstance);
    expect(second.times).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(1000);
    const third = scripted([httpError(503)]);
    await expect(other.execute(third.fn)).resolves.toBe('ok');
    expect(third.times).toHaveLength(2);
  });

  it('records each execute call as one request, however many retries it makes', async () => {
    const budget = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, now: () => Date.now() });
    for (let i = 0; i < 3; i++) budget.recordRequest();
    const policy = new RetryPolicy({ budget, backoff: constantBackoff({ baseDelayMs: 0 }) });
    const script = scripted([httpError(500), httpError(500)]);
    await expect(policy.execute(script.fn)).resolves.toBe('ok');
    expect(budget.snapshot()).toMatchObject({ requests: 4, retries: 2 });
  });
});

describe('hooks, stats and options', () => {
  it('counts hook exceptions without letting them change the outcome', async () => {
    const policy = new RetryPolicy({
      backoff: constantBackoff({ baseDelayMs: 1 }),
      onRetry: () => {
        throw new Error('broken metrics');
      },
      onGiveUp: () => {
        throw new Error('broken logger');
      },
    });
    const ok = settle(policy.execute(scripted([httpError(502)]).fn));
    await vi.runAllTimersAsync();
    expect(await ok.done).toEqual({ ok: true, value: 'ok' });
    const permanent = httpError(403);
    await expect(policy.execute(scripted([permanent]).fn)).rejects.toBe(permanent);
    expect(policy.stats()).toEqual({
      executions: 2,
      attempts: 3,
      retries: 1,
      successes: 1,
      failures: 1,
      budgetExhausted: 0,
      aborted: 0,
      hookErrors: 2,
    });
  });

  it.each<[string, RetryPolicyOptions]>([
    ['maxRetries', { maxRetries: -1 }],
    ['maxRetries', { maxRetries: 1.5 }],
    ['attemptTimeoutMs', { attemptTimeoutMs: 0 }],
    ['backoff', { backoff: {} as Backoff }],
    ['retryIf', { retryIf: 'yes' as unknown as () => boolean }],
    ['budget', { budget: {} as RetryBudget }],
    ['respectRetryAfter', { respectRetryAfter: 'no' as unknown as boolean }],
  ])('rejects a bad %s at construction, naming it', (option, options) => {
    expect(() => new RetryPolicy(options)).toThrow(InvalidRetryOptionError);
    expect(() => new RetryPolicy(options)).toThrow(expect.objectContaining({ option }));
  });

  it('retry() runs a one-off policy and infers the result type', async () => {
    const controller = new AbortController();
    const script = scripted([httpError(503)]);
    const pending = retry(script.fn, {
      backoff: constantBackoff({ baseDelayMs: 20 }),
      signal: controller.signal,
    });
    expectTypeOf(pending).toEqualTypeOf<Promise<string>>();
    expectTypeOf(new RetryPolicy().execute(async () => 1)).toEqualTypeOf<Promise<number>>();
    await vi.advanceTimersByTimeAsync(20);
    await expect(pending).resolves.toBe('ok');
  });
});
