import type { AttemptEvent } from './types';

const ROUTING_ERROR_MARKER = Symbol.for('llm-edge.routing.error');

/** Stable codes carried by {@link RoutingError}. */
export type RoutingErrorCode =
  /** The requested model is neither an alias, a target id, nor a `provider/model` address. */
  | 'LLM_EDGE_NO_ROUTE'
  /** Every target of the route is cooling down or has an open breaker. */
  | 'LLM_EDGE_NO_HEALTHY_TARGET'
  /** Every target that could take the request failed with an error worth failing over. */
  | 'LLM_EDGE_ALL_TARGETS_FAILED'
  /** A target refused the request for a reason another target would share (auth, bad request, content filter, not found). */
  | 'LLM_EDGE_REQUEST_REJECTED'
  /** No target of the route can honour a field of the request (each refused it as `unsupported`); `param` names it. */
  | 'LLM_EDGE_UNSUPPORTED_BY_TARGETS'
  /** The caller's AbortSignal fired. */
  | 'LLM_EDGE_ROUTING_ABORTED'
  /** RouterOptions failed validation; `field` names the bad one. */
  | 'LLM_EDGE_INVALID_ROUTER_OPTIONS';

/**
 * HTTP status for each code when the router does not set one. ALL_TARGETS_FAILED and
 * REQUEST_REJECTED get a status from the failures behind them (see `gatewayStatus`).
 */
const DEFAULT_STATUS: Record<RoutingErrorCode, number> = {
  LLM_EDGE_NO_ROUTE: 404,
  LLM_EDGE_NO_HEALTHY_TARGET: 503,
  LLM_EDGE_ALL_TARGETS_FAILED: 502,
  LLM_EDGE_REQUEST_REJECTED: 400,
  LLM_EDGE_UNSUPPORTED_BY_TARGETS: 400,
  LLM_EDGE_ROUTING_ABORTED: 499,
  LLM_EDGE_INVALID_ROUTER_OPTIONS: 500,
};

/** Construction details of a {@link RoutingError}. */
export interface RoutingErrorDetails {
  /** The last upstream error, or the abort reason. */
  cause?: unknown;
  /** HTTP status to answer with; defaults per code. */
  status?: number | undefined;
  /** The request field at fault (OpenAI's `param`), e.g. `model` for LLM_EDGE_NO_ROUTE. */
  param?: string | undefined;
  /** A message the gateway's client may be shown whatever the status (the upstream's own words on a request it refused). */
  publicMessage?: string | undefined;
  /** When a retry could succeed (cooldowns, Retry-After), in ms. */
  retryAfterMs?: number | undefined;
  /** For LLM_EDGE_INVALID_ROUTER_OPTIONS: the dotted path of the bad option. */
  field?: string | undefined;
  /** The attempts made before giving up (each as emitted on the `attempt` event). */
  attempts?: readonly AttemptEvent[] | undefined;
  /** Whether trying again later may succeed. */
  retryable?: boolean | undefined;
}

/** The one error type @llm-edge/routing throws; `cause` holds the last ProviderError when there was one. */
export class RoutingError extends Error {
  /** Stable machine-readable code. */
  readonly code: RoutingErrorCode;
  /**
   * HTTP status for the gateway's client, as the gateway sees the failure (never the last upstream's
   * status echoed): 502 when targets failed, 503 when all were overloaded, rate limited or cooling
   * down, 504 when all timed out, 400 for a request the upstream refused as malformed.
   */
  readonly status: number;
  /** The request field at fault (OpenAI's `param`), when one is known. */
  readonly param: string | undefined;
  /** A client-safe message when there is one better than the status's default (read by @llm-edge/proxy). */
  readonly publicMessage: string | undefined;
  /** When a retry could succeed, in ms, if known. */
  readonly retryAfterMs: number | undefined;
  /** The bad option's dotted path, for LLM_EDGE_INVALID_ROUTER_OPTIONS. */
  readonly field: string | undefined;
  /** Attempts made before the error, as emitted on the `attempt` event. */
  readonly attempts: readonly AttemptEvent[];
  /** Whether trying again later may succeed (targets were failing or cooling down, not refusing). */
  readonly retryable: boolean;

  constructor(code: RoutingErrorCode, message: string, details: RoutingErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.name = 'RoutingError';
    this.code = code;
    this.status = details.status ?? DEFAULT_STATUS[code];
    this.retryAfterMs = details.retryAfterMs;
    this.field = details.field;
    this.param = details.param;
    this.publicMessage = details.publicMessage;
    this.attempts = details.attempts ?? [];
    this.retryable = details.retryable ?? false;
    Object.defineProperty(this, ROUTING_ERROR_MARKER, { value: true });
  }

  /** True for a RoutingError from any installed copy of this package. */
  static isInstance(value: unknown): value is RoutingError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[ROUTING_ERROR_MARKER] === true
    );
  }
}
