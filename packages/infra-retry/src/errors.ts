const RETRY_ERROR_MARKER = Symbol.for('llm-edge.retry.error');

/** Stable codes carried by every error this package throws. */
export type RetryErrorCode =
  | 'LLM_EDGE_RETRY_BUDGET_EXHAUSTED'
  | 'LLM_EDGE_RETRY_ATTEMPT_TIMEOUT'
  | 'LLM_EDGE_RETRY_INVALID_OPTION';

function hasMarker(value: unknown): value is RetryError {
  return typeof value === 'object' && value !== null && RETRY_ERROR_MARKER in value;
}

/**
 * Base class of the errors thrown by `@llm-edge/retry`; identify them with `isInstance()`, which
 * works across two installed copies of the package.
 */
export class RetryError extends Error {
  /** Stable, documented error code. */
  readonly code: RetryErrorCode;
  readonly [RETRY_ERROR_MARKER] = true;

  constructor(code: RetryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryError';
    this.code = code;
  }

  /** True when `error` is any error thrown by this package. */
  static isInstance(error: unknown): error is RetryError {
    return hasMarker(error);
  }
}

/**
 * Thrown instead of a retry when the shared {@link RetryBudget} has no room left; `cause` is the
 * failure that would otherwise have been retried, so callers can still map it (e.g. to an HTTP status).
 */
export class RetryBudgetExhaustedError extends RetryError {
  /** Never retry this error: doing so in an outer layer is exactly the storm the budget prevents. */
  readonly retryable = false;
  /** Attempts made before the budget refused the next retry. */
  readonly attempts: number;

  constructor(cause: unknown, attempts: number) {
    super(
      'LLM_EDGE_RETRY_BUDGET_EXHAUSTED',
      `Retry budget exhausted after ${attempts} attempt${attempts === 1 ? '' : 's'}; surfacing the last failure`,
      { cause },
    );
    this.name = 'RetryBudgetExhaustedError';
    this.attempts = attempts;
  }

  /** True when `error` is a {@link RetryBudgetExhaustedError} from any copy of this package. */
  static override isInstance(error: unknown): error is RetryBudgetExhaustedError {
    return hasMarker(error) && error.code === 'LLM_EDGE_RETRY_BUDGET_EXHAUSTED';
  }
}

/**
 * The reason an attempt's `signal` is aborted with when it outlives `attemptTimeoutMs`; the
 * default classifier treats it as retryable.
 */
export class AttemptTimeoutError extends RetryError {
  /** A timed-out attempt may succeed on the next try. */
  readonly retryable = true;
  /** The per-attempt timeout that elapsed. */
  readonly timeoutMs: number;
  /** The attempt (1-based) that timed out. */
  readonly attempt: number;

  constructor(timeoutMs: number, attempt: number) {
    super('LLM_EDGE_RETRY_ATTEMPT_TIMEOUT', `Attempt ${attempt} timed out after ${timeoutMs} ms`);
    this.name = 'AttemptTimeoutError';
    this.timeoutMs = timeoutMs;
    this.attempt = attempt;
  }

  /** True when `error` is an {@link AttemptTimeoutError} from any copy of this package. */
  static override isInstance(error: unknown): error is AttemptTimeoutError {
    return hasMarker(error) && error.code === 'LLM_EDGE_RETRY_ATTEMPT_TIMEOUT';
  }
}

/** Thrown at construction when an option is out of range; `option` names the bad field. */
export class InvalidRetryOptionError extends RetryError {
  /** The option that failed validation, e.g. `backoff.maxDelayMs`. */
  readonly option: string;

  constructor(option: string, expectation: string, received: unknown) {
    super(
      'LLM_EDGE_RETRY_INVALID_OPTION',
      `Invalid option ${option}: expected ${expectation}, got ${describe(received)}`,
    );
    this.name = 'InvalidRetryOptionError';
    this.option = option;
  }

  /** True when `error` is an {@link InvalidRetryOptionError} from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidRetryOptionError {
    return hasMarker(error) && error.code === 'LLM_EDGE_RETRY_INVALID_OPTION';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value;
}
