import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './index';

let sim: Simulator;
let client: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({ seed: 11 });
  client = new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});

beforeEach(() => {
  sim.setScenario({});
  sim.reset();
});

afterAll(async () => {
  await sim.close();
});

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city', 'unit'],
  },
};

function parseEvents(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))!.slice(7);
      const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6));
      return { event, data };
    });
}

describe('Anthropic messages', () => {
  it('answers messages.create with a text block and usage', async () => {
    const message = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.id).toMatch(/^msg_01/);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content[0]!.type).toBe('text');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it('streams with messages.stream and finalMessage() equal to the non-stream answer', async () => {
    const params = {
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      messages: [{ role: 'user' as const, content: 'Stream to me' }],
    };
    const stream = client.messages.stream(params);
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    const plain = await client.messages.create(params);
    expect(final.content).toEqual(plain.content);
    expect(text).toBe((plain.content[0] as { text: string }).text);
    expect(final.usage.output_tokens).toBe(plain.usage.output_tokens);
    expect(final.stop_reason).toBe('end_turn');
  });

  it('sends the full event sequence with event: lines, ping and cumulative usage', async () => {
    const response = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'events' }],
      }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    const events = parseEvents(await response.text());
    for (const e of events) expect(e.data['type']).toBe(e.event);
    const names = events.map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(names.filter((n) => n === 'content_block_delta').length).toBeGreaterThan(1);
    const start = events[0]!.data['message'] as { usage: { input_tokens: number } };
    expect(start.usage.input_tokens).toBeGreaterThan(0);
    const delta = events.at(-2)!.data as { usage: { output_tokens: number } };
    expect(delta.usage.output_tokens).toBeGreaterThan(1);
  });

  it('uses a tool when asked, streaming input_json_delta that the SDK assembles', async () => {
    const params = {
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      tools: [weatherTool],
      tool_choice: { type: 'tool' as const, name: 'get_weather' },
      messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
    };
    const message = await client.messages.create(params);
    expect(message.stop_reason).toBe('tool_use');
    const block = message.content[0]!;
    expect(block.type).toBe('tool_use');
    if (block.type !== 'tool_use') throw new Error('expected tool_use');
    expect(block.id).toMatch(/^toolu_01/);
    expect(block.name).toBe('get_weather');
    const input = block.input as { city: unknown; unit: unknown };
    expect(typeof input.city).toBe('string');
    expect(['c', 'f']).toContain(input.unit);

    const deltas: string[] = [];
    const stream = client.messages.stream(params);
    stream.on('inputJson', (partial) => {
      deltas.push(partial);
    });
    const final = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.content).toEqual(message.content);
  });

  it('answers with text after a tool result', async () => {
    const first = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    const call = first.content[0]!;
    if (call.type !== 'tool_use') throw new Error('expected tool_use');
    const second = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '21 C' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]!.type).toBe('text');
  });

  it('counts tokens with messages.countTokens, matching usage.input_tokens', async () => {
    const params = {
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user' as const, content: 'Count these tokens, please.' }],
    };
    const counted = await client.messages.countTokens(params);
    const message = await client.messages.create({ ...params, max_tokens: 10 });
    expect(counted.input_tokens).toBe(message.usage.input_tokens);
  });

  it('lists models in Anthropic shape', async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toContain('claude-sonnet-4-6');
    expect(page.data[0]!.type).toBe('model');
    const one = await client.models.retrieve('claude-haiku-4-5');
    expect(one.id).toBe('claude-haiku-4-5');
  });

  it('refuses a missing key with 401 authentication_error and a missing version with 400', async () => {
    const noKey = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const noVersion = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('reports bad requests as invalid_request_error naming the field, and unknown models as not_found_error', async () => {
    const missing = client.messages.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'x' }],
    } as unknown as Anthropic.MessageCreateParamsNonStreaming);
    await expect(missing).rejects.toMatchObject({
      status: 400,
      error: {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
      },
    });
    const unknown = client.messages.create({
      model: 'claude-nonexistent',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(unknown).rejects.toMatchObject({
      status: 404,
      error: { error: { type: 'not_found_error' } },
    });
  });

  it('answers an overloaded fault with 529 overloaded_error', async () => {
    sim.setScenario({ faults: [{ kind: 'overloaded', match: { provider: 'anthropic' }, count: 1 }] });
    const failing = client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(failing).rejects.toMatchObject({
      status: 529,
      error: { type: 'error', error: { type: 'overloaded_error' } },
    });
    const after = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(after.type).toBe('message');
  });
});

describe('Anthropic bad requests', () => {
  it('answers malformed JSON and wrong types with 400 invalid_request_error', async () => {
    const post = (body: string) =>
      fetch(`${sim.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body,
      });
    const malformed = await post('{"model": ');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
      request_id: expect.stringMatching(/^req_/),
    });
    const wrongType = await post(
      JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 'ten',
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(wrongType.status).toBe(400);
    const body = (await wrongType.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/^max_tokens: /);
    const badRole = await post(
      JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 5,
        messages: [{ role: 'system', content: 'x' }],
      }),
    );
    expect(((await badRole.json()) as { error: { message: string } }).error.message).toMatch(
      /^messages\.0\.role: /,
    );
  });
});
