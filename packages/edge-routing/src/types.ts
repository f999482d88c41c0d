import type { ProviderErrorKind } from '@llm-edge/providers';
import type { StrategyName } from './strategies';

/** One upstream model reachable through one provider instance. */
export interface TargetConfig {
  /** Unique id, used in aliases, events and health. */
  id: string;
  /** Key of the provider instance in `RouterOptions.providers` (its credentials live there). */
  provider: string;
  /** Model name sent upstream. */
  model: string;
  /**
   * Share of traffic under the `weighted` strategy; 0 = only as a fallback.
   * @default 1
   */
  weight?: number;
  /**
   * Order under the `priority` strategy and the tie-breaker of the others; lower goes first.
   * @default 0
   */
  priority?: number;
  /**
   * Context window in tokens, for context-length failover.
   * @default the model catalogue's figure, if the model is listed
   */
  contextWindow?: number;
  /**
   * Price in USD per million tokens (input + output) for the `cheapest` strategy.
   * @default the model catalogue's input + output prices, if the model is listed
   */
  usdPerMTok?: number;
}

/** A model name clients send, mapped to several targets and a strategy. */
export interface AliasConfig {
  /** What clients send as `"model"`. */
  name: string;
  /** Target ids, in configuration order. */
  targets: string[];
  /**
   * How the healthy targets are ordered.
   * @default 'priority'
   */
  strategy?: StrategyName;
  /**
   * Start the next target when the current one has not produced its first token after this many ms.
   * @default RouterOptions.hedge.delayMs (no hedging when that is unset)
   */
  hedgeDelayMs?: number;
}

/** The public face of a target in results, events and errors. */
export interface TargetInfo {
  /** Target id (`provider/model` for a target addressed directly and not configured). */
  id: string;
  /** Provider instance key. */
  provider: string;
  /** Upstream model name. */
  model: string;
}

/** What a model name resolved to. */
export interface ResolvedRoute {
  /** The name the client sent. */
  name: string;
  /** How it matched: an alias, a target id, a `provider/model` address, or the bare model name of targets. */
  kind: 'alias' | 'target' | 'direct' | 'model';
  /** Strategy ordering the targets. */
  strategy: StrategyName;
  /** Hedge delay in ms, when hedging applies to this route. */
  hedgeDelayMs: number | undefined;
  /** Candidate targets in configuration order. */
  targets: TargetInfo[];
}

/** Which router call an attempt belongs to. */
export type RouteOperation = 'chat' | 'chat_stream' | 'embeddings';

/**
 * How one attempt ended.
 * - `success`: it answered (for streams: its first token arrived and the stream committed to it).
 * - `error`: it failed; `error` and `next` say how and what the router did about it.
 * - `cancelled`: the router aborted it because another attempt won the hedge race.
 * - `aborted`: the caller's signal fired.
 */
export type AttemptOutcome = 'success' | 'error' | 'cancelled' | 'aborted';

/** What the router did after a failed attempt. */
export type FailoverAction =
  /** Tried the next target. */
  | 'next_target'
  /** Tried only targets whose context window is larger than the failed one's. */
  | 'larger_context'
  /** Gave up on this request: the failure would repeat on any target. */
  | 'stop';

/** Summary of an attempt's failure (no prompt content, no secrets). */
export interface AttemptError {
  /** ProviderError kind, `breaker_open` when the breaker refused at the last moment, or `unknown`. */
  kind: ProviderErrorKind | 'breaker_open' | 'unknown';
  /** Upstream HTTP status, when there was one. */
  status?: number | undefined;
  /** Upstream Retry-After in ms, when sent. */
  retryAfterMs?: number | undefined;
  /** The error's message. */
  message: string;
  /** The request field at fault, for `bad_request` and `unsupported`. */
  param?: string | undefined;
}

/** One attempt against one target: emitted on `attempt` and returned in results and errors. */
export interface AttemptEvent {
  /** The model name the client sent. */
  route: string;
  operation: RouteOperation;
  target: TargetInfo;
  /** 1-based number of this attempt within the request. */
  attempt: number;
  /** 1-based retry pass over the route's targets (a pass ends when every candidate failed). */
  pass: number;
  /** Why this target was tried: the strategy's reason, a failover, or a hedge. */
  chosenBecause: string;
  /** True when it was started as a hedge while another attempt was still running. */
  hedge: boolean;
  outcome: AttemptOutcome;
  /** Epoch ms (router clock) when the attempt started. */
  startedAt: number;
  /** Ms from start to answer, first token (streams), or failure. */
  latencyMs: number;
  /** Ms to the first token, for a stream that produced one. */
  ttftMs?: number | undefined;
  /** Present when outcome is `error`. */
  error?: AttemptError | undefined;
  /** What the router did after this failure. */
  next?: FailoverAction | undefined;
  /** Why it failed over (or stopped), e.g. `rate_limit: next target`. */
  failoverReason?: string | undefined;
}

/** Emitted when a committed stream ends, so total latency and mid-stream failures are observable. */
export interface StreamEndEvent {
  route: string;
  target: TargetInfo;
  /** `completed`: ran to its end; `error`: failed mid-stream; `cancelled`: the consumer stopped or aborted. */
  outcome: 'completed' | 'error' | 'cancelled';
  /** Ms from the attempt's start to the end of the stream. */
  latencyMs: number;
  ttftMs: number | undefined;
  chunks: number;
  error?: AttemptError | undefined;
}

/** The state of a target's circuit breaker. */
export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

/** Emitted when a target's breaker changes state. */
export interface BreakerEvent {
  target: TargetInfo;
  state: BreakerState;
  /** Epoch ms at which an open breaker lets a probe through. */
  halfOpenAt?: number | undefined;
}

/** Health of one target, for readiness checks and dashboards. */
export interface TargetHealth {
  target: TargetInfo;
  /** Whether the router would choose it right now. */
  available: boolean;
  breaker: BreakerState;
  /** Epoch ms at which an open breaker lets a probe through. */
  halfOpenAt: number | undefined;
  /** Epoch ms until which the target is cooling down after a 429/529. */
  cooldownUntil: number | undefined;
  inFlight: number;
  /** Moving average of time to first token, ms. */
  ttftMs: number | undefined;
  /** Moving average of total latency, ms. */
  latencyMs: number | undefined;
  successes: number;
  failures: number;
  /** The most recent failure. */
  lastError: AttemptError | undefined;
}

/** Snapshot of every configured target and alias. */
export interface HealthSnapshot {
  /** Epoch ms (router clock). */
  at: number;
  /** True when every alias has at least one available target (and there is at least one target). */
  ready: boolean;
  targets: TargetHealth[];
  aliases: { name: string; available: number; total: number }[];
  /** Errors thrown by event listeners (counted, never propagated into requests). */
  listenerErrors: number;
}

/** Events the router emits, by name. */
export interface RouterEvents {
  attempt: AttemptEvent;
  'stream-end': StreamEndEvent;
  breaker: BreakerEvent;
}

/** Minimal clock: epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** Per-call options of the router's methods. */
export interface RouteCallOptions {
  /** Aborting cancels every attempt in flight and the committed stream. */
  signal?: AbortSignal | undefined;
  /** Extra upstream headers for this call, e.g. `traceparent`. */
  headers?: Record<string, string> | undefined;
}
