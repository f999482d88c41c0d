import { causeChain, readHeader, readHeaders } from './error-shape';

const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;
/** Every HTTP-date form (IMF-fixdate, RFC 850, asctime) names the month; bare numbers are not dates. */
const HAS_MONTH_NAME = /(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i;

/**
 * Milliseconds to wait according to a `Retry-After` header value: delta-seconds (`"120"`) or an
 * HTTP date (`"Wed, 21 Oct 2026 07:28:00 GMT"`, measured from `nowMs`). A date in the past gives 0;
 * an unparseable value gives `undefined`.
 *
 * @example
 * ```ts
 * parseRetryAfter('2', Date.now()); // 2000
 * ```
 */
export function parseRetryAfter(value: string, nowMs: number = Date.now()): number | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (DELTA_SECONDS.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  if (!HAS_MONTH_NAME.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

function readRetryAfterMs(headers: unknown, nowMs: number): number | undefined {
  // `retry-after-ms` is OpenAI's finer-grained variant; prefer it when both are sent.
  const precise = readHeader(headers, 'retry-after-ms');
  if (precise !== undefined && DELTA_SECONDS.test(precise.trim())) return Math.round(Number(precise.trim()));
  const standard = readHeader(headers, 'retry-after');
  return standard === undefined ? undefined : parseRetryAfter(standard, nowMs);
}

/**
 * The server-requested wait an error carries, in ms: a numeric `retryAfterMs` field (as on
 * `ProviderError`), else `retry-after-ms` / `Retry-After` from `headers` or `response.headers`
 * (a `Headers` instance or a plain record). Looks through the `cause` chain; `undefined` when absent.
 */
export function getRetryAfterMs(error: unknown, nowMs: number = Date.now()): number | undefined {
  for (const link of causeChain(error)) {
    const field = link['retryAfterMs'];
    if (typeof field === 'number' && Number.isFinite(field) && field >= 0) return field;
    const fromHeaders = readRetryAfterMs(readHeaders(link), nowMs);
    if (fromHeaders !== undefined) return fromHeaders;
  }
  return undefined;
}
