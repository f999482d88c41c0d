import { describe, expect, it } from 'vitest';
import {
  AttemptTimeoutError,
  InvalidRetryOptionError,
  RetryBudgetExhaustedError,
  RetryError,
} from './errors';

describe('errors', () => {
  it('carry stable codes, names and cause', () => {
    const original = new Error('upstream 503');
    const exhausted = new RetryBudgetExhaustedError(original, 3);
    expect(exhausted).toMatchObject({
      name: 'RetryBudgetExhaustedError',
      code: 'LLM_EDGE_RETRY_BUDGET_EXHAUSTED',
      attempts: 3,
    });
    expect(exhausted.cause).toBe(original);
    expect(new AttemptTimeoutError(250, 2)).toMatchObject({
      code: 'LLM_EDGE_RETRY_ATTEMPT_TIMEOUT',
      timeoutMs: 250,
      attempt: 2,
    });
    expect(new InvalidRetryOptionError('maxRetries', 'an integer', -1).message).toBe(
      'Invalid option maxRetries: expected an integer, got -1',
    );
  });

  it('are recognised by isInstance through the global marker, as from a second installed copy', () => {
    const foreign = { [Symbol.for('llm-edge.retry.error')]: true, code: 'LLM_EDGE_RETRY_BUDGET_EXHAUSTED' };
    expect(RetryError.isInstance(foreign)).toBe(true);
    expect(RetryBudgetExhaustedError.isInstance(foreign)).toBe(true);
    expect(AttemptTimeoutError.isInstance(foreign)).toBe(false);
    expect(RetryError.isInstance(new Error('x'))).toBe(false);
    expect(RetryError.isInstance(null)).toBe(false);
  });
});
