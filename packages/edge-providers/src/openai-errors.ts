import { ProviderError, type ProviderErrorKind } from './errors';
import { isRecord, retryAfterMsFromHeaders, tryParseJson } from './http-transport';
import { upstreamHttpError } from './upstream-http-error';

/** The fields of an OpenAI-style error body, read tolerantly (compatible servers vary). */
export interface OpenAIErrorFields {
  message?: string;
  type?: string;
  code?: string;
  param?: string;
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** Extracts message/type/code/param from OpenAI, Azure, Ollama (`{error:"…"}`), FastAPI (`{detail}`) and Mistral bodies. */
export function readOpenAIErrorFields(body: unknown): OpenAIErrorFields {
  const root = Array.isArray(body) ? body[0] : body;
  if (!isRecord(root)) return {};
  const error = root['error'];
  const source = isRecord(error) ? error : root;
  const out: OpenAIErrorFields = {};
  const message =
    str(source['message']) ??
    (typeof error === 'string' ? error : undefined) ??
    (typeof root['detail'] === 'string' ? root['detail'] : undefined) ??
    (root['detail'] !== undefined ? JSON.stringify(root['detail']) : undefined);
  if (message !== undefined) out.message = message;
  const type = str(source['type']);
  if (type !== undefined) out.type = type;
  const code = str(source['code']);
  if (code !== undefined) out.code = code;
  const param = str(source['param']);
  if (param !== undefined) out.param = param;
  return out;
}

function kindFromCode(code: string | undefined, type: string | undefined): ProviderErrorKind | undefined {
  switch (code) {
    case 'context_length_exceeded':
    case 'string_above_max_length':
      return 'context_length';
    case 'content_filter':
    case 'content_policy_violation':
    case 'ResponsibleAIPolicyViolation':
      return 'content_filter';
    case 'invalid_api_key':
    case '401':
      return 'auth';
    case 'model_not_found':
    case 'DeploymentNotFound':
      return 'not_found';
    case 'rate_limit_exceeded':
    case 'insufficient_quota':
    case '429':
      return 'rate_limit';
    default:
      break;
  }
  if (type === 'insufficient_quota') return 'rate_limit';
  return undefined;
}

/** Maps an HTTP status alone to a kind (used by every OpenAI-family adapter). */
export function kindFromStatus(status: number): ProviderErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 429) return 'rate_limit';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500 || status === 409) return 'server';
  return 'bad_request';
}

/** Maps an OpenAI-family error answer (status, headers, body) to a ProviderError. */
export function mapOpenAIErrorResponse(
  provider: string,
  now: () => number,
  response: { status: number; headers: Record<string, string>; bodyText: string },
): ProviderError {
  const fields = readOpenAIErrorFields(tryParseJson(response.bodyText));
  const kind = kindFromCode(fields.code, fields.type) ?? kindFromStatus(response.status);
  const retryAfterMs = retryAfterMsFromHeaders(response.headers, now);
  // Quota exhaustion is a billing state, not congestion: waiting does not help.
  const quota = fields.code === 'insufficient_quota' || fields.type === 'insufficient_quota';
  return upstreamHttpError(provider, response, {
    kind,
    ...(quota ? { retryable: false } : {}),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(fields.message === undefined ? {} : { providerMessage: fields.message }),
    ...((fields.code ?? fields.type) ? { providerType: fields.code ?? fields.type } : {}),
    ...(fields.param === undefined ? {} : { param: fields.param }),
  });
}

/** Maps an `{"error": {...}}` object received inside an OpenAI stream. */
export function mapOpenAIStreamError(provider: string, body: unknown): ProviderError {
  const fields = readOpenAIErrorFields(body);
  const kind = kindFromCode(fields.code, fields.type) ?? kindFromTypeName(fields.type);
  return new ProviderError({
    provider,
    kind,
    message: `${provider} stream failed${fields.message ? `: ${fields.message}` : ''}`,
    ...(fields.message === undefined ? {} : { providerMessage: fields.message }),
    ...((fields.code ?? fields.type) ? { providerType: fields.code ?? fields.type } : {}),
  });
}

function kindFromTypeName(type: string | undefined): ProviderErrorKind {
  switch (type) {
    case 'invalid_request_error':
      return 'bad_request';
    case 'authentication_error':
      return 'auth';
    case 'rate_limit_error':
    case 'requests':
    case 'tokens':
      return 'rate_limit';
    case 'overloaded_error':
      return 'overloaded';
    default:
      return 'server';
  }
}
