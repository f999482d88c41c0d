export { isTokenChunk } from './committed-stream';
export type { RoutingErrorCode, RoutingErrorDetails } from './errors';
export { RoutingError } from './errors';
export type { FailoverDecision } from './failover';
export { decideFailover, isBreakerFailure, isCooldownFailure } from './failover';
export { MovingAverage } from './moving-average';
export type {
  BreakerOptions,
  CooldownOptions,
  HedgeOptions,
  RouterOptions,
  RouterRetryOptions,
} from './options';
export { DEFAULT_ROUTER_OPTIONS } from './options';
export type { RouteResult, StreamRouteResult } from './router';
export { Router } from './router';
export type {
  Strategy,
  StrategyCandidate,
  StrategyChoice,
  StrategyInput,
  StrategyName,
} from './strategies';
export {
  cheapestStrategy,
  leastBusyStrategy,
  leastLatencyStrategy,
  priorityStrategy,
  roundRobinStrategy,
  STRATEGIES,
  STRATEGY_NAMES,
  weightedStrategy,
} from './strategies';
export type {
  AliasConfig,
  AttemptError,
  AttemptEvent,
  AttemptOutcome,
  BreakerEvent,
  BreakerState,
  Clock,
  FailoverAction,
  HealthSnapshot,
  ResolvedRoute,
  RouteCallOptions,
  RouteOperation,
  RouterEvents,
  StreamEndEvent,
  TargetConfig,
  TargetHealth,
  TargetInfo,
} from './types';
