export type { Env, GatewayConfigInput, LoadedConfig } from './config-loader';
export {
  DEFAULT_OTLP_TRACES_ENDPOINT,
  isValidatedConfig,
  loadConfigFile,
  parseConfig,
  parseDocument,
} from './config-loader';
export { maskConfig, maskSecret, maskUrl } from './config-mask';
export type {
  AliasConfigEntry,
  GatewayConfig,
  KeyConfigEntry,
  PiiMode,
  ProviderConfig,
  RouteName,
  TargetConfigEntry,
} from './config-schema';
export { CACHE_PARTITIONS, configSchema, PII_MODES, ROUTES, STRATEGIES } from './config-schema';
export { DEFAULT_MODELS, defaultConfigDocument } from './default-config';
export { interpolateEnv } from './env-interpolation';
export type { AgentErrorCode, ConfigIssue } from './errors';
export { AgentError } from './errors';
export type { Gateway, GatewayOptions } from './gateway';
export { createGateway } from './gateway';
export type { RedisState } from './redis-connection';
