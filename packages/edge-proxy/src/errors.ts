const PROXY_ERROR_MARKER = Symbol.for('llm-edge.proxy.error');

/** Stable codes carried by every error this package creates. */
export type ProxyErrorCode =
  | 'LLM_EDGE_PROXY_INVALID_OPTION'
  | 'LLM_EDGE_PROXY_NOT_LISTENING'
  | 'LLM_EDGE_PROXY_INVALID_JSON'
  | 'LLM_EDGE_PROXY_INVALID_BODY'
  | 'LLM_EDGE_PROXY_BODY_TOO_LARGE'
  | 'LLM_EDGE_PROXY_UNSUPPORTED_MEDIA_TYPE'
  | 'LLM_EDGE_PROXY_BAD_REQUEST'
  | 'LLM_EDGE_PROXY_HEADERS_TOO_LARGE'
  | 'LLM_EDGE_PROXY_NOT_FOUND'
  | 'LLM_EDGE_PROXY_METHOD_NOT_ALLOWED'
  | 'LLM_EDGE_PROXY_REQUEST_TIMEOUT'
  | 'LLM_EDGE_PROXY_IDLE_TIMEOUT'
  | 'LLM_EDGE_PROXY_CLIENT_CLOSED'
  | 'LLM_EDGE_PROXY_SHUTTING_DOWN'
  | 'LLM_EDGE_PROXY_INVALID_HANDLER_RESULT'
  | 'LLM_EDGE_PROXY_INVALID_HEADER'
  | 'LLM_EDGE_PROXY_INTERNAL';

/** HTTP status each code is answered with (499: the client closed the connection first). */
export const PROXY_ERROR_STATUS: Readonly<Record<ProxyErrorCode, number>> = Object.freeze({
  LLM_EDGE_PROXY_INVALID_OPTION: 500,
  LLM_EDGE_PROXY_NOT_LISTENING: 500,
  LLM_EDGE_PROXY_INVALID_JSON: 400,
  LLM_EDGE_PROXY_INVALID_BODY: 400,
  LLM_EDGE_PROXY_BODY_TOO_LARGE: 413,
  LLM_EDGE_PROXY_UNSUPPORTED_MEDIA_TYPE: 415,
  LLM_EDGE_PROXY_BAD_REQUEST: 400,
  LLM_EDGE_PROXY_HEADERS_TOO_LARGE: 431,
  LLM_EDGE_PROXY_NOT_FOUND: 404,
  LLM_EDGE_PROXY_METHOD_NOT_ALLOWED: 405,
  LLM_EDGE_PROXY_REQUEST_TIMEOUT: 408,
  LLM_EDGE_PROXY_IDLE_TIMEOUT: 504,
  LLM_EDGE_PROXY_CLIENT_CLOSED: 499,
  LLM_EDGE_PROXY_SHUTTING_DOWN: 503,
  LLM_EDGE_PROXY_INVALID_HANDLER_RESULT: 500,
  LLM_EDGE_PROXY_INVALID_HEADER: 500,
  LLM_EDGE_PROXY_INTERNAL: 500,
});

function hasMarker(value: unknown): value is ProxyError {
  return typeof value === 'object' && value !== null && PROXY_ERROR_MARKER in value;
}

/**
 * Errors created by `@llm-edge/proxy`. Each carries its HTTP `status` and a stable `code`, so it
 * maps to a response like any other error the pipeline throws. Identify with `isInstance()`.
 */
export class ProxyError extends Error {
  /** Stable, documented error code. */
  readonly code: ProxyErrorCode;
  /** HTTP status the client receives. */
  readonly status: number;
  /** The message is safe to show to clients. */
  readonly expose: boolean;
  readonly [PROXY_ERROR_MARKER] = true;

  constructor(code: ProxyErrorCode, message: string, options?: { cause?: unknown; expose?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyError';
    this.code = code;
    this.status = PROXY_ERROR_STATUS[code];
    this.expose = options?.expose ?? this.status < 500;
  }

  /** True when `error` is any error created by this package (from any installed copy). */
  static isInstance(error: unknown): error is ProxyError {
    return hasMarker(error);
  }
}

/** Thrown by `createProxyServer` when an option is invalid; `field` names it. */
export class InvalidProxyOptionError extends ProxyError {
  /** The option path that failed validation, e.g. `timeouts.headersMs`. */
  readonly field: string;

  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super('LLM_EDGE_PROXY_INVALID_OPTION', `Invalid option "${field}": ${reason}`, {
      ...options,
      expose: false,
    });
    this.name = 'InvalidProxyOptionError';
    this.field = field;
  }

  /** True when `error` is an {@link InvalidProxyOptionError} from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidProxyOptionError {
    return hasMarker(error) && error.code === 'LLM_EDGE_PROXY_INVALID_OPTION';
  }
}
