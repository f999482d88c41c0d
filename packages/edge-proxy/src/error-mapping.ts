import { scrubSecrets } from '@llm-edge/monitoring';

/** The API a client spoke, which decides the shape of every error it receives. */
export type ApiDialect = 'openai' | 'anthropic';

/**
 * What the proxy reads from a thrown value, duck-typed so errors from any package map without
 * the proxy importing them. Every field is optional; anything else on the error is ignored.
 */
export interface HttpErrorLike {
  /** HTTP status to answer with (400–599). `statusCode` is read too. */
  status?: number;
  statusCode?: number;
  /** Stable error code (`LLM_EDGE_…`); sent as `error.code` to OpenAI clients, counted in metrics. */
  code?: string;
  /**
   * Upstream failure kind (`auth`, `bad_request`, `unsupported`, `not_found`, `rate_limit`,
   * `overloaded`, `server`, `timeout`, `network`, `context_length`, `content_filter`, `aborted`). With `provider` set (or
   * `code: 'LLM_EDGE_PROVIDER_ERROR'`), the kind decides the status, not the upstream's status:
   * an upstream 401 is the gateway's credential problem, answered 502, never 401.
   */
  kind?: string;
  /** Marks an upstream (provider) error. */
  provider?: string;
  /** The upstream's own message, shown to the client for request-shaped upstream failures. */
  providerMessage?: string;
  /** OpenAI `error.param`: the request field at fault. */
  param?: string | null;
  /** Validation issues; the first path becomes `error.param`. */
  issues?: ReadonlyArray<{ path?: ReadonlyArray<string | number> | string }>;
  /** Sent as `retry-after` (seconds, rounded up) and `retry-after-ms`. */
  retryAfterMs?: number;
  /** Response headers; only `retry-after*`, `x-ratelimit-*` and `anthropic-ratelimit-*` are copied, and only from non-upstream errors. */
  headers?: Readonly<Record<string, string | number | readonly string[] | undefined>>;
  /** Whether `message` is safe for clients. Default: yes below 500, no from 500. */
  expose?: boolean;
  /** A client-facing message that replaces `message` whatever `expose` says. */
  publicMessage?: string;
  message?: string;
  cause?: unknown;
}

/** An error turned into a response in the client's dialect. */
export interface ErrorResponse {
  /** HTTP status. */
  status: number;
  /** Stable code for logs and metrics (the error's own, or the proxy's). */
  code: string;
  /** Headers to send (retry-after, rate-limit); values already validated. */
  headers: Record<string, string>;
  /** The error body in the client's shape. */
  payload: OpenAIErrorBody | AnthropicErrorBody;
}

/** OpenAI's error body. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Anthropic's error body. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id?: string;
}

/** Extra mapping supplied by the application; return `undefined` to fall back to the default. */
export type ErrorMapper = (error: unknown) => HttpErrorLike | undefined;

interface Resolved {
  status: number;
  code: string;
  message: string;
  param: string | null;
  retryAfterMs?: number;
  headers?: HttpErrorLike['headers'];
  /** The error says a quota or budget is spent (`type: 'insufficient_quota'`), not a rate. */
  quota?: boolean;
}

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'The request is invalid.',
  401: 'Invalid or missing API key.',
  402: 'The spend budget of this key is exhausted.',
  403: 'This key is not allowed to perform this request.',
  404: 'Not found.',
  405: 'Method not allowed.',
  408: 'The request was not received in time.',
  409: 'Conflict.',
  413: 'The request body is too large.',
  415: 'Unsupported media type.',
  422: 'The request could not be processed.',
  429: 'Too many requests; retry later.',
  431: 'The request headers are too large.',
  499: 'The client closed the request.',
  500: 'Internal server error.',
  501: 'Not implemented.',
  502: 'The upstream provider failed.',
  503: 'The service is unavailable; retry later.',
  504: 'The upstream provider did not answer in time.',
};

const DEFAULT_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_api_key',
  402: 'insufficient_quota',
  403: 'permission_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_request',
  429: 'rate_limit_exceeded',
  431: 'headers_too_large',
  499: 'client_closed',
  500: 'internal_error',
  502: 'upstream_error',
  503: 'service_unavailable',
  504: 'upstream_timeout',
};

interface UpstreamMapping {
  status: number;
  code: string;
  /** Show the upstream's message (request-shaped failures) instead of a fixed one. */
  exposeUpstreamMessage: boolean;
  message: string;
}

/** Upstream failure kinds and how a gateway client sees them. */
const UPSTREAM_KINDS: Record<string, UpstreamMapping> = {
  auth: {
    status: 502,
    code: 'upstream_auth_failed',
    exposeUpstreamMessage: false,
    message: "The upstream provider rejected the gateway's credentials.",
  },
  bad_request: {
    status: 400,
    code: 'invalid_request',
    exposeUpstreamMessage: true,
    message: DEFAULT_MESSAGES[400]!,
  },
  // A field of a valid request the provider's adapter cannot translate: the client's field, named in `param`.
  unsupported: {
    status: 400,
    code: 'unsupported_parameter',
    exposeUpstreamMessage: true,
    message: 'A parameter of the request is not supported by the upstream provider.',
  },
  not_found: {
    status: 404,
    code: 'model_not_found',
    exposeUpstreamMessage: true,
    message: 'The model was not found upstream.',
  },
  rate_limit: {
    status: 429,
    code: 'rate_limit_exceeded',
    exposeUpstreamMessage: false,
    message: 'The upstream provider is rate limiting requests; retry later.',
  },
  overloaded: {
    status: 503,
    code: 'upstream_overloaded',
    exposeUpstreamMessage: false,
    message: 'The upstream provider is overloaded; retry later.',
  },
  server: {
    status: 502,
    code: 'upstream_error',
    exposeUpstreamMessage: false,
    message: DEFAULT_MESSAGES[502]!,
  },
  timeout: {
    status: 504,
    code: 'upstream_timeout',
    exposeUpstreamMessage: false,
    message: DEFAULT_MESSAGES[504]!,
  },
  network: {
    status: 502,
    code: 'upstream_unreachable',
    exposeUpstreamMessage: false,
    message: 'The upstream provider could not be reached.',
  },
  context_length: {
    status: 400,
    code: 'context_length_exceeded',
    exposeUpstreamMessage: true,
    message: "The request exceeds the model's context window.",
  },
  content_filter: {
    status: 400,
    code: 'content_filter',
    exposeUpstreamMessage: true,
    message: 'The request was rejected by the content filter.',
  },
  aborted: {
    status: 499,
    code: 'client_closed',
    exposeUpstreamMessage: false,
    message: DEFAULT_MESSAGES[499]!,
  },
};

/** Codes of errors that carry no status, from packages the proxy does not import. */
const KNOWN_CODES: Record<string, { status: number; expose: boolean }> = {
  LLM_EDGE_NO_ROUTE: { status: 404, expose: true },
  LLM_EDGE_RETRY_ATTEMPT_TIMEOUT: { status: 504, expose: false },
};

/** Fastify's own errors, renamed to the proxy's codes. */
const FRAMEWORK_CODES: Record<string, { code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'LLM_EDGE_PROXY_BODY_TOO_LARGE', message: DEFAULT_MESSAGES[413]! },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'LLM_EDGE_PROXY_UNSUPPORTED_MEDIA_TYPE',
    message: DEFAULT_MESSAGES[415]!,
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'LLM_EDGE_PROXY_BAD_REQUEST',
    message: 'The request body does not match its content-length.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'LLM_EDGE_PROXY_INVALID_JSON', message: 'The request body is empty.' },
  FST_ERR_BAD_URL: { code: 'LLM_EDGE_PROXY_BAD_REQUEST', message: 'The request URL is invalid.' },
  FST_ERR_ASYNC_CONSTRAINT: { code: 'LLM_EDGE_PROXY_BAD_REQUEST' },
};

const STABLE_CODE = /^[A-Za-z0-9_.:-]{1,100}$/;
const HEADER_VALUE = /^[\t\x20-\x7e]{1,1024}$/;
const COPIED_HEADER =
  /^(?:retry-after|retry-after-ms|x-ratelimit-[a-z0-9-]{1,64}|anthropic-ratelimit-[a-z0-9-]{1,64})$/;
const MAX_MESSAGE = 1000;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function httpStatus(e: Record<string, unknown>): number | undefined {
  for (const field of ['status', 'statusCode'] as const) {
    const value = e[field];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599) return value;
  }
  return undefined;
}

function isUpstream(e: Record<string, unknown>): boolean {
  return (
    typeof e['kind'] === 'string' &&
    e['kind'] in UPSTREAM_KINDS &&
    (typeof e['provider'] === 'string' || e['code'] === 'LLM_EDGE_PROVIDER_ERROR')
  );
}

function clientMessage(text: unknown): string | undefined {
  if (typeof text !== 'string' || text.trim().length === 0) return undefined;
  const scrubbed = scrubSecrets(text);
  return scrubbed.length > MAX_MESSAGE ? `${scrubbed.slice(0, MAX_MESSAGE)}…` : scrubbed;
}

function paramOf(e: Record<string, unknown>): string | null {
  if (typeof e['param'] === 'string') return e['param'];
  const issues = e['issues'];
  if (Array.isArray(issues) && issues.length > 0) {
    const path = record(issues[0])?.['path'];
    if (Array.isArray(path) && path.length > 0) return path.join('.');
    if (typeof path === 'string' && path.length > 0) return path;
  }
  return null;
}

function retryAfterOf(e: Record<string, unknown>): number | undefined {
  const value = e['retryAfterMs'];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function resolveUpstream(e: Record<string, unknown>): Resolved {
  const mapping = UPSTREAM_KINDS[e['kind'] as string]!;
  const upstreamText = mapping.exposeUpstreamMessage
    ? (clientMessage(e['publicMessage']) ??
      clientMessage(e['providerMessage']) ??
      clientMessage(e['message']))
    : clientMessage(e['publicMessage']);
  const resolved: Resolved = {
    status: mapping.status,
    code: mapping.code,
    message: upstreamText ?? mapping.message,
    param: paramOf(e),
  };
  const retryAfterMs = retryAfterOf(e);
  if (retryAfterMs !== undefined) resolved.retryAfterMs = retryAfterMs;
  return resolved;
}

function resolveWithStatus(e: Record<string, unknown>, status: number): Resolved {
  const rawCode = typeof e['code'] === 'string' ? e['code'] : undefined;
  const framework = rawCode === undefined ? undefined : FRAMEWORK_CODES[rawCode];
  const code =
    framework?.code ?? (rawCode !== undefined && STABLE_CODE.test(rawCode) ? rawCode : DEFAULT_CODES[status]);
  const expose = typeof e['expose'] === 'boolean' ? e['expose'] : status < 500;
  const message =
    clientMessage(e['publicMessage']) ??
    framework?.message ??
    (expose ? clientMessage(e['message']) : undefined) ??
    DEFAULT_MESSAGES[status] ??
    (status >= 500 ? DEFAULT_MESSAGES[500]! : DEFAULT_MESSAGES[400]!);
  const resolved: Resolved = { status, code: code ?? `http_${status}`, message, param: paramOf(e) };
  const retryAfterMs = retryAfterOf(e);
  if (retryAfterMs !== undefined) resolved.retryAfterMs = retryAfterMs;
  if (e['headers'] !== undefined) resolved.headers = e['headers'] as HttpErrorLike['headers'];
  // OpenAI answers a spent quota with 429 like a rate limit, told apart only by its type; clients
  // (and their retry logic) read that type, so it is kept rather than derived from the status.
  if (e['type'] === 'insufficient_quota') resolved.quota = true;
  return resolved;
}

/** Finds the error in a cause chain that says how to answer, or `undefined`. */
function resolve(error: unknown, depth: number): Resolved | undefined {
  const e = record(error);
  if (e === undefined || depth > 5) return undefined;
  if (isUpstream(e)) return resolveUpstream(e);
  const status = httpStatus(e);
  if (status !== undefined) return resolveWithStatus(e, status);
  const known = typeof e['code'] === 'string' ? KNOWN_CODES[e['code']] : undefined;
  if (known !== undefined) {
    return resolveWithStatus({ ...e, message: e['message'], expose: known.expose }, known.status);
  }
  if (e['name'] === 'TimeoutError') {
    return { status: 504, code: DEFAULT_CODES[504]!, message: DEFAULT_MESSAGES[504]!, param: null };
  }
  const nested = resolve(e['cause'], depth + 1);
  if (nested !== undefined) {
    // A wrapper's own stable code (e.g. LLM_EDGE_ALL_TARGETS_FAILED) names the outcome better
    // than the last attempt's, but the status comes from the failure that explains it.
    const ownCode = typeof e['code'] === 'string' && STABLE_CODE.test(e['code']) ? e['code'] : undefined;
    return ownCode === undefined ? nested : { ...nested, code: ownCode };
  }
  return undefined;
}

function openAIType(status: number, quota = false): string {
  if (quota && (status === 429 || status === 402)) return 'insufficient_quota';
  if (status === 429) return 'rate_limit_error';
  if (status === 402) return 'insufficient_quota';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function anthropicType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 408:
    case 504:
      return 'timeout_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function copyHeaders(resolved: Resolved): Record<string, string> {
  const out: Record<string, string> = {};
  const source = resolved.headers;
  if (source !== undefined && source !== null && typeof source === 'object') {
    for (const rawName of Object.keys(source)) {
      const name = rawName.toLowerCase();
      if (!COPIED_HEADER.test(name)) continue;
      const raw = source[rawName];
      const value = Array.isArray(raw) ? raw.join(', ') : raw === undefined ? undefined : String(raw);
      if (value !== undefined && HEADER_VALUE.test(value)) out[name] = value;
    }
  }
  if (resolved.retryAfterMs !== undefined) {
    out['retry-after'] = String(Math.max(1, Math.ceil(resolved.retryAfterMs / 1000)));
    out['retry-after-ms'] = String(Math.ceil(resolved.retryAfterMs));
  }
  return out;
}

/**
 * Turns any thrown value into a status, headers and a body in the shape of the API the client
 * spoke: OpenAI `{error:{message,type,param,code}}` or Anthropic `{type:"error",error:{type,message}}`.
 * The only place errors become responses. Never includes a stack; messages are shown only when the
 * error exposes them (below 500 by default) and are scrubbed of key-shaped strings.
 *
 * @example
 * toErrorResponse(Object.assign(new Error('Too many requests'), { status: 429, code: 'LLM_EDGE_RATE_LIMITED', retryAfterMs: 1500 }), { dialect: 'anthropic' });
 * // { status: 429, code: 'LLM_EDGE_RATE_LIMITED', headers: { 'retry-after': '2', 'retry-after-ms': '1500' },
 * //   payload: { type: 'error', error: { type: 'rate_limit_error', message: 'Too many requests' } } }
 */
export function toErrorResponse(
  error: unknown,
  options: { dialect: ApiDialect; requestId?: string; mapError?: ErrorMapper },
): ErrorResponse {
  let subject: unknown = error;
  if (options.mapError !== undefined) {
    try {
      const mapped = options.mapError(error);
      if (mapped !== undefined) subject = mapped;
    } catch {
      // A failing custom mapper must not turn an error response into a crash; the default applies.
    }
  }
  const resolved: Resolved = resolve(subject, 0) ?? {
    status: 500,
    code: 'LLM_EDGE_PROXY_INTERNAL',
    message: DEFAULT_MESSAGES[500]!,
    param: null,
  };
  const headers = copyHeaders(resolved);
  if (options.dialect === 'anthropic') {
    const payload: AnthropicErrorBody = {
      type: 'error',
      error: { type: anthropicType(resolved.status), message: resolved.message },
    };
    if (options.requestId !== undefined) payload.request_id = options.requestId;
    return { status: resolved.status, code: resolved.code, headers, payload };
  }
  return {
    status: resolved.status,
    code: resolved.code,
    headers,
    payload: {
      error: {
        message: resolved.message,
        type: openAIType(resolved.status, resolved.quota),
        param: resolved.param,
        code: resolved.code,
      },
    },
  };
}
