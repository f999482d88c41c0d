import { ProviderError, type ProviderErrorKind } from './errors';
import { isRecord, retryAfterMsFromHeaders, tryParseJson } from './http-transport';
import { kindFromStatus } from './openai-errors';

/** Maps a google.rpc status name to a kind. */
export function geminiErrorKind(status: string | undefined, httpStatus?: number): ProviderErrorKind {
  switch (status) {
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
    case 'OUT_OF_RANGE':
      return 'bad_request';
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return 'auth';
    case 'NOT_FOUND':
      return 'not_found';
    case 'RESOURCE_EXHAUSTED':
      return 'rate_limit';
    case 'UNAVAILABLE':
      return 'overloaded';
    case 'DEADLINE_EXCEEDED':
      return 'timeout';
    case 'INTERNAL':
    case 'UNKNOWN':
    case 'DATA_LOSS':
    case 'ABORTED':
      return 'server';
    default:
      return httpStatus === undefined ? 'server' : kindFromStatus(httpStatus);
  }
}

/** Parses a protobuf Duration in JSON form (`"36s"`, `"1.5s"`) into milliseconds. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

interface GeminiErrorFields {
  code?: number;
  message?: string;
  status?: string;
  reason?: string;
  retryDelayMs?: number;
}

/** Reads a google.rpc.Status error body (also when wrapped in an array, as non-SSE streams send it). */
export function readGeminiError(body: unknown): GeminiErrorFields {
  const root = Array.isArray(body) ? body[0] : body;
  if (!isRecord(root) || !isRecord(root['error'])) return {};
  const error = root['error'];
  const out: GeminiErrorFields = {};
  if (typeof error['code'] === 'number') out.code = error['code'];
  if (typeof error['message'] === 'string') out.message = error['message'];
  if (typeof error['status'] === 'string') out.status = error['status'];
  if (Array.isArray(error['details'])) {
    for (const detail of error['details']) {
      if (!isRecord(detail)) continue;
      const type = String(detail['@type'] ?? '');
      if (type.endsWith('google.rpc.RetryInfo')) {
        const ms = parseDurationMs(detail['retryDelay']);
        if (ms !== undefined) out.retryDelayMs = ms;
      } else if (type.endsWith('google.rpc.ErrorInfo') && typeof detail['reason'] === 'string') {
        out.reason = detail['reason'];
      }
    }
  }
  return out;
}

function toProviderError(
  provider: string,
  fields: GeminiErrorFields,
  extra: { status?: number; headers?: Record<string, string>; body?: string; retryAfterMs?: number },
): ProviderError {
  // An invalid key arrives as 400 INVALID_ARGUMENT; ErrorInfo.reason says what it really is.
  const kind = fields.reason === 'API_KEY_INVALID' ? 'auth' : geminiErrorKind(fields.status, extra.status);
  const retryAfterMs = fields.retryDelayMs ?? extra.retryAfterMs;
  const status = extra.status ?? fields.code;
  return new ProviderError({
    provider,
    kind,
    message: `${provider} ${status === undefined ? 'failed' : `answered ${status}`}${fields.message ? `: ${fields.message}` : ''}`,
    ...(status === undefined ? {} : { status }),
    ...(extra.headers ? { headers: extra.headers } : {}),
    ...(extra.body !== undefined ? { body: extra.body } : {}),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(fields.message === undefined ? {} : { providerMessage: fields.message }),
    ...((fields.reason ?? fields.status) ? { providerType: fields.reason ?? fields.status } : {}),
  });
}

/** Maps a Gemini error answer to a ProviderError; `RetryInfo.retryDelay` becomes `retryAfterMs`. */
export function mapGeminiErrorResponse(
  provider: string,
  now: () => number,
  response: { status: number; headers: Record<string, string>; bodyText: string },
): ProviderError {
  const fields = readGeminiError(tryParseJson(response.bodyText));
  const retryAfterMs = retryAfterMsFromHeaders(response.headers, now);
  return toProviderError(provider, fields, {
    status: response.status,
    headers: response.headers,
    body: response.bodyText,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** Maps an error object received inside a Gemini stream. */
export function mapGeminiStreamError(provider: string, body: unknown): ProviderError {
  return toProviderError(provider, readGeminiError(body), {});
}
