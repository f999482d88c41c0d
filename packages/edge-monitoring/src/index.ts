export type { MonitoringErrorCode } from './errors';
export { InvalidMonitoringOptionError, MonitoringError } from './errors';
export type {
  CacheStatus,
  DestinationStream,
  LogDestination,
  LogDestinationOptions,
  Logger,
  LoggerOptions,
  LogLevel,
  RequestLogRecord,
} from './logger';
export {
  closeLogDestination,
  createLogDestination,
  createLogger,
  DEFAULT_LOGGER_OPTIONS,
  logRequest,
  serializeError,
} from './logger';
export type { BreakerState, GatewayMetrics, MetricsOptions, RequestMetric, TokenMetric } from './metrics';

export { createMetrics, DEFAULT_METRICS_OPTIONS, Registry } from './metrics';
export {
  censorKeys,
  isSecretHeader,
  PROMPT_KEYS,
  REDACTED,
  redactionPaths,
  SECRET_KEYS,
  sanitizeHeaders,
  scrubSecrets,
} from './redaction';
export type {
  Context,
  GenAiOperation,
  GenAiTracing,
  GenAiTracingOptions,
  HeaderCarrier,
  InferenceResponseInfo,
  InferenceSpan,
  InferenceSpanParams,
  RequestSpan,
  Span,
  SpanHandle,
  Tracer,
} from './tracing';
export {
  createGenAiTracing,
  DEFAULT_GEN_AI_TRACING_OPTIONS,
  extractTraceContext,
  GEN_AI_ATTRIBUTES,
  genAiProviderName,
  injectTraceHeaders,
  ROOT_CONTEXT,
  runWithContext,
  TRACER_NAME,
} from './tracing';
export type { OpenAIUsageShape, TokenUsage } from './usage';
export { normalizeUsage, toOpenAIUsage } from './usage';
export type {
  CostBreakdown,
  PriceFunction,
  UsageAccumulator,
  UsageAccumulatorOptions,
  UsageCharge,
  UsageRecord,
  UsageTotals,
} from './usage-accumulator';
export { createUsageAccumulator, DEFAULT_USAGE_ACCUMULATOR_OPTIONS } from './usage-accumulator';
