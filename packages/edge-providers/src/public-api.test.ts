import { describe, expect, it } from 'vitest';
import * as api from './index';

describe('public API', () => {
  it('exports the contract names', () => {
    for (const name of [
      'chatRequestSchema',
      'embeddingsRequestSchema',
      'parseChatRequest',
      'ProviderError',
      'createOpenAIProvider',
      'createOpenAICompatibleProvider',
      'createAzureOpenAIProvider',
      'createAnthropicProvider',
      'createGeminiProvider',
      'modelCatalogue',
      'findModel',
      'priceUsage',
      'upstreamJsonText',
    ]) {
      expect(api, name).toHaveProperty(name);
    }
  });

  it('every factory returns a v1 provider with its kind', () => {
    const providers = [
      api.createOpenAIProvider({ apiKey: 'k' }),
      api.createOpenAICompatibleProvider({ preset: 'vllm' }),
      api.createAzureOpenAIProvider({ apiKey: 'k', baseURL: 'https://x.openai.azure.com' }),
      api.createAnthropicProvider({ apiKey: 'k' }),
      api.createGeminiProvider({ apiKey: 'k' }),
    ];
    expect(providers.map((p) => [p.specificationVersion, p.kind, p.name])).toEqual([
      ['v1', 'openai', 'openai'],
      ['v1', 'openai-compatible', 'vllm'],
      ['v1', 'azure-openai', 'azure-openai'],
      ['v1', 'anthropic', 'anthropic'],
      ['v1', 'gemini', 'gemini'],
    ]);
    expect(api.createAnthropicProvider({ apiKey: 'k' }).capabilities('claude-haiku-4-5').embeddings).toBe(
      false,
    );
  });
});
