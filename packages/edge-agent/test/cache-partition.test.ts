import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../src/config-schema';
import { stackConfig, startStack, type TestStack } from './stack';

const KEY_A = 'sk-edge-tenant-a-0123456789abcdef0123';
const KEY_B = 'sk-edge-tenant-b-0123456789abcdef0123';

async function twoTenants(
  partition: 'key' | 'shared' | undefined,
): Promise<{ stack: TestStack; a: OpenAI; b: OpenAI }> {
  const stack = await startStack({
    config: (simUrl) =>
      stackConfig(simUrl, {
        security: {
          keys: [
            // A name the cache namespace cannot hold as is.
            { name: 'tenant a (eu)', key: KEY_A },
            { name: 'tenant-b', key: KEY_B },
          ],
        },
        ...(partition ? { cache: { partition } } : {}),
        telemetry: { logLevel: 'silent' },
      } satisfies Partial<GatewayConfigInput>),
  });
  const client = (apiKey: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  return { stack, a: client(KEY_A), b: client(KEY_B) };
}

async function cacheStatus(client: OpenAI, content: string, stream = false): Promise<string | null> {
  if (stream) {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], stream: true })
      .withResponse();
    for await (const _ of data) {
      // drain
    }
    return response.headers.get('x-llm-edge-cache');
  }
  const { response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] })
    .withResponse();
  return response.headers.get('x-llm-edge-cache');
}

describe('cache partition', () => {
  let stack: TestStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('key (the default): a prompt one key sent is never a HIT for another key', async () => {
    const tenants = await twoTenants(undefined);
    stack = tenants.stack;
    const { a, b } = tenants;
    expect(await cacheStatus(a, 'a private prompt')).toBe('MISS');
    expect(await cacheStatus(b, 'a private prompt')).toBe('MISS');
    expect(await cacheStatus(b, 'a private prompt', true)).toBe('HIT');
    expect(await cacheStatus(a, 'a private prompt')).toBe('HIT');

    const embed = async (client: OpenAI) =>
      (
        await client.embeddings
          .create({ model: 'text-embedding-3-small', input: 'a private sentence' })
          .withResponse()
      ).response.headers.get('x-llm-edge-cache');
    expect(await embed(a)).toBe('MISS');
    expect(await embed(b)).toBe('MISS');
    expect(await embed(a)).toBe('HIT');
    expect(stack.sim.requestLog()).toHaveLength(4);
  });

  it('shared: every key answers from one cache', async () => {
    const tenants = await twoTenants('shared');
    stack = tenants.stack;
    const { a, b } = tenants;
    expect(await cacheStatus(a, 'a common prompt')).toBe('MISS');
    expect(await cacheStatus(b, 'a common prompt')).toBe('HIT');
    expect(await cacheStatus(b, 'a common prompt', true)).toBe('HIT');
    expect(stack.sim.requestLog()).toHaveLength(1);
  });
});
