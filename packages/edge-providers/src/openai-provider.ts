import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from './chat-schemas';
import { type ProviderError, ProviderOptionsError } from './errors';
import { fromOpenAIEmbeddings } from './from-openai-embeddings';
import { fromOpenAIResponse } from './from-openai-response';
import { isRecord } from './http-transport';
import { findModel } from './model-catalogue';
import { mapOpenAIErrorResponse } from './openai-errors';
import { translateOpenAIStream } from './openai-stream-translator';
import type {
  BaseProviderOptions,
  CallOptions,
  ModelInfo,
  Provider,
  ProviderCapabilities,
  ProviderKind,
} from './provider';
import { ProviderRuntime, resolveBaseOptions } from './provider-runtime';
import { type OpenAICompatibleQuirks, toOpenAIRequest } from './to-openai-request';

/** A provider that owns connection pools it can close. */
export interface ClosableProvider extends Provider {
  checkChatRequest(request: ChatRequest): ProviderError | undefined;
  checkEmbeddingsRequest(request: EmbeddingsRequest): ProviderError | undefined;
  /** Closes the keep-alive connection pools this provider created (not a dispatcher passed in). */
  close(): Promise<void>;
}

interface OpenAIFamilySpec {
  kind: ProviderKind;
  runtime: ProviderRuntime;
  quirks: OpenAICompatibleQuirks;
  authHeaders: Record<string, string>;
  /** URL of an operation for a model (`chat/completions`, `embeddings`, `models`). */
  url: (operation: 'chat/completions' | 'embeddings' | 'models', model?: string) => string;
  defaultCapabilities: ProviderCapabilities;
}

function openAIFamilyProvider(spec: OpenAIFamilySpec): ClosableProvider {
  const { runtime, quirks } = spec;
  const { name, now } = runtime.options;
  // Built once: the transport would otherwise add the content type to a copy on every call.
  const jsonHeaders: Record<string, string> = { ...spec.authHeaders, 'content-type': 'application/json' };
  const streamHeaders: Record<string, string> = { ...jsonHeaders, accept: 'text/event-stream' };
  return {
    specificationVersion: 'v1',
    name,
    kind: spec.kind,
    capabilities(model: string): ProviderCapabilities {
      return findModel(model)?.capabilities ?? spec.defaultCapabilities;
    },
    // OpenAI-family requests go upstream as they are; the upstream is the judge.
    checkChatRequest: () => undefined,
    checkEmbeddingsRequest: () => undefined,
    async chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
      const { body, text } = await runtime.json({
        method: 'POST',
        url: spec.url('chat/completions', request.model),
        headers: runtime.headers(jsonHeaders, options),
        body: toOpenAIRequest(request, false, quirks),
        signal: options?.signal,
      });
      return fromOpenAIResponse(name, body, now, text);
    },
    async chatStream(request: ChatRequest, options?: CallOptions): Promise<AsyncIterable<ChatChunk>> {
      return runtime.stream(
        {
          method: 'POST',
          url: spec.url('chat/completions', request.model),
          headers: runtime.headers(streamHeaders, options),
          body: toOpenAIRequest(request, true, quirks),
          signal: options?.signal,
        },
        (events) => translateOpenAIStream(name, events),
      );
    },
    async embeddings(request: EmbeddingsRequest, options?: CallOptions): Promise<EmbeddingsResponse> {
      const { body, text } = await runtime.json({
        method: 'POST',
        url: spec.url('embeddings', request.model),
        headers: runtime.headers(jsonHeaders, options),
        body: request,
        signal: options?.signal,
      });
      return fromOpenAIEmbeddings(name, body, text);
    },
    async listModels(options?: CallOptions): Promise<ModelInfo[]> {
      const { body } = await runtime.json({
        method: 'GET',
        url: spec.url('models'),
        headers: runtime.headers(spec.authHeaders, options),
        signal: options?.signal,
      });
      const data = isRecord(body) && Array.isArray(body['data']) ? body['data'] : [];
      const out: ModelInfo[] = [];
      for (const item of data) {
        if (!isRecord(item) || typeof item['id'] !== 'string') continue;
        const entry = findModel(item['id']);
        out.push({
          id: item['id'],
          ownedBy: typeof item['owned_by'] === 'string' ? item['owned_by'] : name,
          ...(typeof item['created'] === 'number' ? { created: item['created'] } : {}),
          ...(entry ? { contextWindow: entry.contextWindow, maxOutputTokens: entry.maxOutputTokens } : {}),
        });
      }
      return out;
    },
    close: () => runtime.close(),
  };
}

/** Options of {@link createOpenAIProvider}. */
export interface OpenAIProviderOptions extends BaseProviderOptions {
  /**
   * Base URL including the version segment, as in the OpenAI SDK.
   * @default 'https://api.openai.com/v1'
   */
  baseURL?: string;
  /**
   * Sent as `OpenAI-Organization`.
   * @default undefined
   */
  organization?: string;
  /**
   * Sent as `OpenAI-Project`.
   * @default undefined
   */
  project?: string;
}

const FULL_CAPABILITIES: ProviderCapabilities = {
  streaming: true,
  tools: true,
  vision: true,
  jsonSchema: true,
  embeddings: true,
};

/**
 * An adapter for the OpenAI API. Requests are forwarded verbatim (unknown top-level fields too);
 * streams always ask for the usage chunk.
 *
 * @example
 * ```ts
 * const openai = createOpenAIProvider({ apiKey: process.env.OPENAI_API_KEY! });
 * const res = await openai.chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
 * ```
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): ClosableProvider {
  const resolved = resolveBaseOptions(options, { name: 'openai', baseURL: 'https://api.openai.com/v1' });
  const authHeaders: Record<string, string> = { authorization: `Bearer ${resolved.apiKey}` };
  if (options.organization) authHeaders['openai-organization'] = options.organization;
  if (options.project) authHeaders['openai-project'] = options.project;
  const runtime = new ProviderRuntime(resolved, (response) =>
    mapOpenAIErrorResponse(resolved.name, resolved.now, response),
  );
  return openAIFamilyProvider({
    kind: 'openai',
    runtime,
    quirks: {},
    authHeaders,
    url: (operation) => `${resolved.baseURL}/${operation}`,
    defaultCapabilities: FULL_CAPABILITIES,
  });
}

/** A known OpenAI-compatible service: its base URL and wire quirks. */
export interface OpenAICompatiblePreset {
  baseURL: string;
  quirks: OpenAICompatibleQuirks;
  capabilities: ProviderCapabilities;
  /** Whether the service needs an API key. */
  apiKeyRequired: boolean;
}

/**
 * Base URLs and quirks of well-known OpenAI-compatible servers. Local servers (vLLM, Ollama) use
 * their default ports; pass `baseURL` to point elsewhere.
 */
export const OPENAI_COMPATIBLE_PRESETS = Object.freeze({
  vllm: {
    baseURL: 'http://127.0.0.1:8000/v1',
    quirks: { maxTokensField: 'as-is', streamOptions: true },
    capabilities: FULL_CAPABILITIES,
    apiKeyRequired: false,
  },
  ollama: {
    baseURL: 'http://127.0.0.1:11434/v1',
    quirks: { maxTokensField: 'max_tokens', streamOptions: true },
    capabilities: FULL_CAPABILITIES,
    apiKeyRequired: false,
  },
  groq: {
    baseURL: 'https://api.groq.com/openai/v1',
    quirks: { maxTokensField: 'as-is', streamOptions: true },
    capabilities: { ...FULL_CAPABILITIES, embeddings: false },
    apiKeyRequired: true,
  },
  together: {
    baseURL: 'https://api.together.xyz/v1',
    quirks: { maxTokensField: 'max_tokens', streamOptions: true },
    capabilities: FULL_CAPABILITIES,
    apiKeyRequired: true,
  },
  mistral: {
    baseURL: 'https://api.mistral.ai/v1',
    // Mistral reports usage on the last stream chunk unasked and does not take stream_options.
    quirks: { maxTokensField: 'max_tokens', streamOptions: false },
    capabilities: FULL_CAPABILITIES,
    apiKeyRequired: true,
  },
  deepseek: {
    baseURL: 'https://api.deepseek.com/v1',
    quirks: { maxTokensField: 'max_tokens', streamOptions: true },
    capabilities: { ...FULL_CAPABILITIES, vision: false, jsonSchema: false, embeddings: false },
    apiKeyRequired: true,
  },
  openrouter: {
    baseURL: 'https://openrouter.ai/api/v1',
    quirks: { maxTokensField: 'as-is', streamOptions: true },
    capabilities: { ...FULL_CAPABILITIES, embeddings: false },
    apiKeyRequired: true,
  },
} satisfies Record<string, OpenAICompatiblePreset>);

/** Name of a preset in {@link OPENAI_COMPATIBLE_PRESETS}. */
export type OpenAICompatiblePresetName = keyof typeof OPENAI_COMPATIBLE_PRESETS;

/** Options of {@link createOpenAICompatibleProvider}. */
export interface OpenAICompatibleProviderOptions extends Omit<BaseProviderOptions, 'apiKey'> {
  /**
   * Sent as a Bearer token; optional for servers that need none (vLLM, Ollama).
   * @default undefined (no Authorization header)
   */
  apiKey?: string;
  /**
   * A known service whose base URL, quirks and capabilities to start from.
   * @default undefined (then `baseURL` is required)
   */
  preset?: OpenAICompatiblePresetName;
  /**
   * Base URL including the version segment, e.g. `http://127.0.0.1:8000/v1`.
   * @default the preset's base URL
   */
  baseURL?: string;
  /**
   * Wire quirks, over the preset's.
   * @default the preset's quirks, else `{ maxTokensField: 'as-is', streamOptions: true }`
   */
  quirks?: OpenAICompatibleQuirks;
  /**
   * What the server's models can do, when the catalogue does not know the model.
   * @default the preset's capabilities, else all true
   */
  capabilities?: Partial<ProviderCapabilities>;
}

/**
 * An adapter for any OpenAI-compatible server by base URL (vLLM, Ollama, Groq, Together, Mistral,
 * DeepSeek, OpenRouter, …), with presets for the known ones.
 *
 * @example
 * ```ts
 * const groq = createOpenAICompatibleProvider({ preset: 'groq', apiKey: process.env.GROQ_API_KEY });
 * const local = createOpenAICompatibleProvider({ name: 'local-vllm', baseURL: 'http://10.0.0.5:8000/v1' });
 * ```
 */
export function createOpenAICompatibleProvider(options: OpenAICompatibleProviderOptions): ClosableProvider {
  const preset: OpenAICompatiblePreset | undefined =
    options.preset === undefined ? undefined : OPENAI_COMPATIBLE_PRESETS[options.preset];
  if (options.preset !== undefined && preset === undefined) {
    throw new ProviderOptionsError(
      'preset',
      `unknown preset "${String(options.preset)}"; known: ${Object.keys(OPENAI_COMPATIBLE_PRESETS).join(', ')}`,
    );
  }
  if (options.baseURL === undefined && preset === undefined) {
    throw new ProviderOptionsError('baseURL', 'is required when no preset is given');
  }
  const resolved = resolveBaseOptions(options, {
    name: options.preset ?? 'openai-compatible',
    baseURL: preset?.baseURL ?? '',
    apiKeyRequired: preset?.apiKeyRequired ?? false,
  });
  const quirks = { ...preset?.quirks, ...options.quirks };
  if (
    quirks.maxTokensField !== undefined &&
    !['as-is', 'max_tokens', 'max_completion_tokens'].includes(quirks.maxTokensField)
  ) {
    throw new ProviderOptionsError(
      'quirks.maxTokensField',
      "must be 'as-is', 'max_tokens' or 'max_completion_tokens'",
    );
  }
  const authHeaders: Record<string, string> =
    resolved.apiKey === '' ? {} : { authorization: `Bearer ${resolved.apiKey}` };
  const runtime = new ProviderRuntime(resolved, (response) =>
    mapOpenAIErrorResponse(resolved.name, resolved.now, response),
  );
  return openAIFamilyProvider({
    kind: 'openai-compatible',
    runtime,
    quirks,
    authHeaders,
    url: (operation) => `${resolved.baseURL}/${operation}`,
    defaultCapabilities: { ...(preset?.capabilities ?? FULL_CAPABILITIES), ...options.capabilities },
  });
}

/** Options of {@link createAzureOpenAIProvider}. */
export interface AzureOpenAIProviderOptions extends BaseProviderOptions {
  /**
   * The resource endpoint, e.g. `https://my-resource.openai.azure.com`.
   * Required (no public default).
   */
  baseURL: string;
  /**
   * The `api-version` query parameter.
   * @default '2024-10-21'
   */
  apiVersion?: string;
  /**
   * Deployment name per model id; a model not listed is used as the deployment name itself.
   * @default {}
   */
  deployments?: Record<string, string>;
}

/**
 * An adapter for Azure OpenAI: `/openai/deployments/{deployment}/…?api-version=…` with the
 * `api-key` header.
 *
 * @example
 * ```ts
 * const azure = createAzureOpenAIProvider({
 *   baseURL: 'https://my-resource.openai.azure.com', apiKey: process.env.AZURE_OPENAI_API_KEY!,
 *   deployments: { 'gpt-4o-mini': 'mini-prod' },
 * });
 * ```
 */
export function createAzureOpenAIProvider(options: AzureOpenAIProviderOptions): ClosableProvider {
  if (typeof options?.baseURL !== 'string' || options.baseURL === '') {
    throw new ProviderOptionsError(
      'baseURL',
      'is required: the resource endpoint, e.g. https://x.openai.azure.com',
    );
  }
  const resolved = resolveBaseOptions(options, { name: 'azure-openai', baseURL: options.baseURL });
  const apiVersion = options.apiVersion ?? '2024-10-21';
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    throw new ProviderOptionsError('apiVersion', 'must be a non-empty string');
  }
  const deployments = { ...options.deployments };
  const query = `api-version=${encodeURIComponent(apiVersion)}`;
  const runtime = new ProviderRuntime(resolved, (response) =>
    mapOpenAIErrorResponse(resolved.name, resolved.now, response),
  );
  return openAIFamilyProvider({
    kind: 'azure-openai',
    runtime,
    quirks: {},
    authHeaders: { 'api-key': resolved.apiKey },
    url: (operation, model) => {
      if (operation === 'models') return `${resolved.baseURL}/openai/models?${query}`;
      const deployment = encodeURIComponent(deployments[model ?? ''] ?? model ?? '');
      return `${resolved.baseURL}/openai/deployments/${deployment}/${operation}?${query}`;
    },
    defaultCapabilities: FULL_CAPABILITIES,
  });
}
