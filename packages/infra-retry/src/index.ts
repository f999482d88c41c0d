export type {
  Backoff,
  BackoffOptions,
  ExponentialBackoffOptions,
  ExponentialJitterBackoffOptions,
} from './backoff';
export {
  backoffDelays,
  constantBackoff,
  DEFAULT_BACKOFF_OPTIONS,
  decorrelatedJitterBackoff,
  exponentialBackoff,
  exponentialJitterBackoff,
  linearBackoff,
} from './backoff';
export { isRetryableError, isRetryableStatus } from './classify-error';
export type { RetryErrorCode } from './errors';
export {
  AttemptTimeoutError,
  InvalidRetryOptionError,
  RetryBudgetExhaustedError,
  RetryError,
} from './errors';
export type { RandomSource } from './random';
export { createSeededRandom } from './random';
export { getRetryAfterMs, parseRetryAfter } from './retry-after';
export type { RetryBudgetLike, RetryBudgetOptions, RetryBudgetSnapshot } from './retry-budget';
export { DEFAULT_RETRY_BUDGET_OPTIONS, RetryBudget } from './retry-budget';
export type {
  AttemptContext,
  ExecuteOptions,
  GiveUpEvent,
  GiveUpReason,
  RetryEvent,
  RetryPolicyOptions,
  RetryPolicyStats,
  RetryPredicate,
} from './retry-policy';
export { DEFAULT_RETRY_POLICY_OPTIONS, RetryPolicy, retry } from './retry-policy';
