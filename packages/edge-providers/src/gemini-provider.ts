import { randomUUID } from 'node:crypto';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from './chat-schemas';
import { ProviderError, ProviderOptionsError, unsupportedField } from './errors';
import { fromGeminiResponse } from './from-gemini-response';
import { mapGeminiErrorResponse } from './gemini-errors';
import { translateGeminiStream } from './gemini-stream-translator';
import { isRecord } from './http-transport';
import { findModel } from './model-catalogue';
import type { ClosableProvider } from './openai-provider';
import type { BaseProviderOptions, CallOptions, ModelInfo, ProviderCapabilities } from './provider';
import { ProviderRuntime, resolveBaseOptions } from './provider-runtime';
import { toGeminiRequest } from './to-gemini-request';
import { localRejection } from './translation-helpers';

/** Options of {@link createGeminiProvider}. */
export interface GeminiProviderOptions extends BaseProviderOptions {
  /**
   * Base URL without the version segment, as `httpOptions.baseUrl` in @google/genai.
   * @default 'https://generativelanguage.googleapis.com'
   */
  baseURL?: string;
  /**
   * API version path segment.
   * @default 'v1beta'
   */
  apiVersion?: string;
  /**
   * Id source for responses that carry no `responseId`.
   * @default crypto.randomUUID
   */
  newId?: () => string;
}

const CAPABILITIES: ProviderCapabilities = {
  streaming: true,
  tools: true,
  vision: true,
  jsonSchema: true,
  embeddings: true,
};

/** Encodes floats as base64 of little-endian float32, as OpenAI's `encoding_format: 'base64'`. */
export function encodeFloat32Base64(values: readonly number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => {
    buffer.writeFloatLE(value, i * 4);
  });
  return buffer.toString('base64');
}

/**
 * An adapter for the Google Gemini API (Generative Language API): `:generateContent`,
 * `:streamGenerateContent?alt=sse`, `:batchEmbedContents` and the model list, with the
 * `x-goog-api-key` header.
 *
 * @example
 * ```ts
 * const gemini = createGeminiProvider({ apiKey: process.env.GEMINI_API_KEY! });
 * const res = await gemini.chat({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi' }] });
 * ```
 */
export function createGeminiProvider(options: GeminiProviderOptions): ClosableProvider {
  const resolved = resolveBaseOptions(options, {
    name: 'gemini',
    baseURL: 'https://generativelanguage.googleapis.com',
  });
  const apiVersion = options.apiVersion ?? 'v1beta';
  if (typeof apiVersion !== 'string' || !/^[\w.-]+$/.test(apiVersion)) {
    throw new ProviderOptionsError('apiVersion', 'must be a path segment such as v1beta');
  }
  if (options.newId !== undefined && typeof options.newId !== 'function') {
    throw new ProviderOptionsError('newId', 'must be a function returning a string');
  }
  const newId = options.newId ?? randomUUID;
  const { name, now, baseURL } = resolved;
  const authHeaders = { 'x-goog-api-key': resolved.apiKey };
  const runtime = new ProviderRuntime(resolved, (response) => mapGeminiErrorResponse(name, now, response));
  const modelPath = (model: string) =>
    `${baseURL}/${apiVersion}/models/${encodeURIComponent(model.replace(/^models\//, ''))}`;

  return {
    specificationVersion: 'v1',
    name,
    kind: 'gemini',
    capabilities(model: string): ProviderCapabilities {
      return findModel(model)?.capabilities ?? CAPABILITIES;
    },
    checkChatRequest(request: ChatRequest): ProviderError | undefined {
      return localRejection(() => toGeminiRequest(request, name));
    },
    checkEmbeddingsRequest(request: EmbeddingsRequest): ProviderError | undefined {
      return localRejection(() => embeddingTexts(name, request));
    },
    async chat(request: ChatRequest, callOptions?: CallOptions): Promise<ChatResponse> {
      const body = toGeminiRequest(request, name);
      const { body: answer } = await runtime.json({
        method: 'POST',
        url: `${modelPath(request.model)}:generateContent`,
        headers: runtime.headers(authHeaders, callOptions),
        body,
        signal: callOptions?.signal,
      });
      return fromGeminiResponse(name, answer, request.model, now, newId);
    },
    async chatStream(request: ChatRequest, callOptions?: CallOptions): Promise<AsyncIterable<ChatChunk>> {
      const body = toGeminiRequest(request, name);
      return runtime.stream(
        {
          method: 'POST',
          url: `${modelPath(request.model)}:streamGenerateContent?alt=sse`,
          headers: runtime.headers({ ...authHeaders, accept: 'text/event-stream' }, callOptions),
          body,
          signal: callOptions?.signal,
        },
        (events) => translateGeminiStream(name, events, request.model, now, newId),
      );
    },
    async embeddings(request: EmbeddingsRequest, callOptions?: CallOptions): Promise<EmbeddingsResponse> {
      const texts = embeddingTexts(name, request);
      const model = `models/${request.model.replace(/^models\//, '')}`;
      const { body } = await runtime.json({
        method: 'POST',
        url: `${modelPath(request.model)}:batchEmbedContents`,
        headers: runtime.headers(authHeaders, callOptions),
        body: {
          requests: texts.map((text) => ({
            model,
            content: { parts: [{ text }] },
            ...(request.dimensions !== undefined ? { outputDimensionality: request.dimensions } : {}),
          })),
        },
        signal: callOptions?.signal,
      });
      const embeddings = isRecord(body) && Array.isArray(body['embeddings']) ? body['embeddings'] : undefined;
      if (!embeddings || embeddings.length !== texts.length) {
        throw new ProviderError({
          provider: name,
          kind: 'server',
          message: `${name} sent a malformed embeddings response`,
        });
      }
      const data = embeddings.map((item, index) => {
        const values = isRecord(item) && Array.isArray(item['values']) ? (item['values'] as number[]) : [];
        return {
          object: 'embedding' as const,
          index,
          embedding: request.encoding_format === 'base64' ? encodeFloat32Base64(values) : values,
        };
      });
      // batchEmbedContents reports no token counts; usage is zero rather than invented.
      return { object: 'list', model: request.model, data, usage: { prompt_tokens: 0, total_tokens: 0 } };
    },
    async listModels(callOptions?: CallOptions): Promise<ModelInfo[]> {
      const out: ModelInfo[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < 50; page++) {
        const query = `?pageSize=1000${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
        const { body } = await runtime.json({
          method: 'GET',
          url: `${baseURL}/${apiVersion}/models${query}`,
          headers: runtime.headers(authHeaders, callOptions),
          signal: callOptions?.signal,
        });
        const models = isRecord(body) && Array.isArray(body['models']) ? body['models'] : [];
        for (const item of models) {
          if (!isRecord(item) || typeof item['name'] !== 'string') continue;
          const id = item['name'].replace(/^models\//, '');
          out.push({
            id,
            ownedBy: 'google',
            ...(typeof item['displayName'] === 'string' ? { displayName: item['displayName'] } : {}),
            ...(typeof item['inputTokenLimit'] === 'number'
              ? { contextWindow: item['inputTokenLimit'] }
              : {}),
            ...(typeof item['outputTokenLimit'] === 'number'
              ? { maxOutputTokens: item['outputTokenLimit'] }
              : {}),
          });
        }
        if (!isRecord(body) || typeof body['nextPageToken'] !== 'string' || body['nextPageToken'] === '')
          break;
        pageToken = body['nextPageToken'];
      }
      return out;
    },
    close: () => runtime.close(),
  };
}

/** The texts of an embeddings request, or the 'unsupported' error for what Gemini cannot embed. */
function embeddingTexts(provider: string, request: EmbeddingsRequest): string[] {
  const inputs = typeof request.input === 'string' ? [request.input] : request.input;
  const texts = inputs.map((input, i) => {
    if (typeof input !== 'string') {
      throw unsupportedField(provider, `input[${i}]`, 'Gemini embeds text, not token arrays');
    }
    return input;
  });
  if (request.user !== undefined) throw unsupportedField(provider, 'user', 'has no Gemini equivalent');
  return texts;
}
