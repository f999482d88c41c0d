import { InvalidRetryOptionError } from './errors';
import type { RandomSource } from './random';
import { checkNumber, MAX_TIMER_DELAY_MS } from './validate';

/**
 * A backoff strategy: how long to wait before each retry. `delay` is a pure function of its
 * arguments, so a seeded `random` reproduces a schedule exactly.
 */
export interface Backoff {
  /** Strategy name, e.g. `exponential-jitter`; informational. */
  readonly name: string;
  /** Delay before the first retry (the scale of the strategy), in ms. */
  readonly baseDelayMs: number;
  /** No delay exceeds this, including a server's Retry-After, in ms. */
  readonly maxDelayMs: number;
  /**
   * Milliseconds to wait before retry number `attempt` (1 for the first retry).
   * `previousDelayMs` is the delay actually waited before the previous retry (0 before the first);
   * only decorrelated jitter reads it.
   */
  delay(attempt: number, random: RandomSource, previousDelayMs: number): number;
}

/** Options shared by every backoff strategy. */
export interface BackoffOptions {
  /**
   * Delay before the first retry in ms (the constant delay for `constantBackoff`, the step for
   * `linearBackoff`, the lower bound for `decorrelatedJitterBackoff`).
   * @default 200
   */
  baseDelayMs?: number;
  /**
   * Upper bound of every delay in ms, also applied to a server's Retry-After. At most 2^31-1.
   * @default 30000
   */
  maxDelayMs?: number;
}

/** Options of {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions extends BackoffOptions {
  /**
   * Growth per retry: delay = baseDelayMs * factor^(attempt-1). Between 1 and 100.
   * @default 2
   */
  factor?: number;
}

/** Options of {@link exponentialJitterBackoff}. */
export interface ExponentialJitterBackoffOptions extends ExponentialBackoffOptions {
  /**
   * Fraction of the capped exponential delay that is randomised, 0..1: the delay is drawn
   * uniformly from [d * (1 - jitter), d). 1 is "full jitter", 0.5 "equal jitter", 0 none.
   * @default 0.5
   */
  jitter?: number;
}

/** Defaults of every backoff option. */
export const DEFAULT_BACKOFF_OPTIONS: Readonly<Required<ExponentialJitterBackoffOptions>> = Object.freeze({
  baseDelayMs: 200,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.5,
});

function resolveBase(options: BackoffOptions): { baseDelayMs: number; maxDelayMs: number } {
  const baseDelayMs = checkNumber('baseDelayMs', options.baseDelayMs ?? DEFAULT_BACKOFF_OPTIONS.baseDelayMs, {
    min: 0,
    max: MAX_TIMER_DELAY_MS,
  });
  const maxDelayMs = checkNumber('maxDelayMs', options.maxDelayMs ?? DEFAULT_BACKOFF_OPTIONS.maxDelayMs, {
    min: 0,
    max: MAX_TIMER_DELAY_MS,
  });
  if (maxDelayMs < baseDelayMs) {
    throw new InvalidRetryOptionError('maxDelayMs', `a value >= baseDelayMs (${baseDelayMs})`, maxDelayMs);
  }
  return { baseDelayMs, maxDelayMs };
}

function resolveFactor(options: ExponentialBackoffOptions): number {
  return checkNumber('factor', options.factor ?? DEFAULT_BACKOFF_OPTIONS.factor, { min: 1, max: 100 });
}

function checkAttempt(attempt: number): void {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new InvalidRetryOptionError('attempt', 'an integer >= 1', attempt);
  }
}

/** base * factor^(attempt-1), capped; large attempts saturate at the cap instead of overflowing. */
function cappedExponential(base: number, factor: number, max: number, attempt: number): number {
  if (base === 0) return 0;
  const raw = base * factor ** (attempt - 1);
  return Number.isFinite(raw) ? Math.min(raw, max) : max;
}

/**
 * The same delay before every retry.
 *
 * @example
 * ```ts
 * constantBackoff({ baseDelayMs: 500 }).delay(3, Math.random, 0); // 500
 * ```
 */
export function constantBackoff(options: BackoffOptions = {}): Backoff {
  const { baseDelayMs, maxDelayMs } = resolveBase(options);
  return Object.freeze({
    name: 'constant',
    baseDelayMs,
    maxDelayMs,
    delay(attempt: number): number {
      checkAttempt(attempt);
      return Math.round(Math.min(baseDelayMs, maxDelayMs));
    },
  });
}

/** A delay growing by `baseDelayMs` per retry: base, 2*base, 3*base, … up to `maxDelayMs`. */
export function linearBackoff(options: BackoffOptions = {}): Backoff {
  const { baseDelayMs, maxDelayMs } = resolveBase(options);
  return Object.freeze({
    name: 'linear',
    baseDelayMs,
    maxDelayMs,
    delay(attempt: number): number {
      checkAttempt(attempt);
      return Math.round(Math.min(baseDelayMs * attempt, maxDelayMs));
    },
  });
}

/** A delay multiplied by `factor` per retry: base, base*f, base*f², … up to `maxDelayMs`. */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  const { baseDelayMs, maxDelayMs } = resolveBase(options);
  const factor = resolveFactor(options);
  return Object.freeze({
    name: 'exponential',
    baseDelayMs,
    maxDelayMs,
    delay(attempt: number): number {
      checkAttempt(attempt);
      return Math.round(cappedExponential(baseDelayMs, factor, maxDelayMs, attempt));
    },
  });
}

/**
 * Capped exponential delay with a random fraction taken off, so callers that failed together do
 * not retry together.
 *
 * @example
 * ```ts
 * // full jitter: uniformly in [0, min(30 s, 100 ms * 2^(n-1)))
 * const backoff = exponentialJitterBackoff({ baseDelayMs: 100, jitter: 1 });
 * ```
 */
export function exponentialJitterBackoff(options: ExponentialJitterBackoffOptions = {}): Backoff {
  const { baseDelayMs, maxDelayMs } = resolveBase(options);
  const factor = resolveFactor(options);
  const jitter = checkNumber('jitter', options.jitter ?? DEFAULT_BACKOFF_OPTIONS.jitter, { min: 0, max: 1 });
  return Object.freeze({
    name: 'exponential-jitter',
    baseDelayMs,
    maxDelayMs,
    delay(attempt: number, random: RandomSource): number {
      checkAttempt(attempt);
      const capped = cappedExponential(baseDelayMs, factor, maxDelayMs, attempt);
      return Math.floor(capped * (1 - jitter + jitter * random()));
    },
  });
}

/**
 * "Decorrelated jitter": each delay is drawn uniformly from [base, 3 × previous delay), capped.
 * Spreads retries well and grows more gently than plain exponential backoff.
 */
export function decorrelatedJitterBackoff(options: BackoffOptions = {}): Backoff {
  const { baseDelayMs, maxDelayMs } = resolveBase(options);
  return Object.freeze({
    name: 'decorrelated-jitter',
    baseDelayMs,
    maxDelayMs,
    delay(attempt: number, random: RandomSource, previousDelayMs: number): number {
      checkAttempt(attempt);
      const previous = previousDelayMs > 0 ? previousDelayMs : baseDelayMs;
      const upper = Math.max(baseDelayMs, previous * 3);
      return Math.floor(Math.min(maxDelayMs, baseDelayMs + random() * (upper - baseDelayMs)));
    },
  });
}

/**
 * The delays a strategy produces for retries 1..count, each fed the previous one, exactly as a
 * {@link RetryPolicy} would wait when no Retry-After intervenes. Handy for docs and tests.
 *
 * @example
 * ```ts
 * backoffDelays(exponentialBackoff({ baseDelayMs: 100 }), 4); // [100, 200, 400, 800]
 * ```
 */
export function backoffDelays(backoff: Backoff, count: number, random: RandomSource = Math.random): number[] {
  const delays: number[] = [];
  let previous = 0;
  for (let attempt = 1; attempt <= count; attempt++) {
    previous = backoff.delay(attempt, random, previous);
    delays.push(previous);
  }
  return delays;
}
