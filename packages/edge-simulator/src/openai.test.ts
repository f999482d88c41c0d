import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './index';

let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ seed: 7 });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

async function rawPost(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('OpenAI chat completions', () => {
  it('answers a non-stream request with usage from the tokenizer', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.id).toMatch(/^chatcmpl-/);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('stop');
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content?.length).toBeGreaterThan(0);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
  });

  it('is deterministic: the same request gives the same body, byte for byte', async () => {
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'determinism' }],
    });
    const clock = () => 1_700_000_000_000;
    const a = await startSimulator({ seed: 3, clock });
    const b = await startSimulator({ seed: 3, clock });
    const c = await startSimulator({ seed: 4, clock });
    try {
      const post = (url: string) =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
          body,
        }).then((r) => r.text());
      const [first, again, other, differentSeed] = await Promise.all([
        post(a.url),
        post(a.url),
        post(b.url),
        post(c.url),
      ]);
      expect(again).toBe(first);
      expect(other).toBe(first);
      expect(differentSeed).not.toBe(first);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('streams chat.completion.chunk events that the SDK reassembles, with include_usage and [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');

    const nonStream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream please' }],
    });
    expect(text).toBe(nonStream.choices[0]!.message.content);
  });

  it('writes the raw SSE wire format: data lines only, no usage key without include_usage, then [DONE]', async () => {
    const response = await rawPost(
      '/v1/chat/completions',
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'raw' }], stream: true }),
    );
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: ') && !e.includes('\nevent:'))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const payloads = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    expect(payloads.every((p) => !('usage' in p))).toBe(true);
  });

  it('returns n choices', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      n: 3,
      messages: [{ role: 'user', content: 'three' }],
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      n: 2,
      stream: true,
      messages: [{ role: 'user', content: 'three' }],
    });
    const texts = ['', ''];
    for await (const chunk of stream) for (const c of chunk.choices) texts[c.index] += c.delta.content ?? '';
    expect(texts[0]!.length).toBeGreaterThan(0);
    expect(texts[1]!.length).toBeGreaterThan(0);
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      max_completion_tokens: 3,
      messages: [{ role: 'user', content: 'long' }],
    });
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(3);
  });
});
