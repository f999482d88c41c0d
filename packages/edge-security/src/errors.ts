import { rateLimitHeaders, retryAfterHeaders } from './rate-limit-headers';

const SECURITY_ERROR_MARKER = Symbol.for('llm-edge.security.error');
const OPTIONS_ERROR_MARKER = Symbol.for('llm-edge.security.options-error');

/** Stable codes carried by every request-time error this package throws. */
export type SecurityErrorCode =
  | 'LLM_EDGE_MISSING_API_KEY'
  | 'LLM_EDGE_INVALID_API_KEY'
  | 'LLM_EDGE_API_KEY_DISABLED'
  | 'LLM_EDGE_MODEL_NOT_ALLOWED'
  | 'LLM_EDGE_RATE_LIMITED'
  | 'LLM_EDGE_REQUEST_EXCEEDS_TOKEN_LIMIT'
  | 'LLM_EDGE_BUDGET_EXCEEDED'
  | 'LLM_EDGE_INVALID_REQUEST'
  | 'LLM_EDGE_REQUEST_TOO_LARGE'
  | 'LLM_EDGE_CONTEXT_LENGTH_EXCEEDED'
  | 'LLM_EDGE_PII_BLOCKED';

/**
 * The category of an error, named after the error types of the OpenAI and Anthropic APIs so the
 * proxy can map it to either client shape without a table of codes.
 */
export type SecurityErrorType =
  | 'authentication_error'
  | 'permission_error'
  | 'invalid_request_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'insufficient_quota';

/** One problem found in a request, with the JSON path of the field at fault. */
export interface ValidationIssue {
  /** JSON path such as `messages[2].tool_call_id`; `$` for the whole body. */
  readonly path: string;
  readonly message: string;
}

/** A personal-data category the PII scanner recognises. */
export type PiiKind = 'email' | 'phone' | 'credit_card' | 'us_ssn' | 'iban' | 'ip_address' | 'secret';

/** Which limit a {@link RateLimitError} is about. */
export type RateLimitType = 'requests' | 'tokens';

interface SecurityErrorInit {
  code: SecurityErrorCode;
  status: number;
  type: SecurityErrorType;
  message: string;
  param?: string;
  cause?: unknown;
}

function hasMarker(value: unknown): value is SecurityError {
  return typeof value === 'object' && value !== null && SECURITY_ERROR_MARKER in value;
}

/**
 * Base class of every request-time error of `@llm-edge/security`: an HTTP status, a stable `code`
 * and a `type` the proxy maps to the client's API shape. Messages never contain key material,
 * prompt text or detected personal data.
 *
 * @example
 * ```ts
 * try { store.authenticate(headers); } catch (e) {
 *   if (SecurityError.isInstance(e)) reply.status(e.status).send({ error: { code: e.code, message: e.message } });
 * }
 * ```
 */
export class SecurityError extends Error {
  /** Stable, documented error code. */
  readonly code: SecurityErrorCode;
  /** HTTP status to answer with. */
  readonly status: number;
  /** Error category shared by the OpenAI and Anthropic error shapes. */
  readonly type: SecurityErrorType;
  /** The request field at fault (OpenAI's `param`), as a JSON path, when there is one. */
  readonly param?: string;
  readonly [SECURITY_ERROR_MARKER] = true;

  constructor(init: SecurityErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'SecurityError';
    this.code = init.code;
    this.status = init.status;
    this.type = init.type;
    if (init.param !== undefined) this.param = init.param;
  }

  /** True when `error` is any request-time error of this package, from any installed copy. */
  static isInstance(error: unknown): error is SecurityError {
    return hasMarker(error);
  }
}

/** 401: no gateway key was sent, it is unknown, or it is disabled. */
export class AuthenticationError extends SecurityError {
  constructor(
    code: 'LLM_EDGE_MISSING_API_KEY' | 'LLM_EDGE_INVALID_API_KEY' | 'LLM_EDGE_API_KEY_DISABLED',
    message: string,
  ) {
    super({ code, status: 401, type: 'authentication_error', message });
    this.name = 'AuthenticationError';
  }

  /** True when `error` is an {@link AuthenticationError} from any copy of this package. */
  static override isInstance(error: unknown): error is AuthenticationError {
    return hasMarker(error) && error.status === 401;
  }
}

/** 403: the key is valid but may not use the requested model or alias. */
export class PermissionError extends SecurityError {
  /** Name of the key (never the key itself). */
  readonly keyName: string;
  /** The model or alias that was refused. */
  readonly model: string;

  constructor(keyName: string, model: string) {
    super({
      code: 'LLM_EDGE_MODEL_NOT_ALLOWED',
      status: 403,
      type: 'permission_error',
      param: 'model',
      message: `The API key "${keyName}" is not allowed to use the model "${model}"`,
    });
    this.name = 'PermissionError';
    this.keyName = keyName;
    this.model = model;
  }

  /** True when `error` is a {@link PermissionError} from any copy of this package. */
  static override isInstance(error: unknown): error is PermissionError {
    return hasMarker(error) && error.code === 'LLM_EDGE_MODEL_NOT_ALLOWED';
  }
}

/** Fields of a {@link RateLimitError}. */
export interface RateLimitErrorInit {
  code: 'LLM_EDGE_RATE_LIMITED' | 'LLM_EDGE_REQUEST_EXCEEDS_TOKEN_LIMIT';
  limitType: RateLimitType;
  limit: number;
  remaining: number;
  resetMs: number;
  retryAfterMs?: number;
  /** Tokens the refused request asked for (token limits only). */
  requested?: number;
}

/**
 * 429: a requests- or tokens-per-minute limit is used up. Carries its response `headers`
 * (`x-ratelimit-*`, and `retry-after`/`retry-after-ms` when waiting helps), which @llm-edge/proxy
 * copies onto the error response. `retryAfterMs` is absent when waiting cannot help
 * (`LLM_EDGE_REQUEST_EXCEEDS_TOKEN_LIMIT`: the request alone is larger than the whole limit).
 */
export class RateLimitError extends SecurityError {
  /** Which limit refused the request. */
  readonly limitType: RateLimitType;
  /** The limit per window. */
  readonly limit: number;
  /** What is left in the current window. */
  readonly remaining: number;
  /** Milliseconds until the current window resets. */
  readonly resetMs: number;
  /** Milliseconds to wait before retrying; absent when a retry cannot succeed. */
  readonly retryAfterMs?: number;
  /** Tokens the refused request asked for (token limits only). */
  readonly requested?: number;
  /** Whether retrying the same request later can succeed. */
  readonly retryable: boolean;
  /** Response headers for the refusal: `x-ratelimit-{limit,remaining,reset}-<limitType>`, `retry-after`, `retry-after-ms`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(init: RateLimitErrorInit) {
    const what = init.limitType === 'requests' ? 'requests per minute' : 'tokens per minute';
    const message =
      init.code === 'LLM_EDGE_REQUEST_EXCEEDS_TOKEN_LIMIT'
        ? `Request too large: it needs about ${init.requested ?? 0} tokens but the limit is ${init.limit} ${what}`
        : `Rate limit reached: ${init.limit} ${what}; retry in ${Math.ceil((init.retryAfterMs ?? init.resetMs) / 1000)} s`;
    super({ code: init.code, status: 429, type: 'rate_limit_error', message });
    this.name = 'RateLimitError';
    this.limitType = init.limitType;
    this.limit = init.limit;
    this.remaining = init.remaining;
    this.resetMs = init.resetMs;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.requested !== undefined) this.requested = init.requested;
    this.retryable = init.retryAfterMs !== undefined;
    this.headers = Object.freeze(rateLimitHeaders(init));
  }

  /** True when `error` is a {@link RateLimitError} from any copy of this package. */
  static override isInstance(error: unknown): error is RateLimitError {
    return (
      hasMarker(error) &&
      (error.code === 'LLM_EDGE_RATE_LIMITED' || error.code === 'LLM_EDGE_REQUEST_EXCEEDS_TOKEN_LIMIT')
    );
  }
}

/**
 * 429 (`insufficient_quota`): the key's spend budget for the current period is used up. Its
 * `headers` say when the period ends (`retry-after`, `retry-after-ms`); none for a lifetime budget.
 */
export class BudgetExceededError extends SecurityError {
  readonly budgetUsd: number;
  readonly spentUsd: number;
  /** Milliseconds until the budget period ends; absent for a lifetime budget. */
  readonly resetMs?: number;
  /** Response headers for the refusal: `retry-after` and `retry-after-ms` until the period ends, else none. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(keyName: string, budgetUsd: number, spentUsd: number, resetMs: number | undefined) {
    super({
      code: 'LLM_EDGE_BUDGET_EXCEEDED',
      status: 429,
      type: 'insufficient_quota',
      message: `The API key "${keyName}" has used its budget of ${budgetUsd} USD for this period`,
    });
    this.name = 'BudgetExceededError';
    this.budgetUsd = budgetUsd;
    this.spentUsd = spentUsd;
    if (resetMs !== undefined) this.resetMs = resetMs;
    this.headers = Object.freeze(resetMs === undefined ? {} : retryAfterHeaders(resetMs));
  }

  /** True when `error` is a {@link BudgetExceededError} from any copy of this package. */
  static override isInstance(error: unknown): error is BudgetExceededError {
    return hasMarker(error) && error.code === 'LLM_EDGE_BUDGET_EXCEEDED';
  }
}

/**
 * 400 (or 413 for an oversized body): the request is malformed, out of range, or does not fit the
 * model. `issues` names every field at fault; `param` is the first.
 */
export class RequestValidationError extends SecurityError {
  readonly issues: readonly ValidationIssue[];

  constructor(
    code: 'LLM_EDGE_INVALID_REQUEST' | 'LLM_EDGE_REQUEST_TOO_LARGE' | 'LLM_EDGE_CONTEXT_LENGTH_EXCEEDED',
    issues: readonly ValidationIssue[],
    options?: { cause?: unknown },
  ) {
    const shown = issues
      .slice(0, 5)
      .map((i) => `${i.path}: ${i.message}`)
      .join('; ');
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    const first = issues[0];
    super({
      code,
      status: code === 'LLM_EDGE_REQUEST_TOO_LARGE' ? 413 : 400,
      type: code === 'LLM_EDGE_REQUEST_TOO_LARGE' ? 'request_too_large' : 'invalid_request_error',
      message: `Invalid request: ${shown}${more}`,
      ...(first ? { param: first.path } : {}),
      cause: options?.cause,
    });
    this.name = 'RequestValidationError';
    this.issues = issues;
  }

  /** True when `error` is a {@link RequestValidationError} from any copy of this package. */
  static override isInstance(error: unknown): error is RequestValidationError {
    return (
      hasMarker(error) &&
      (error.code === 'LLM_EDGE_INVALID_REQUEST' ||
        error.code === 'LLM_EDGE_REQUEST_TOO_LARGE' ||
        error.code === 'LLM_EDGE_CONTEXT_LENGTH_EXCEEDED')
    );
  }
}

/** 400: PII scanning in `block` mode found personal data. Names the kinds and counts, never a value. */
export class PiiBlockedError extends SecurityError {
  /** Kinds found, sorted. */
  readonly kinds: readonly PiiKind[];
  /** How many of each kind were found. */
  readonly counts: Readonly<Partial<Record<PiiKind, number>>>;

  constructor(counts: Readonly<Partial<Record<PiiKind, number>>>) {
    const kinds = (Object.keys(counts) as PiiKind[]).filter((k) => (counts[k] ?? 0) > 0).sort();
    super({
      code: 'LLM_EDGE_PII_BLOCKED',
      status: 400,
      type: 'invalid_request_error',
      param: 'messages',
      message: `Request blocked: it contains personal data or secrets of kind ${kinds.join(', ')}`,
    });
    this.name = 'PiiBlockedError';
    this.kinds = kinds;
    this.counts = { ...counts };
  }

  /** True when `error` is a {@link PiiBlockedError} from any copy of this package. */
  static override isInstance(error: unknown): error is PiiBlockedError {
    return hasMarker(error) && error.code === 'LLM_EDGE_PII_BLOCKED';
  }
}

/** Thrown at construction when options or key entries are invalid; `field` names the bad one. */
export class SecurityOptionsError extends Error {
  /** Stable error code for invalid options. */
  readonly code = 'LLM_EDGE_SECURITY_OPTIONS_INVALID' as const;
  /** The option at fault, e.g. `keys[2].hash`. */
  readonly field: string;
  readonly [OPTIONS_ERROR_MARKER] = true;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SecurityOptionsError';
    this.field = field;
  }

  /** True when `error` is a {@link SecurityOptionsError} from any copy of this package. */
  static isInstance(error: unknown): error is SecurityOptionsError {
    return typeof error === 'object' && error !== null && OPTIONS_ERROR_MARKER in error;
  }
}
