import pRetry from 'p-retry';
import { type Backoff, exponentialJitterBackoff } from './backoff';
import { isRetryableError } from './classify-error';
import { AttemptTimeoutError, InvalidRetryOptionError, RetryBudgetExhaustedError } from './errors';
import type { RandomSource } from './random';
import { getRetryAfterMs } from './retry-after';
import type { RetryBudgetLike } from './retry-budget';
import { checkFunction, checkNumber, MAX_TIMER_DELAY_MS } from './validate';

/** What each attempt receives. */
export interface AttemptContext {
  /** 1 for the first call, 2 for the first retry, … */
  readonly attempt: number;
  /**
   * Aborted when the caller's signal aborts (with its reason) or the attempt outlives
   * `attemptTimeoutMs` (with an {@link AttemptTimeoutError}). Pass it to fetch, SDK calls, etc.
   */
  readonly signal: AbortSignal;
}

/** Options of one {@link RetryPolicy.execute} call. */
export interface ExecuteOptions {
  /** Cancels the current attempt and any wait; the call rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** Decides whether a failure may be retried; `attempt` is the attempt that just failed (1-based). */
export type RetryPredicate = (error: unknown, attempt: number) => boolean;

/** Passed to `onRetry` just before the policy waits. */
export interface RetryEvent {
  /** The attempt that failed (1-based); the next attempt is `attempt + 1`. */
  readonly attempt: number;
  /** Milliseconds the policy waits before the next attempt. */
  readonly delay: number;
  /** What the failed attempt threw. */
  readonly error: unknown;
  /** Whether `delay` came from the backoff strategy or from the error's Retry-After. */
  readonly source: 'backoff' | 'retry-after';
}

/**
 * Why an `execute` call rejected: `retries-exhausted` when the last permitted attempt failed,
 * `not-retryable` when `retryIf` declined earlier, `budget-exhausted` when the budget refused a
 * retry, `aborted` when the caller's signal aborted.
 */
export type GiveUpReason = 'not-retryable' | 'retries-exhausted' | 'budget-exhausted' | 'aborted';

/** Passed to `onGiveUp` when an `execute` call rejects. */
export interface GiveUpEvent {
  /** Attempts made, including the first. */
  readonly attempts: number;
  /** What the call rejects with. */
  readonly error: unknown;
  readonly reason: GiveUpReason;
}

/** Cumulative counters of one {@link RetryPolicy}. */
export interface RetryPolicyStats {
  /** `execute` calls. */
  readonly executions: number;
  /** Attempts started, first ones included. */
  readonly attempts: number;
  /** Retries scheduled. */
  readonly retries: number;
  /** Calls that resolved. */
  readonly successes: number;
  /** Calls that rejected, for any reason. */
  readonly failures: number;
  /** Calls that rejected because the retry budget refused a retry. */
  readonly budgetExhausted: number;
  /** Calls that rejected because their signal aborted. */
  readonly aborted: number;
  /** Exceptions thrown by `onRetry` / `onGiveUp` (they never reach the caller). */
  readonly hookErrors: number;
}

/** Options of {@link RetryPolicy}. */
export interface RetryPolicyOptions {
  /**
   * Retries after the first attempt (so at most `maxRetries + 1` attempts). Integer 0..10000.
   * @default 3
   */
  maxRetries?: number;
  /**
   * How long to wait before each retry; its `maxDelayMs` also caps Retry-After.
   * @default exponentialJitterBackoff() — 200 ms × 2^(n-1), capped at 30 s, jitter 0.5
   */
  backoff?: Backoff;
  /**
   * Which failures to retry.
   * @default isRetryableError — network errors, timeouts, 408/409/429/5xx, `retryable: true`
   */
  retryIf?: RetryPredicate;
  /**
   * Wait what the error's Retry-After asks (capped by `backoff.maxDelayMs`) instead of the backoff.
   * @default true
   */
  respectRetryAfter?: boolean;
  /**
   * Abort an attempt that runs longer than this (ms) and treat it as a retryable failure.
   * `undefined` means attempts are not timed.
   * @default undefined
   */
  attemptTimeoutMs?: number | undefined;
  /**
   * A budget shared with other policies; when it refuses a retry, the call rejects at once with
   * a {@link RetryBudgetExhaustedError} whose `cause` is the failure.
   * @default undefined
   */
  budget?: RetryBudgetLike | undefined;
  /**
   * Called before each wait. Exceptions are counted in `stats().hookErrors` and otherwise ignored.
   * @default undefined
   */
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /**
   * Called when a call rejects. Exceptions are counted in `stats().hookErrors` and otherwise ignored.
   * @default undefined
   */
  onGiveUp?: ((event: GiveUpEvent) => void) | undefined;
  /**
   * Random source for jittered backoff; inject a seeded one for reproducible delays.
   * @default Math.random
   */
  random?: RandomSource;
  /**
   * Wall clock in ms, used to turn a Retry-After HTTP date into a delay.
   * @default Date.now
   */
  now?: () => number;
}

/** Defaults of {@link RetryPolicyOptions} (options not listed default to `undefined`: off). */
export const DEFAULT_RETRY_POLICY_OPTIONS: Readonly<
  Required<
    Pick<RetryPolicyOptions, 'maxRetries' | 'backoff' | 'retryIf' | 'respectRetryAfter' | 'random' | 'now'>
  >
> = Object.freeze({
  maxRetries: 3,
  backoff: exponentialJitterBackoff(),
  retryIf: isRetryableError,
  respectRetryAfter: true,
  random: Math.random,
  now: Date.now,
});

interface ResolvedOptions {
  readonly maxRetries: number;
  readonly backoff: Backoff;
  readonly retryIf: RetryPredicate;
  readonly respectRetryAfter: boolean;
  readonly attemptTimeoutMs: number | undefined;
  readonly budget: RetryBudgetLike | undefined;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
  readonly onGiveUp: ((event: GiveUpEvent) => void) | undefined;
  readonly random: RandomSource;
  readonly now: () => number;
}

/**
 * Carries an attempt's failure through p-retry untouched: p-retry refuses to retry a plain
 * `TypeError`, but whether to retry is `retryIf`'s decision, and network failures are TypeErrors.
 */
class AttemptFailure extends Error {
  readonly original: unknown;

  constructor(original: unknown) {
    super('attempt failed');
    this.original = original;
  }
}

/** What one `execute` call has done so far. */
interface CallState {
  attempts: number;
  retries: number;
  previousDelay: number;
  budgetRefused: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Runs async functions with retries: backoff with jitter, a retry predicate, Retry-After, an
 * optional per-attempt timeout, cancellation through AbortSignal and an optional shared budget.
 * Built on p-retry. One policy may serve any number of concurrent calls.
 *
 * @example
 * ```ts
 * const policy = new RetryPolicy({ maxRetries: 4, attemptTimeoutMs: 10_000 });
 * const res = await policy.execute(async ({ signal }) => {
 *   const response = await fetch(url, { signal });
 *   if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status, headers: response.headers });
 *   return response.json();
 * }, { signal: request.signal });
 * ```
 */
export class RetryPolicy {
  readonly #options: ResolvedOptions;
  readonly #stats: Mutable<RetryPolicyStats> = {
    executions: 0,
    attempts: 0,
    retries: 0,
    successes: 0,
    failures: 0,
    budgetExhausted: 0,
    aborted: 0,
    hookErrors: 0,
  };

  constructor(options: RetryPolicyOptions = {}) {
    this.#options = Object.freeze(resolveOptions(options));
  }

  /** The backoff strategy in use. */
  get backoff(): Backoff {
    return this.#options.backoff;
  }

  /** The most retries one call makes. */
  get maxRetries(): number {
    return this.#options.maxRetries;
  }

  /** A copy of the cumulative counters. */
  stats(): RetryPolicyStats {
    return { ...this.#stats };
  }

  /**
   * Calls `fn` until it resolves, a failure is not retryable, retries or the budget run out, or
   * `signal` aborts. Rejects with what the last attempt threw (unchanged), the signal's reason, or
   * a {@link RetryBudgetExhaustedError} wrapping the failure.
   */
  async execute<T>(
    fn: (context: AttemptContext) => Promise<T> | T,
    options: ExecuteOptions = {},
  ): Promise<T> {
    const { signal } = options;
    const settings = this.#options;
    const stats = this.#stats;
    stats.executions += 1;
    const call: CallState = { attempts: 1, retries: 0, previousDelay: 0, budgetRefused: false };
    try {
      signal?.throwIfAborted();
      settings.budget?.recordRequest();
      // Most calls succeed at once: the first attempt runs without p-retry's machinery, and p-retry
      // takes over from the first failure with the same decisions it would have made.
      stats.attempts += 1;
      let first: T;
      try {
        first = await runAttempt(fn, 1, signal, settings.attemptTimeoutMs);
      } catch (error) {
        signal?.throwIfAborted();
        if (settings.maxRetries === 0 || !(await this.#shouldRetry(error, 1, call, signal))) throw error;
        signal?.throwIfAborted();
        const result = await this.#retryAfterFirst(fn, call, signal);
        stats.successes += 1;
        return result;
      }
      signal?.throwIfAborted();
      stats.successes += 1;
      return first;
    } catch (thrown) {
      const error = thrown instanceof AttemptFailure ? thrown.original : thrown;
      let reason: GiveUpReason;
      if (signal?.aborted && error === signal.reason) {
        reason = 'aborted';
        stats.aborted += 1;
      } else if (call.budgetRefused) {
        reason = 'budget-exhausted';
        stats.budgetExhausted += 1;
      } else {
        reason = call.retries >= settings.maxRetries ? 'retries-exhausted' : 'not-retryable';
      }
      stats.failures += 1;
      this.#emit(settings.onGiveUp, { attempts: call.attempts, error, reason });
      throw error;
    }
  }

  /** Attempts 2 and later, through p-retry, once the first attempt failed and a retry was granted. */
  #retryAfterFirst<T>(
    fn: (context: AttemptContext) => Promise<T> | T,
    call: CallState,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const settings = this.#options;
    const stats = this.#stats;
    return pRetry(
      async (n: number) => {
        const attempt = n + 1;
        call.attempts = attempt;
        stats.attempts += 1;
        try {
          return await runAttempt(fn, attempt, signal, settings.attemptTimeoutMs);
        } catch (error) {
          throw new AttemptFailure(error);
        }
      },
      {
        retries: settings.maxRetries - 1,
        // The wait happens in shouldRetry below, where the delay is ours (strategy or Retry-After).
        minTimeout: 0,
        signal,
        shouldRetry: ({ error, attemptNumber }) =>
          this.#shouldRetry(
            error instanceof AttemptFailure ? error.original : error,
            attemptNumber + 1,
            call,
            signal,
          ),
      },
    );
  }

  /**
   * Whether the failed `attempt` is retried: asks `retryIf` and the budget, then waits the delay.
   * Throws a {@link RetryBudgetExhaustedError} when the budget refuses.
   */
  async #shouldRetry(
    failure: unknown,
    attempt: number,
    call: CallState,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const settings = this.#options;
    if (!settings.retryIf(failure, attempt)) return false;
    if (settings.budget !== undefined && !settings.budget.tryRetry()) {
      call.budgetRefused = true;
      throw new RetryBudgetExhaustedError(failure, attempt);
    }
    const { delay, source } = this.#delayFor(attempt, failure, call.previousDelay);
    call.previousDelay = delay;
    call.retries += 1;
    this.#stats.retries += 1;
    this.#emit(settings.onRetry, { attempt, delay, error: failure, source });
    await sleep(delay, signal);
    return true;
  }

  #delayFor(attempt: number, error: unknown, previousDelay: number): Pick<RetryEvent, 'delay' | 'source'> {
    const { backoff, respectRetryAfter, now, random } = this.#options;
    if (respectRetryAfter) {
      const retryAfter = getRetryAfterMs(error, now());
      if (retryAfter !== undefined) {
        return { delay: Math.min(Math.ceil(retryAfter), backoff.maxDelayMs), source: 'retry-after' };
      }
    }
    const computed = backoff.delay(attempt, random, previousDelay);
    // A custom strategy may misbehave; a NaN or negative wait must not become a tight loop or a throw.
    const delay = Number.isFinite(computed)
      ? Math.min(Math.max(0, Math.round(computed)), backoff.maxDelayMs)
      : backoff.maxDelayMs;
    return { delay, source: 'backoff' };
  }

  #emit<E>(hook: ((event: E) => void) | undefined, event: E): void {
    if (hook === undefined) return;
    try {
      hook(event);
    } catch {
      // Observers must not change the outcome of a call; the failure is still counted.
      this.#stats.hookErrors += 1;
    }
  }
}

/**
 * One-off retry of `fn` with a fresh {@link RetryPolicy}; create a policy once instead when the
 * same settings (or a budget) serve many calls.
 *
 * @example
 * ```ts
 * const data = await retry(({ signal }) => fetchJson(url, { signal }), { maxRetries: 2, signal });
 * ```
 */
export function retry<T>(
  fn: (context: AttemptContext) => Promise<T> | T,
  options: RetryPolicyOptions & ExecuteOptions = {},
): Promise<T> {
  const { signal, ...policyOptions } = options;
  return new RetryPolicy(policyOptions).execute(fn, { signal });
}

function resolveOptions(options: RetryPolicyOptions): ResolvedOptions {
  const defaults = DEFAULT_RETRY_POLICY_OPTIONS;
  const maxRetries = checkNumber('maxRetries', options.maxRetries ?? defaults.maxRetries, {
    min: 0,
    max: 10_000,
    integer: true,
  });
  const backoff = options.backoff ?? defaults.backoff;
  if (typeof backoff !== 'object' || backoff === null || typeof backoff.delay !== 'function') {
    throw new InvalidRetryOptionError('backoff', 'a Backoff (e.g. exponentialJitterBackoff())', backoff);
  }
  checkNumber('backoff.maxDelayMs', backoff.maxDelayMs, { min: 0, max: MAX_TIMER_DELAY_MS });
  const respectRetryAfter = options.respectRetryAfter ?? defaults.respectRetryAfter;
  if (typeof respectRetryAfter !== 'boolean') {
    throw new InvalidRetryOptionError('respectRetryAfter', 'a boolean', respectRetryAfter);
  }
  const attemptTimeoutMs =
    options.attemptTimeoutMs === undefined
      ? undefined
      : checkNumber('attemptTimeoutMs', options.attemptTimeoutMs, {
          min: 0,
          exclusiveMin: true,
          max: MAX_TIMER_DELAY_MS,
        });
  const budget = options.budget;
  if (
    budget !== undefined &&
    (typeof budget.recordRequest !== 'function' || typeof budget.tryRetry !== 'function')
  ) {
    throw new InvalidRetryOptionError('budget', 'a RetryBudget (recordRequest and tryRetry)', budget);
  }
  return {
    maxRetries,
    backoff,
    retryIf: checkFunction('retryIf', options.retryIf ?? defaults.retryIf),
    respectRetryAfter,
    attemptTimeoutMs,
    budget,
    onRetry: options.onRetry === undefined ? undefined : checkFunction('onRetry', options.onRetry),
    onGiveUp: options.onGiveUp === undefined ? undefined : checkFunction('onGiveUp', options.onGiveUp),
    random: checkFunction('random', options.random ?? defaults.random),
    now: checkFunction('now', options.now ?? defaults.now),
  };
}

/** Runs one attempt, settling early when the caller aborts or the attempt times out. */
function runAttempt<T>(
  fn: (context: AttemptContext) => Promise<T> | T,
  attempt: number,
  outer: AbortSignal | undefined,
  timeoutMs: number | undefined,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    };
    // Settles at once even when `fn` ignores its signal; a late result of an abandoned attempt is dropped.
    const fail = (reason: unknown): void => {
      cleanup();
      controller.abort(reason);
      reject(reason);
    };
    function onAbort(): void {
      fail(outer?.reason);
    }
    if (outer?.aborted) {
      reject(outer.reason);
      return;
    }
    outer?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => fail(new AttemptTimeoutError(timeoutMs, attempt)), timeoutMs);
    }
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(fn({ attempt, signal: controller.signal }));
    } catch (error) {
      cleanup();
      reject(error);
      return;
    }
    pending.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/** Waits `ms`, rejecting with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    if (ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
