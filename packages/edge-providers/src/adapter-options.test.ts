import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createAnthropicProvider } from './anthropic-provider';
import { ProviderOptionsError } from './errors';
import { createGeminiProvider } from './gemini-provider';
import {
  createAzureOpenAIProvider,
  createOpenAICompatibleProvider,
  createOpenAIProvider,
  OPENAI_COMPATIBLE_PRESETS,
} from './openai-provider';
import { parseChatRequest } from './parse-request';

function optionsField(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (ProviderOptionsError.isInstance(e)) return e.field;
    throw e;
  }
  throw new Error('expected a ProviderOptionsError');
}

describe('adapter options are validated at construction, naming the bad field', () => {
  it.each([
    ['apiKey', () => createOpenAIProvider({ apiKey: '' })],
    ['baseURL', () => createOpenAIProvider({ apiKey: 'k', baseURL: 'ftp://x' })],
    ['timeouts.idleMs', () => createOpenAIProvider({ apiKey: 'k', timeouts: { idleMs: -1 } })],
    [
      'timeouts.connectMs',
      () => createAnthropicProvider({ apiKey: 'k', timeouts: { connectMs: Number.NaN } }),
    ],
    ['defaultMaxTokens', () => createAnthropicProvider({ apiKey: 'k', defaultMaxTokens: 0 })],
    ['apiVersion', () => createGeminiProvider({ apiKey: 'k', apiVersion: 'v1/../x' })],
    ['baseURL', () => createOpenAICompatibleProvider({})],
    ['apiKey', () => createOpenAICompatibleProvider({ preset: 'groq' })],
    ['preset', () => createOpenAICompatibleProvider({ preset: 'nope' as 'groq' })],
    ['baseURL', () => createAzureOpenAIProvider({ apiKey: 'k', baseURL: '' })],
  ])('%s', (field, create) => {
    expect(optionsField(create)).toBe(field);
  });

  it('presets set name, base URL and capabilities; local presets need no key', () => {
    const ollama = createOpenAICompatibleProvider({ preset: 'ollama' });
    expect(ollama.name).toBe('ollama');
    expect(ollama.kind).toBe('openai-compatible');
    const deepseek = createOpenAICompatibleProvider({ preset: 'deepseek', apiKey: 'k' });
    expect(deepseek.capabilities('deepseek-chat').vision).toBe(false);
    expect(OPENAI_COMPATIBLE_PRESETS.groq.baseURL).toBe('https://api.groq.com/openai/v1');
  });
});

describe('Azure OpenAI', () => {
  it('calls the deployment URL with api-version and the api-key header', async () => {
    const seen: Array<{ url: string | undefined; headers: IncomingMessage['headers']; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        seen.push({ url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'c',
            object: 'chat.completion',
            created: 1,
            model: 'gpt-4o-mini',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: 'hi' },
                finish_reason: 'stop',
                logprobs: null,
              },
            ],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const azure = createAzureOpenAIProvider({
      apiKey: 'azure-key',
      baseURL: `http://127.0.0.1:${port}`,
      apiVersion: '2024-10-21',
      deployments: { 'gpt-4o-mini': 'mini-prod' },
    });
    const response = await azure.chat(
      parseChatRequest({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(response.choices[0]?.message.content).toBe('hi');
    expect(seen[0]?.url).toBe('/openai/deployments/mini-prod/chat/completions?api-version=2024-10-21');
    expect(seen[0]?.headers['api-key']).toBe('azure-key');
    expect(seen[0]?.headers['authorization']).toBeUndefined();
    expect(JSON.parse(seen[0]?.body ?? '{}')['model']).toBe('gpt-4o-mini');
    await azure.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
