import type { Dispatcher } from 'undici';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from './chat-schemas';
import type { ProviderError } from './errors';

/** Which wire format an adapter speaks. */
export type ProviderKind = 'openai' | 'openai-compatible' | 'azure-openai' | 'anthropic' | 'gemini';

/** What a provider can do with a given model. */
export interface ProviderCapabilities {
  streaming: boolean;
  tools: boolean;
  vision: boolean;
  /** `response_format: { type: 'json_schema' }` is honoured. */
  jsonSchema: boolean;
  embeddings: boolean;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborting cancels the upstream request and any stream in progress (ProviderError kind 'aborted'). */
  signal?: AbortSignal;
  /** Extra upstream headers for this call, e.g. `traceparent`. */
  headers?: Record<string, string>;
}

/** A model as a provider lists it. */
export interface ModelInfo {
  id: string;
  ownedBy: string;
  /** Unix seconds, when the provider says. */
  created?: number;
  displayName?: string;
  contextWindow?: number;
  maxOutputTokens?: number;
}

/**
 * A provider adapter: one upstream API spoken in the unified OpenAI Chat Completions language.
 * Small enough to implement in one file.
 */
export interface Provider {
  readonly specificationVersion: 'v1';
  /** Instance name, e.g. 'openai', 'anthropic', 'local-vllm'. */
  readonly name: string;
  readonly kind: ProviderKind;
  capabilities(model: string): ProviderCapabilities;
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse>;
  /**
   * Resolves once the upstream answered 2xx (errors before that reject, so a router can fail over).
   * The iterable yields unified chunks and always ends with a usage chunk (`choices: []`) when the
   * upstream reports usage, whether or not the caller asked for `stream_options.include_usage`.
   * Mid-stream failures throw ProviderError from the iterator; breaking out of the loop closes the
   * upstream connection.
   */
  chatStream(request: ChatRequest, options?: CallOptions): Promise<AsyncIterable<ChatChunk>>;
  embeddings(request: EmbeddingsRequest, options?: CallOptions): Promise<EmbeddingsResponse>;
  listModels(options?: CallOptions): Promise<ModelInfo[]>;
  /**
   * The error `chat` and `chatStream` would raise for this request before any upstream call (kind
   * 'unsupported' or 'bad_request'), or undefined when the request would be sent; no I/O. Optional:
   * a router asks before spending a circuit breaker's recovery probe on a request the target
   * could not take anyway.
   */
  checkChatRequest?(request: ChatRequest): ProviderError | undefined;
  /** Like {@link Provider.checkChatRequest}, for `embeddings`. */
  checkEmbeddingsRequest?(request: EmbeddingsRequest): ProviderError | undefined;
}

/** Upstream timeouts, each turning into a ProviderError of kind 'timeout'. */
export interface ProviderTimeouts {
  /**
   * TCP (and TLS) connect.
   * @default 10000
   */
  connectMs: number;
  /**
   * From sending the request to the response headers, and for streams to the first body bytes.
   * @default 60000
   */
  firstByteMs: number;
  /**
   * Longest silence between two body chunks once the body has started.
   * @default 30000
   */
  idleMs: number;
}

/** Options shared by every adapter factory. */
export interface BaseProviderOptions {
  /**
   * Instance name reported in errors and used by routing.
   * @default the adapter kind, e.g. 'openai'
   */
  name?: string;
  /** The API key sent upstream. */
  apiKey: string;
  /**
   * Base URL of the API, without the version path segment where the adapter adds one
   * (see each adapter's docs).
   * @default the provider's public endpoint
   */
  baseURL?: string;
  /**
   * Headers added to every upstream request.
   * @default {}
   */
  headers?: Record<string, string>;
  /**
   * Upstream timeouts; each field defaults separately.
   * @default DEFAULT_PROVIDER_TIMEOUTS
   */
  timeouts?: Partial<ProviderTimeouts>;
  /**
   * undici dispatcher to send requests through.
   * @default a keep-alive undici Agent owned by this provider (one connection pool per origin)
   */
  dispatcher?: Dispatcher;
  /**
   * Clock in epoch milliseconds, used for `created` fields and HTTP-date Retry-After headers.
   * @default Date.now
   */
  now?: () => number;
}

/** Default upstream timeouts. */
export const DEFAULT_PROVIDER_TIMEOUTS: Readonly<ProviderTimeouts> = Object.freeze({
  connectMs: 10_000,
  firstByteMs: 60_000,
  idleMs: 30_000,
});
