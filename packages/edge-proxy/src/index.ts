export type {
  AnthropicErrorBody,
  ApiDialect,
  ErrorMapper,
  ErrorResponse,
  HttpErrorLike,
  OpenAIErrorBody,
} from './error-mapping';
export { toErrorResponse } from './error-mapping';
export type { ProxyErrorCode } from './errors';
export { InvalidProxyOptionError, PROXY_ERROR_STATUS, ProxyError } from './errors';
export type {
  HandlerResult,
  JsonResult,
  ProxyContext,
  ProxyHandlers,
  ProxyRoute,
  ReadinessCheck,
  ReadinessReport,
  RequestAnnotations,
  ResponseHeaders,
  RouteHandler,
  SerializedJsonResult,
  StreamResult,
  UpstreamTimer,
} from './handlers';
export { jsonResult, serializedJsonResult, sseResult } from './handlers';
export type { ProxyServerOptions, ProxyTimeouts, ProxyTlsOptions } from './options';
export { DEFAULT_PROXY_SERVER_OPTIONS } from './options';
export type { ProxyServer } from './proxy-server';
export { createProxyServer } from './proxy-server';
export type { SseEvent } from './sse';
export { formatSseError, formatSseEvent, OPENAI_DONE_FRAME } from './sse';
