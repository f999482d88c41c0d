export type { AnthropicProviderOptions } from './anthropic-provider';
export { createAnthropicProvider } from './anthropic-provider';
export type {
  AssistantMessage,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  DeveloperMessage,
  EmbeddingsRequest,
  EmbeddingsResponse,
  FinishReason,
  ImageContentPart,
  ResponseFormat,
  ResponseMessage,
  SystemMessage,
  TextContentPart,
  Tool,
  ToolCall,
  ToolCallDelta,
  ToolChoice,
  ToolMessage,
  Usage,
  UserContentPart,
  UserMessage,
} from './chat-schemas';
export {
  assistantMessageSchema,
  audioContentPartSchema,
  chatChunkSchema,
  chatMessageSchema,
  chatRequestSchema,
  chatResponseSchema,
  developerMessageSchema,
  embeddingsRequestSchema,
  embeddingsResponseSchema,
  fileContentPartSchema,
  finishReasonSchema,
  imageContentPartSchema,
  refusalContentPartSchema,
  responseFormatSchema,
  responseMessageSchema,
  streamOptionsSchema,
  systemMessageSchema,
  textContentPartSchema,
  toolCallDeltaSchema,
  toolCallSchema,
  toolChoiceSchema,
  toolMessageSchema,
  toolSchema,
  usageSchema,
  userMessageSchema,
} from './chat-schemas';
export type { ProviderErrorInit, ProviderErrorKind, ValidationIssue } from './errors';
export { ProviderError, ProviderOptionsError, RETRYABLE_PROVIDER_ERROR_KINDS } from './errors';
export type { GeminiProviderOptions } from './gemini-provider';
export { createGeminiProvider } from './gemini-provider';
export { retryAfterMsFromHeaders } from './http-transport';
export type { LongContextPrices, ModelCatalogueEntry, ModelPrices, UsagePrice } from './model-catalogue';
export { findModel, modelCatalogue, priceUsage } from './model-catalogue';
export type {
  AzureOpenAIProviderOptions,
  ClosableProvider,
  OpenAICompatiblePreset,
  OpenAICompatiblePresetName,
  OpenAICompatibleProviderOptions,
  OpenAIProviderOptions,
} from './openai-provider';
export {
  createAzureOpenAIProvider,
  createOpenAICompatibleProvider,
  createOpenAIProvider,
  OPENAI_COMPATIBLE_PRESETS,
} from './openai-provider';
export {
  formatJsonPath,
  parseChatRequest,
  parseEmbeddingsRequest,
  toValidationIssues,
} from './parse-request';
export type {
  BaseProviderOptions,
  CallOptions,
  ModelInfo,
  Provider,
  ProviderCapabilities,
  ProviderKind,
  ProviderTimeouts,
} from './provider';
export { DEFAULT_PROVIDER_TIMEOUTS } from './provider';
export type { OpenAICompatibleQuirks } from './to-openai-request';
export { upstreamJsonText } from './upstream-json-text';
