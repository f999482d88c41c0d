import type { HttpErrorLike } from '@llm-edge/proxy';
import { RateLimitError, rateLimitHeaders } from '@llm-edge/security';

/**
 * The gateway's addition to the proxy's error mapping: a rate-limit refusal carries its
 * `x-ratelimit-*` and `retry-after` headers (the security error holds the figures, the proxy copies
 * headers). Routing errors need none: their status is already the gateway's view of the failure.
 */
export function mapGatewayError(error: unknown): HttpErrorLike | undefined {
  if (RateLimitError.isInstance(error)) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      expose: true,
      headers: rateLimitHeaders(error),
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    };
  }
  return undefined;
}
