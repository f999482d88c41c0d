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
 * move on to the next target; context_length moves on only to a larger window; everything else
 * (auth, bad_request, content_filter, not_found, aborted, errors that are not ProviderErrors)
 * would fail the same way elsewhere, so the request stops.
 */
export function decideFailover(error: unknown): FailoverDecision {
  if (!ProviderError.isInstance(error)) return { action: 'stop', reason: 'unknown error: stop' };
  if (NEXT_TARGET_KINDS.has(error.kind))
    return { action: 'next_target', reason: `${error.kind}: next target` };
  if (error.kind === 'context_length') {
    return { action: 'larger_context', reason: 'context_length: only a larger context window' };
  }
  return { action: 'stop', reason: `${error.kind}: not retried on any target` };
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
    };
  }
  return { kind: 'unknown', message: error instanceof Error ? error.message : String(error) };
}
