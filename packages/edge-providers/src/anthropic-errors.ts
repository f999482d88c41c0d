import { ProviderError, type ProviderErrorKind } from './errors';
import { isRecord, retryAfterMsFromHeaders, tryParseJson } from './http-transport';
import { kindFromStatus } from './openai-errors';
import { upstreamHttpError } from './upstream-http-error';

/** Maps an Anthropic error `type` to a kind. */
export function anthropicErrorKind(type: string | undefined, status?: number): ProviderErrorKind {
  switch (type) {
    case 'invalid_request_error':
    case 'request_too_large':
      return 'bad_request';
    case 'authentication_error':
    case 'permission_error':
    case 'billing_error':
      return 'auth';
    case 'not_found_error':
      return 'not_found';
    case 'rate_limit_error':
      return 'rate_limit';
    case 'overloaded_error':
      return 'overloaded';
    case 'timeout_error':
      return 'timeout';
    case 'api_error':
      return 'server';
    default:
      return status === undefined ? 'server' : kindFromStatus(status);
  }
}

function readError(body: unknown): { type?: string; message?: string; errorCode?: string } {
  if (!isRecord(body) || !isRecord(body['error'])) return {};
  const error = body['error'];
  const out: { type?: string; message?: string; errorCode?: string } = {};
  if (typeof error['type'] === 'string') out.type = error['type'];
  if (typeof error['message'] === 'string') out.message = error['message'];
  const details = error['details'];
  if (isRecord(details) && typeof details['error_code'] === 'string') out.errorCode = details['error_code'];
  return out;
}

/** Maps an Anthropic error answer to a ProviderError. */
export function mapAnthropicErrorResponse(
  provider: string,
  now: () => number,
  response: { status: number; headers: Record<string, string>; bodyText: string },
): ProviderError {
  const fields = readError(tryParseJson(response.bodyText));
  // 529 is Anthropic's overloaded status and 503 means the same whatever type the body names.
  const kind =
    response.status === 529 || response.status === 503
      ? 'overloaded'
      : anthropicErrorKind(fields.type, response.status);
  const retryAfterMs = retryAfterMsFromHeaders(response.headers, now);
  // A spend limit is an account state; retrying cannot succeed until someone raises it.
  const spendLimit = fields.errorCode === 'enforced_spend_limit_reached';
  return upstreamHttpError(provider, response, {
    kind,
    ...(spendLimit ? { retryable: false } : {}),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(fields.message === undefined ? {} : { providerMessage: fields.message }),
    ...(fields.type === undefined ? {} : { providerType: fields.errorCode ?? fields.type }),
  });
}

/** Maps an `event: error` payload received mid-stream. */
export function mapAnthropicStreamError(provider: string, body: unknown): ProviderError {
  const fields = readError(body);
  return new ProviderError({
    provider,
    kind: anthropicErrorKind(fields.type),
    message: `${provider} stream failed${fields.message ? `: ${fields.message}` : ''}`,
    ...(fields.message === undefined ? {} : { providerMessage: fields.message }),
    ...(fields.type === undefined ? {} : { providerType: fields.type }),
  });
}
