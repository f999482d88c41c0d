import { ProviderError } from '@llm-edge/providers';
import type { HttpErrorLike } from '@llm-edge/proxy';
import { RoutingError } from '@llm-edge/routing';
import { RateLimitError, rateLimitHeaders } from '@llm-edge/security';

/**
 * The gateway's addition to the proxy's error mapping: a routing failure that wraps an upstream
 * error is answered as that upstream failure (by its kind: overloaded → 503, server → 502,
 * timeout → 504, rate limit → 429, bad request → 400 with the upstream's message), instead of
 * echoing the last upstream HTTP status — a 500 from a provider is not the gateway's own 500.
 * An unknown model names `model` as the field at fault. A rate-limit refusal carries its
 * `x-ratelimit-*` and `retry-after` headers (the security error holds the figures, the proxy copies
 * headers).
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
  if (!RoutingError.isInstance(error)) return undefined;
  if (error.code === 'LLM_EDGE_NO_ROUTE') {
    return { status: error.status, code: error.code, message: error.message, param: 'model', expose: true };
  }
  if (error.code !== 'LLM_EDGE_ALL_TARGETS_FAILED' && error.code !== 'LLM_EDGE_REQUEST_REJECTED')
    return undefined;
  const cause = error.cause;
  if (!ProviderError.isInstance(cause)) return undefined;
  const retryAfterMs = error.retryAfterMs ?? cause.retryAfterMs;
  return {
    code: error.code,
    kind: cause.kind,
    provider: cause.provider,
    message: cause.message,
    ...(cause.status !== undefined ? { status: cause.status } : {}),
    ...(cause.providerMessage !== undefined ? { providerMessage: cause.providerMessage } : {}),
    ...(cause.param !== undefined ? { param: cause.param } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}
