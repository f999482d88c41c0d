export type {
  ApiKeyHashAlgorithm,
  GenerateApiKeyOptions,
  GeneratedApiKey,
  HashApiKeyOptions,
  ParsedApiKeyHash,
} from './api-key-hash';
export {
  API_KEY_RANDOM_BYTES,
  generateApiKey,
  hashApiKey,
  parseApiKeyHash,
  verifyApiKey,
} from './api-key-hash';
export type {
  ApiKeyEntry,
  ApiKeyRecord,
  ApiKeySource,
  ApiKeyStoreOptions,
  ExtractedApiKey,
  HeadersLike,
} from './api-key-store';
export { ApiKeyStore, DEFAULT_API_KEY_STORE_OPTIONS, extractApiKey } from './api-key-store';
export type {
  PiiKind,
  RateLimitErrorInit,
  RateLimitType,
  SecurityErrorCode,
  SecurityErrorType,
  ValidationIssue,
} from './errors';
export {
  AuthenticationError,
  BudgetExceededError,
  PermissionError,
  PiiBlockedError,
  RateLimitError,
  RequestValidationError,
  SecurityError,
  SecurityOptionsError,
} from './errors';
export type { ModelMatcher } from './model-pattern';
export { compileModelMatcher } from './model-pattern';
export { ibanValid, isCardNumber, luhnValid, shannonEntropy } from './pii-detectors';
export type {
  PiiFindings,
  PiiMode,
  PiiRequestResult,
  PiiScannerOptions,
  PiiTextResult,
} from './pii-scanner';
export { DEFAULT_PII_SCANNER_OPTIONS, PII_KINDS, PiiScanner } from './pii-scanner';
export { formatResetDuration, rateLimitHeaders } from './rate-limit-headers';
export type {
  RateLimiterOptions,
  RateLimiterStats,
  RateLimitReservation,
  RateLimitState,
  RateLimitSubject,
} from './rate-limiter';
export { DEFAULT_RATE_LIMITER_OPTIONS, RateLimiter } from './rate-limiter';
export type { FallbackEvent, FallbackScope, RedisClientLike } from './redis-client';
export type {
  ModelLimits,
  RequestValidatorOptions,
  ValidatedChatRequest,
  ValidatedEmbeddingsRequest,
  ValidationContext,
} from './request-validation';
export {
  DEFAULT_REQUEST_VALIDATOR_OPTIONS,
  RequestValidator,
  validateChatRequest,
} from './request-validation';
export type {
  Admission,
  AdmitInput,
  ChatAdmission,
  SecurityGuardOptions,
  SettleInput,
  SettleResult,
} from './security-guard';
export { SecurityGuard } from './security-guard';
export type { BudgetPeriod, BudgetSubject, SpendLedgerOptions, SpendState } from './spend-ledger';
export { DEFAULT_SPEND_LEDGER_OPTIONS, SpendLedger } from './spend-ledger';
export type { EstimateChatTokensOptions, TokenCounter, TokenEstimate } from './token-estimate';
export {
  countTextTokens,
  DEFAULT_OUTPUT_TOKENS,
  estimateChatTokens,
  estimateEmbeddingsTokens,
  preloadTokenizer,
  requestedOutputTokens,
  usageTotalTokens,
} from './token-estimate';
