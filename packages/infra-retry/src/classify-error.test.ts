import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isRetryableError, isRetryableStatus } from './classify-error';
import { AttemptTimeoutError, RetryBudgetExhaustedError } from './errors';

function withFields(fields: Record<string, unknown>): Error {
  return Object.assign(new Error('upstream failed'), fields);
}

/** A port on 127.0.0.1 that nothing listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('isRetryableStatus', () => {
  it('retries 408, 409, 429 and 5xx only', () => {
    const retryable = [408, 409, 429, 500, 502, 503, 504, 529, 599];
    const permanent = [200, 301, 400, 401, 403, 404, 405, 410, 413, 422];
    expect(retryable.map(isRetryableStatus)).toEqual(retryable.map(() => true));
    expect(permanent.map(isRetryableStatus)).toEqual(permanent.map(() => false));
  });
});

describe('isRetryableError', () => {
  it('reads the status from status, statusCode and response.status', () => {
    expect(isRetryableError(withFields({ status: 503 }))).toBe(true);
    expect(isRetryableError(withFields({ statusCode: 429 }))).toBe(true);
    expect(isRetryableError(withFields({ response: { status: 502 } }))).toBe(true);
    expect(isRetryableError(withFields({ status: 404 }))).toBe(false);
    expect(isRetryableError(withFields({ statusCode: 400 }))).toBe(false);
    expect(isRetryableError(withFields({ response: { status: 401 } }))).toBe(false);
  });

  it('lets an explicit retryable / isRetryable flag win over the status', () => {
    // e.g. a provider's context-length 400 is final, an overloaded 529 is not.
    expect(isRetryableError(withFields({ status: 503, retryable: false }))).toBe(false);
    expect(isRetryableError(withFields({ status: 400, retryable: true }))).toBe(true);
    expect(isRetryableError(withFields({ status: 500, isRetryable: false }))).toBe(false);
    expect(isRetryableError({ kind: 'rate_limit', retryable: true, retryAfterMs: 1000 })).toBe(true);
  });

  it('retries transient network codes and timeouts', () => {
    for (const code of [
      'ECONNRESET',
      'ECONNREFUSED',
      'ETIMEDOUT',
      'EAI_AGAIN',
      'UND_ERR_SOCKET',
      'UND_ERR_HEADERS_TIMEOUT',
    ]) {
      expect(isRetryableError(withFields({ code }))).toBe(true);
    }
    expect(isRetryableError(new DOMException('timed out', 'TimeoutError'))).toBe(true);
    expect(isRetryableError(new AttemptTimeoutError(100, 1))).toBe(true);
  });

  it('never retries a cancellation or an exhausted budget', () => {
    expect(isRetryableError(new DOMException('aborted', 'AbortError'))).toBe(false);
    const exhausted = new RetryBudgetExhaustedError(withFields({ status: 503 }), 2);
    expect(isRetryableError(exhausted)).toBe(false);
  });

  it('does not retry errors without any signal, including programming TypeErrors', () => {
    expect(isRetryableError(new Error('boom'))).toBe(false);
    expect(isRetryableError(new TypeError('x is not a function'))).toBe(false);
    expect(isRetryableError('a string')).toBe(false);
    expect(isRetryableError(undefined)).toBe(false);
    expect(isRetryableError(withFields({ code: 'ERR_INVALID_ARG_TYPE' }))).toBe(false);
  });

  it('follows the cause chain to the first link that carries a signal', () => {
    const wrapped = new Error('request failed', { cause: withFields({ code: 'ECONNRESET' }) });
    expect(isRetryableError(wrapped)).toBe(true);
    const deeper = new Error('outer', { cause: new Error('middle', { cause: withFields({ status: 404 }) }) });
    expect(isRetryableError(deeper)).toBe(false);
  });

  it('survives a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(isRetryableError(a)).toBe(false);
  });

  it("retries a real fetch failure (undici's TypeError 'fetch failed') on a refused connection", async () => {
    const port = await closedPort();
    const failure = await fetch(`http://127.0.0.1:${port}/`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TypeError);
    expect(isRetryableError(failure)).toBe(true);
  });
});
