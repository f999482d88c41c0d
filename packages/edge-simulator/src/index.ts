export type { ProfilePreset } from './default-profiles';
export { DEFAULT_MODELS, DEFAULT_PROFILES, FALLBACK_PROFILE, PROFILE_PRESETS } from './default-profiles';
export type { ModelStats, SimulatorStats } from './engine';
export type { SimulatorErrorCode, SimulatorIssue } from './errors';
export { SimulatorError } from './errors';
export type { SimulatorRequestLogEntry } from './exchange';
export { sampleJsonSchema } from './json-schema-sample';
export type { LatencySchedule } from './latency';
export { logNormalParameters, sampleLogNormal, sampleSchedule } from './latency';
export type { RandomSource } from './random';
export { createRandom } from './random';
export type {
  FaultKind,
  FaultRule,
  FaultRuleInput,
  LatencyProfile,
  RateLimits,
  Scenario,
  ScenarioInput,
  ScenarioMatch,
  ScriptedReply,
  ScriptedReplyInput,
  SimulatorProvider,
} from './scenario';
export {
  FAULT_KINDS,
  loadScenarioFile,
  PROVIDERS,
  parseScenario,
  parseScenarioText,
  scenarioSchema,
} from './scenario';
export type { Simulator, SimulatorOptions } from './simulator';
export { DEFAULT_SIMULATOR_OPTIONS, startSimulator } from './simulator';
