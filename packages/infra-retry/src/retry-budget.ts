import { InvalidRetryOptionError } from './errors';
import { checkFunction, checkNumber } from './validate';

/** What a {@link RetryPolicy} needs from a budget; implement it to share a budget elsewhere (e.g. Redis). */
export interface RetryBudgetLike {
  /** Counts one logical request (a first attempt, not a retry). */
  recordRequest(): void;
  /** Takes one retry from the budget; false (and nothing recorded) when there is no room. */
  tryRetry(): boolean;
}

/** Options of {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /**
   * Retries allowed as a share of the requests recorded in the window, e.g. 0.2 = one retry per
   * five requests. Between 0 and 10.
   * @default 0.2
   */
  ratio?: number;
  /**
   * Length of the sliding window, in ms.
   * @default 10000
   */
  windowMs?: number;
  /**
   * Retries per second always allowed on top of the ratio, so a caller with little traffic can
   * still retry; over the window this adds `minRetriesPerSecond * windowMs / 1000` retries.
   * @default 1
   */
  minRetriesPerSecond?: number;
  /**
   * Buckets the window is divided into; counts leave the window one bucket at a time.
   * @default 10
   */
  buckets?: number;
  /**
   * Monotonic clock in ms.
   * @default () => performance.now()
   */
  now?: () => number;
}

/** Defaults of {@link RetryBudgetOptions}. */
export const DEFAULT_RETRY_BUDGET_OPTIONS: Readonly<Required<RetryBudgetOptions>> = Object.freeze({
  ratio: 0.2,
  windowMs: 10_000,
  minRetriesPerSecond: 1,
  buckets: 10,
  now: () => performance.now(),
});

/** Counts inside a {@link RetryBudget}'s current window. */
export interface RetryBudgetSnapshot {
  /** Requests recorded in the window. */
  readonly requests: number;
  /** Retries granted in the window. */
  readonly retries: number;
  /** Retries the window allows in total: ratio × requests + the per-second floor. */
  readonly allowance: number;
  /** Retries that would still be granted now (whole retries, never negative). */
  readonly available: number;
}

/**
 * A retry budget shared by many callers, to stop retry storms: a retry is granted only while the
 * retries in a sliding window stay within `ratio` of the requests in it, plus a small per-second
 * floor. When a dependency fails for everyone, retries stop amplifying its load.
 *
 * @example
 * ```ts
 * const budget = new RetryBudget({ ratio: 0.1 });
 * const a = new RetryPolicy({ budget });
 * const b = new RetryPolicy({ budget, maxRetries: 5 }); // shares the same budget
 * ```
 */
export class RetryBudget implements RetryBudgetLike {
  readonly #ratio: number;
  readonly #floor: number;
  readonly #bucketMs: number;
  readonly #now: () => number;
  readonly #ids: number[];
  readonly #requests: number[];
  readonly #retries: number[];

  constructor(options: RetryBudgetOptions = {}) {
    const ratio = checkNumber('ratio', options.ratio ?? DEFAULT_RETRY_BUDGET_OPTIONS.ratio, {
      min: 0,
      max: 10,
    });
    const windowMs = checkNumber('windowMs', options.windowMs ?? DEFAULT_RETRY_BUDGET_OPTIONS.windowMs, {
      min: 0,
      exclusiveMin: true,
      max: 86_400_000,
    });
    const minPerSecond = checkNumber(
      'minRetriesPerSecond',
      options.minRetriesPerSecond ?? DEFAULT_RETRY_BUDGET_OPTIONS.minRetriesPerSecond,
      { min: 0, max: 1_000_000 },
    );
    const buckets = checkNumber('buckets', options.buckets ?? DEFAULT_RETRY_BUDGET_OPTIONS.buckets, {
      min: 1,
      max: 1000,
      integer: true,
    });
    if (windowMs / buckets < 1) {
      throw new InvalidRetryOptionError('buckets', `at most windowMs (${windowMs}) buckets`, buckets);
    }
    this.#ratio = ratio;
    this.#floor = (minPerSecond * windowMs) / 1000;
    this.#bucketMs = windowMs / buckets;
    this.#now = checkFunction('now', options.now ?? DEFAULT_RETRY_BUDGET_OPTIONS.now);
    this.#ids = new Array<number>(buckets).fill(Number.NEGATIVE_INFINITY);
    this.#requests = new Array<number>(buckets).fill(0);
    this.#retries = new Array<number>(buckets).fill(0);
  }

  /** Counts one logical request (a first attempt, not a retry). */
  recordRequest(): void {
    const index = this.#advance();
    this.#requests[index]! += 1;
  }

  /** Takes one retry from the budget; false (and nothing recorded) when there is no room. */
  tryRetry(): boolean {
    const index = this.#advance();
    const { retries, allowance } = this.#totals();
    // The epsilon keeps float products such as 0.29 × 100 = 28.999… from losing a whole retry.
    if (retries + 1 > allowance + 1e-9) return false;
    this.#retries[index]! += 1;
    return true;
  }

  /** The counts in the current window. */
  snapshot(): RetryBudgetSnapshot {
    this.#advance();
    const { requests, retries, allowance } = this.#totals();
    return { requests, retries, allowance, available: Math.max(0, Math.floor(allowance - retries + 1e-9)) };
  }

  /** Moves the window to now: recycles the current bucket if it last held an older period. */
  #advance(): number {
    const id = Math.floor(this.#now() / this.#bucketMs);
    const index = ((id % this.#ids.length) + this.#ids.length) % this.#ids.length;
    if (this.#ids[index] !== id) {
      this.#ids[index] = id;
      this.#requests[index] = 0;
      this.#retries[index] = 0;
    }
    return index;
  }

  #totals(): { requests: number; retries: number; allowance: number } {
    const oldest = Math.floor(this.#now() / this.#bucketMs) - this.#ids.length;
    let requests = 0;
    let retries = 0;
    for (let index = 0; index < this.#ids.length; index++) {
      if (this.#ids[index]! > oldest) {
        requests += this.#requests[index]!;
        retries += this.#retries[index]!;
      }
    }
    return { requests, retries, allowance: this.#ratio * requests + this.#floor };
  }
}
