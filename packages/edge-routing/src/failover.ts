import { ProviderError, type ProviderErrorKind } from '@llm-edge/providers';
import type { AttemptError, FailoverAction } from './types';

/** Kinds where another target may well succeed: its own capacity and health are independent. */
const NEXT_TARGET_KINDS: ReadonlySet<ProviderErrorKind> = new Set<ProviderErrorKind>([
  'rate_limit',
  'overloaded',
  'server',
  'timeout',
  'network',
]);

/** Kinds that say the target itself is unwell; these count against its circuit breaker. */
const BREAKER_FAILURE_KINDS: ReadonlySet<ProviderErrorKind> = new Set<ProviderErrorKind>([
  'overloaded',
  'server',
  'timeout',
  'network',
]);

/** Kinds that put a target into cooldown, honouring its Retry-After. */
const COOLDOWN_KINDS: ReadonlySet<ProviderErrorKind> = new Set<ProviderErrorKind>([
  'rate_limit',
  'overloaded',
]);

/** The router's reading of one failure. */
export interface FailoverDecision {
  action: FailoverAction;
  /** Human-readable reason for events, e.g. `server: next target`. */
  reason: string;
}

/**
 * Decides what to do after a failed attempt. rate_limit, overloaded, server, timeout and network
 * move on to the next target; so does unsupported (this target cannot translate a field of a valid
 * request, another may); context_length moves on only to a larger window; everything else (auth,
 * bad_request, content_filter, not_found, aborted, errors that are not ProviderErrors) would fail
 * the same way elsewhere, so the request stops.
 */
export function decideFailover(error: unknown): FailoverDecision {
  if (!ProviderError.isInstance(error)) return { action: 'stop', reason: 'unknown error: stop' };
  if (NEXT_TARGET_KINDS.has(error.kind))
    return { action: 'next_target', reason: `${error.kind}: next target` };
  if (error.kind === 'unsupported') {
    return {
      action: 'next_target',
      reason: `unsupported: ${error.param ?? 'the request'} is not supported by this target; next target`,
    };
  }
  if (error.kind === 'context_length') {
    return { action: 'larger_context', reason: 'context_length: only a larger context window' };
  }
  return { action: 'stop', reason: `${error.kind}: not retried on any target` };
}

/**
 * True for a valid request the target's adapter cannot translate (kind unsupported): raised before
 * any upstream call, so it says nothing about the target's health and costs no retry.
 */
export function isUnsupported(error: unknown): error is ProviderError {
  return ProviderError.isInstance(error) && error.kind === 'unsupported';
}

/** True when the failure should count against the target's circuit breaker. */
export function isBreakerFailure(error: unknown): boolean {
  return ProviderError.isInstance(error) && BREAKER_FAILURE_KINDS.has(error.kind);
}

/** True when the failure should put the target into cooldown. */
export function isCooldownFailure(error: unknown): error is ProviderError {
  return ProviderError.isInstance(error) && COOLDOWN_KINDS.has(error.kind);
}

/** A loggable summary of an error: kind, status, Retry-After and message, nothing else. */
export function summarizeError(error: unknown): AttemptError {
  if (ProviderError.isInstance(error)) {
    return {
      kind: error.kind,
      status: error.status,
      retryAfterMs: error.retryAfterMs,
      message: error.message,
      ...(error.param !== undefined ? { param: error.param } : {}),
    };
  }
  return { kind: 'unknown', message: error instanceof Error ? error.message : String(error) };
}

/**
 * What the gateway's client is told about one upstream failure kind. The gateway answers for
 * itself: an upstream 401 is the gateway's credential problem (502), an upstream 500 is a failed
 * upstream (502), never the gateway's own 500 or the client's 401.
 */
const GATEWAY_STATUS: Readonly<Record<ProviderErrorKind, number>> = {
  auth: 502,
  bad_request: 400,
  unsupported: 400,
  not_found: 404,
  context_length: 400,
  content_filter: 400,
  rate_limit: 503,
  overloaded: 503,
  server: 502,
  timeout: 504,
  network: 502,
  aborted: 502,
};

/** Kinds whose upstream message is about the client's request, so the client may read it. */
const REQUEST_SHAPED_KINDS: ReadonlySet<ProviderErrorKind> = new Set<ProviderErrorKind>([
  'bad_request',
  'unsupported',
  'not_found',
  'context_length',
  'content_filter',
]);

/**
 * Status of a request every target failed: 503 when all failures were rate limits or overload
 * (capacity; come back later), 504 when all timed out, 400 when all said the context was too long,
 * 502 otherwise.
 */
export function allFailedStatus(failures: readonly unknown[]): number {
  const kinds = failures.map((e) => (ProviderError.isInstance(e) ? e.kind : undefined));
  if (kinds.length === 0) return 502;
  if (kinds.every((k) => k === 'rate_limit' || k === 'overloaded')) return 503;
  if (kinds.every((k) => k === 'timeout')) return 504;
  if (kinds.every((k) => k === 'context_length')) return 400;
  return 502;
}

/** Status of a request refused by a target (a failure another target would repeat); 500 for a non-ProviderError. */
export function rejectedStatus(error: unknown): number {
  return ProviderError.isInstance(error) ? GATEWAY_STATUS[error.kind] : 500;
}

/** The client-facing part of a request-shaped refusal: the upstream's own message and the field at fault. */
export function clientFacing(error: unknown): { publicMessage?: string; param?: string } {
  if (!ProviderError.isInstance(error) || !REQUEST_SHAPED_KINDS.has(error.kind)) return {};
  return {
    publicMessage: error.providerMessage ?? error.message,
    ...(error.param !== undefined ? { param: error.param } : {}),
  };
}
