import isNetworkError from 'is-network-error';
import { causeChain, type ErrorRecord, readStatus } from './error-shape';

/**
 * Error codes of transient transport failures: Node system errors and undici's socket and
 * timeout errors. These are codes, not messages, so they survive localisation and rewording.
 */
const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
]);

/** Whether an HTTP status is worth retrying: 408, 409, 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
}

/** One link's verdict, or `undefined` when it carries no signal and the cause should decide. */
function verdict(error: ErrorRecord): boolean | undefined {
  // An explicit flag from the thrower knows more than any status (e.g. a 400 for context length).
  if (typeof error['retryable'] === 'boolean') return error['retryable'];
  if (typeof error['isRetryable'] === 'boolean') return error['isRetryable'];
  const status = readStatus(error);
  if (status !== undefined) return isRetryableStatus(status);
  const code = error['code'];
  if (typeof code === 'string' && TRANSIENT_ERROR_CODES.has(code)) return true;
  if (error['name'] === 'TimeoutError') return true;
  if (error['name'] === 'AbortError') return false;
  // fetch reports network failures as a TypeError whose only mark differs per runtime; the
  // library keeps that list so we do not have to.
  if (isNetworkError(error)) return true;
  return undefined;
}

/**
 * The default `retryIf`: true for failures that a later attempt may not repeat.
 *
 * In order, on the error and then down its `cause` chain, the first signal wins:
 * a boolean `retryable` / `isRetryable` field; an HTTP status (`status`, `statusCode`,
 * `response.status`) — 408, 409, 429 and 5xx retry, other statuses do not; a transient network
 * code (`ECONNRESET`, `UND_ERR_SOCKET`, …); a `TimeoutError`; a fetch network `TypeError`
 * (e.g. undici's "fetch failed"). An `AbortError` is a cancellation and never retried. Anything
 * without a signal (a plain `Error`, a programming `TypeError`) is not retried.
 *
 * @example
 * ```ts
 * isRetryableError({ status: 503 }); // true
 * isRetryableError({ status: 404 }); // false
 * isRetryableError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })); // true
 * ```
 */
export function isRetryableError(error: unknown): boolean {
  for (const link of causeChain(error)) {
    const decided = verdict(link);
    if (decided !== undefined) return decided;
  }
  return false;
}
