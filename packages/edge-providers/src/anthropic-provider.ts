import { mapAnthropicErrorResponse } from './anthropic-errors';
import { translateAnthropicStream } from './anthropic-stream-translator';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsResponse } from './chat-schemas';
import { type ProviderError, ProviderOptionsError, unsupportedField } from './errors';
import { fromAnthropicResponse } from './from-anthropic-response';
import { isRecord } from './http-transport';
import { findModel } from './model-catalogue';
import type { ClosableProvider } from './openai-provider';
import type { BaseProviderOptions, CallOptions, ModelInfo, ProviderCapabilities } from './provider';
import { ProviderRuntime, resolveBaseOptions } from './provider-runtime';
import { toAnthropicRequest } from './to-anthropic-request';
import { localRejection } from './translation-helpers';

/** Options of {@link createAnthropicProvider}. */
export interface AnthropicProviderOptions extends BaseProviderOptions {
  /**
   * Base URL without the `/v1` segment, as in the Anthropic SDK.
   * @default 'https://api.anthropic.com'
   */
  baseURL?: string;
  /**
   * The `anthropic-version` header.
   * @default '2023-06-01'
   */
  anthropicVersion?: string;
  /**
   * `anthropic-beta` flags to send, joined with commas.
   * @default []
   */
  betas?: string[];
  /**
   * `max_tokens` when a request gives neither `max_tokens` nor `max_completion_tokens`
   * (Anthropic requires one); capped at the catalogue's output limit for the model.
   * @default 4096
   */
  defaultMaxTokens?: number;
}

const CAPABILITIES: ProviderCapabilities = {
  streaming: true,
  tools: true,
  vision: true,
  jsonSchema: true,
  embeddings: false,
};

/**
 * An adapter for the Anthropic Messages API.
 *
 * @example
 * ```ts
 * const anthropic = createAnthropicProvider({ apiKey: process.env.ANTHROPIC_API_KEY! });
 * const res = await anthropic.chat({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Hi' }] });
 * ```
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): ClosableProvider {
  const resolved = resolveBaseOptions(options, { name: 'anthropic', baseURL: 'https://api.anthropic.com' });
  const defaultMaxTokens = options.defaultMaxTokens ?? 4096;
  if (!Number.isInteger(defaultMaxTokens) || defaultMaxTokens < 1) {
    throw new ProviderOptionsError('defaultMaxTokens', 'must be a positive integer');
  }
  const version = options.anthropicVersion ?? '2023-06-01';
  if (typeof version !== 'string' || version === '') {
    throw new ProviderOptionsError('anthropicVersion', 'must be a non-empty string');
  }
  const authHeaders: Record<string, string> = {
    'x-api-key': resolved.apiKey,
    'anthropic-version': version,
  };
  if (options.betas && options.betas.length > 0) authHeaders['anthropic-beta'] = options.betas.join(',');
  const { name, now, baseURL } = resolved;
  const runtime = new ProviderRuntime(resolved, (response) => mapAnthropicErrorResponse(name, now, response));
  const settingsFor = (model: string) => {
    const limit = findModel(model)?.maxOutputTokens;
    return { provider: name, defaultMaxTokens: limit ? Math.min(limit, defaultMaxTokens) : defaultMaxTokens };
  };

  const noEmbeddings = () => unsupportedField(name, 'model', 'the Anthropic API has no embeddings endpoint');

  return {
    specificationVersion: 'v1',
    name,
    kind: 'anthropic',
    capabilities(model: string): ProviderCapabilities {
      return findModel(model)?.capabilities ?? CAPABILITIES;
    },
    checkChatRequest(request: ChatRequest): ProviderError | undefined {
      return localRejection(() => toAnthropicRequest(request, false, settingsFor(request.model)));
    },
    checkEmbeddingsRequest(): ProviderError | undefined {
      return noEmbeddings();
    },
    async chat(request: ChatRequest, callOptions?: CallOptions): Promise<ChatResponse> {
      const body = toAnthropicRequest(request, false, settingsFor(request.model));
      const { body: answer } = await runtime.json({
        method: 'POST',
        url: `${baseURL}/v1/messages`,
        headers: runtime.headers(authHeaders, callOptions),
        body,
        signal: callOptions?.signal,
      });
      return fromAnthropicResponse(name, answer, now);
    },
    async chatStream(request: ChatRequest, callOptions?: CallOptions): Promise<AsyncIterable<ChatChunk>> {
      const body = toAnthropicRequest(request, true, settingsFor(request.model));
      return runtime.stream(
        {
          method: 'POST',
          url: `${baseURL}/v1/messages`,
          headers: runtime.headers({ ...authHeaders, accept: 'text/event-stream' }, callOptions),
          body,
          signal: callOptions?.signal,
        },
        (events) => translateAnthropicStream(name, events, now),
      );
    },
    async embeddings(): Promise<EmbeddingsResponse> {
      throw noEmbeddings();
    },
    async listModels(callOptions?: CallOptions): Promise<ModelInfo[]> {
      const out: ModelInfo[] = [];
      let afterId: string | undefined;
      // The list is paginated; follow it to the end (bounded, in case a server never says has_more: false).
      for (let page = 0; page < 50; page++) {
        const query = `?limit=1000${afterId ? `&after_id=${encodeURIComponent(afterId)}` : ''}`;
        const { body } = await runtime.json({
          method: 'GET',
          url: `${baseURL}/v1/models${query}`,
          headers: runtime.headers(authHeaders, callOptions),
          signal: callOptions?.signal,
        });
        const data = isRecord(body) && Array.isArray(body['data']) ? body['data'] : [];
        for (const item of data) {
          if (!isRecord(item) || typeof item['id'] !== 'string') continue;
          const entry = findModel(item['id']);
          const created =
            typeof item['created_at'] === 'string' ? Date.parse(item['created_at']) : Number.NaN;
          out.push({
            id: item['id'],
            ownedBy: 'anthropic',
            ...(typeof item['display_name'] === 'string' ? { displayName: item['display_name'] } : {}),
            ...(Number.isNaN(created) ? {} : { created: Math.floor(created / 1000) }),
            ...(entry ? { contextWindow: entry.contextWindow, maxOutputTokens: entry.maxOutputTokens } : {}),
          });
        }
        if (!isRecord(body) || body['has_more'] !== true || typeof body['last_id'] !== 'string') break;
        afterId = body['last_id'];
      }
      return out;
    },
    close: () => runtime.close(),
  };
}
