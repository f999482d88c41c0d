import type { RateLimitError } from './errors';
import type { RateLimitReservation, RateLimitState } from './rate-limiter';

/**
 * Formats milliseconds as OpenAI does in `x-ratelimit-reset-*` headers (Go durations): `250ms`,
 * `1s`, `6m0s`, `1.5s`.
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const minutes = Math.floor(total / 60_000);
  const seconds = (total - minutes * 60_000) / 1000;
  const secText = `${Number(seconds.toFixed(3))}s`;
  return minutes > 0 ? `${minutes}m${secText}` : secText;
}

function put(
  out: Record<string, string>,
  suffix: 'requests' | 'tokens',
  state: RateLimitState | undefined,
): void {
  if (!state) return;
  out[`x-ratelimit-limit-${suffix}`] = String(state.limit);
  out[`x-ratelimit-remaining-${suffix}`] = String(state.remaining);
  out[`x-ratelimit-reset-${suffix}`] = formatResetDuration(state.resetMs);
}

/** `retry-after` (whole seconds, at least 1) and `retry-after-ms` for a wait of `ms`. */
export function retryAfterHeaders(ms: number): Record<string, string> {
  return {
    'retry-after': String(Math.max(1, Math.ceil(ms / 1000))),
    'retry-after-ms': String(Math.max(0, Math.ceil(ms))),
  };
}

/**
 * Response headers for a rate-limit outcome, in the OpenAI convention the official SDKs read:
 * `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, and for a refusal `retry-after`
 * (whole seconds) and `retry-after-ms`.
 *
 * @example
 * ```ts
 * reply.headers(rateLimitHeaders(reservation));            // admitted
 * reply.code(429).headers(rateLimitHeaders(error));        // refused (RateLimitError)
 * ```
 */
export function rateLimitHeaders(
  source:
    | Pick<RateLimitReservation, 'requests' | 'tokens'>
    | Pick<RateLimitError, 'limitType' | 'limit' | 'remaining' | 'resetMs' | 'retryAfterMs'>,
): Record<string, string> {
  const out: Record<string, string> = {};
  if ('limitType' in source) {
    put(out, source.limitType, {
      limit: source.limit,
      remaining: source.remaining,
      resetMs: source.resetMs,
      resetAt: 0,
    });
    if (source.retryAfterMs !== undefined) Object.assign(out, retryAfterHeaders(source.retryAfterMs));
    return out;
  }
  put(out, 'requests', source.requests);
  put(out, 'tokens', source.tokens);
  return out;
}
