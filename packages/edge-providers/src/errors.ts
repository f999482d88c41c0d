const PROVIDER_ERROR_MARKER = Symbol.for('llm-edge.providers.error');

/**
 * The normalised categories of provider failure; routing decides failover on these.
 * `bad_request` is a request no target would take (invalid, or refused by the upstream with a 400);
 * `unsupported` is a valid request this adapter cannot honour (a field its wire format has no
 * equivalent for), raised before any upstream call, so another target may well serve it.
 */
export type ProviderErrorKind =
  | 'auth'
  | 'bad_request'
  | 'unsupported'
  | 'not_found'
  | 'rate_limit'
  | 'overloaded'
  | 'server'
  | 'timeout'
  | 'network'
  | 'context_length'
  | 'content_filter'
  | 'aborted';

/** Kinds that are worth retrying (on the same or another target) unless the upstream says otherwise. */
export const RETRYABLE_PROVIDER_ERROR_KINDS: ReadonlySet<ProviderErrorKind> = new Set<ProviderErrorKind>([
  'rate_limit',
  'overloaded',
  'server',
  'timeout',
  'network',
]);

/** One problem found while validating a request, with the JSON path of the bad field. */
export interface ValidationIssue {
  /** JSON path such as `messages[2].content[0].image_url.url`; `$` for the root. */
  readonly path: string;
  readonly message: string;
}

/** Constructor fields of {@link ProviderError}. */
export interface ProviderErrorInit {
  provider: string;
  kind: ProviderErrorKind;
  message: string;
  status?: number;
  /** @default true for rate_limit, overloaded, server, timeout, network; false otherwise */
  retryable?: boolean;
  retryAfterMs?: number;
  providerMessage?: string;
  providerType?: string;
  /** Field of the unified request at fault (bad_request, unsupported), as a JSON path. */
  param?: string;
  /** Validation issues, when the error comes from schema validation. */
  issues?: readonly ValidationIssue[];
  /** Upstream response headers (lower-case names), when there was a response. */
  headers?: Readonly<Record<string, string>>;
  /** Upstream response body text (truncated), when there was a response. */
  body?: string;
  cause?: unknown;
}

/**
 * The one error type every adapter throws: which provider, what kind of failure, whether a retry can help.
 *
 * @example
 * ```ts
 * try { await provider.chat(req); } catch (e) {
 *   if (ProviderError.isInstance(e) && e.retryable) scheduleRetry(e.retryAfterMs);
 * }
 * ```
 */
export class ProviderError extends Error {
  /** Stable error code of this package. */
  readonly code = 'LLM_EDGE_PROVIDER_ERROR' as const;
  readonly provider: string;
  readonly status?: number;
  readonly kind: ProviderErrorKind;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly providerMessage?: string;
  readonly providerType?: string;
  readonly param?: string;
  readonly issues?: readonly ValidationIssue[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;

  constructor(init: ProviderErrorInit) {
    super(init.message, { cause: init.cause });
    this.name = 'ProviderError';
    this.provider = init.provider;
    this.kind = init.kind;
    this.retryable = init.retryable ?? RETRYABLE_PROVIDER_ERROR_KINDS.has(init.kind);
    if (init.status !== undefined) this.status = init.status;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.providerMessage !== undefined) this.providerMessage = init.providerMessage;
    if (init.providerType !== undefined) this.providerType = init.providerType;
    if (init.param !== undefined) this.param = init.param;
    if (init.issues !== undefined) this.issues = init.issues;
    if (init.headers !== undefined) this.headers = init.headers;
    if (init.body !== undefined) this.body = init.body;
    Object.defineProperty(this, PROVIDER_ERROR_MARKER, { value: true });
  }

  /** True for any ProviderError, also one created by another installed copy of this package. */
  static isInstance(error: unknown): error is ProviderError {
    return typeof error === 'object' && error !== null && PROVIDER_ERROR_MARKER in error;
  }
}

const OPTIONS_ERROR_MARKER = Symbol.for('llm-edge.providers.options-error');

/** Thrown at construction when adapter options are invalid; names the bad field. */
export class ProviderOptionsError extends Error {
  /** Stable error code of this package for invalid options. */
  readonly code = 'LLM_EDGE_PROVIDER_OPTIONS_INVALID' as const;
  /** The option at fault, e.g. `timeouts.connectMs`. */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, { cause: options?.cause });
    this.name = 'ProviderOptionsError';
    this.field = field;
    Object.defineProperty(this, OPTIONS_ERROR_MARKER, { value: true });
  }

  /** True for any ProviderOptionsError, also one created by another installed copy of this package. */
  static isInstance(error: unknown): error is ProviderOptionsError {
    return typeof error === 'object' && error !== null && OPTIONS_ERROR_MARKER in error;
  }
}

/**
 * The error for a valid request this adapter cannot honour: kind 'unsupported', status 400, not
 * retryable, `param` naming the unified-request field. Raised before any upstream call.
 */
export function unsupportedField(
  provider: string,
  param: string,
  why: string,
  cause?: unknown,
): ProviderError {
  return new ProviderError({
    provider,
    kind: 'unsupported',
    status: 400,
    param,
    message: `${param}: ${why}`,
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** The error for a request that is invalid whatever the target: kind 'bad_request', status 400, `param` naming the field. */
export function invalidField(provider: string, param: string, why: string): ProviderError {
  return new ProviderError({
    provider,
    kind: 'bad_request',
    status: 400,
    param,
    message: `${param}: ${why}`,
  });
}
