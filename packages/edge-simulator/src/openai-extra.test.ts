import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './index';

let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ seed: 21 });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});

beforeEach(() => {
  sim.setScenario({});
  sim.reset();
});

afterAll(async () => {
  await sim.close();
});

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 7 } },
        required: ['city', 'days'],
        additionalProperties: false,
      },
    },
  },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
];

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json', ...headers },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { error: { param: string | null; code: string | null } } & {
      data: { embedding: unknown }[];
    },
  };
}

describe('OpenAI tools and structured output', () => {
  it('calls the named tool with arguments that satisfy its schema', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Oslo for 3 days?' }],
      tools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0]!;
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.id).toMatch(/^call_/);
    expect(call.function.name).toBe('get_weather');
    const args = JSON.parse(call.function.arguments) as { city: unknown; days: number };
    expect(typeof args.city).toBe('string');
    expect(Number.isInteger(args.days) && args.days >= 1 && args.days <= 7).toBe(true);
  });

  it('streams tool-call deltas: id and name first, then argument fragments that concatenate', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools,
      tool_choice: 'required',
      stream: true,
    });
    const deltas = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.tool_calls) deltas.push(...choice.delta.tool_calls);
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(finish).toBe('tool_calls');
    expect(deltas[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(deltas[0]!.id).toMatch(/^call_/);
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.slice(1).every((d) => d.id === undefined && d.function?.name === undefined)).toBe(true);
    const args = deltas.map((d) => d.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toHaveProperty('city');

    // The SDK's stream helper assembles the same call.
    const helper = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools,
      tool_choice: 'required',
    });
    const final = await helper.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]!;
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.function.arguments).toBe(args);
  });

  it('answers in text after a tool result, and never calls tools with tool_choice none', async () => {
    const afterTool = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
    });
    expect(afterTool.choices[0]!.finish_reason).toBe('stop');
    const none = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      tools,
      tool_choice: 'none',
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    expect(none.choices[0]!.message.tool_calls).toBeUndefined();
  });

  it('returns JSON that satisfies a json_schema response_format, and a JSON object for json_object', async () => {
    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string', minLength: 3 },
        rating: { type: 'number', minimum: 0, maximum: 5 },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] }, minItems: 1, maxItems: 3 },
        author: { $ref: '#/$defs/person' },
        status: { anyOf: [{ type: 'null' }, { type: 'string', const: 'draft' }] },
      },
      required: ['title', 'rating', 'tags', 'author', 'status'],
      additionalProperties: false,
      $defs: {
        person: {
          type: 'object',
          properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
          required: ['name', 'email'],
          additionalProperties: false,
        },
      },
    };
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Review' }],
      response_format: { type: 'json_schema', json_schema: { name: 'review', schema, strict: true } },
    });
    const value = JSON.parse(completion.choices[0]!.message.content!);
    expect(value.title.length).toBeGreaterThanOrEqual(3);
    expect(value.rating).toBeGreaterThanOrEqual(0);
    expect(value.rating).toBeLessThanOrEqual(5);
    expect(value.tags.length).toBeGreaterThanOrEqual(1);
    expect(value.tags.every((t: string) => ['a', 'b', 'c'].includes(t))).toBe(true);
    expect(value.author.email).toMatch(/^[^@]+@[^@]+$/);
    expect(value.status).toBe('draft');
    expect(Object.keys(value).sort()).toEqual(['author', 'rating', 'status', 'tags', 'title']);

    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Review' }],
      response_format: { type: 'json_schema', json_schema: { name: 'review', schema, strict: true } },
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(completion.choices[0]!.message.content);

    const object = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'JSON please' }],
      response_format: { type: 'json_object' },
    });
    const parsed = JSON.parse(object.choices[0]!.message.content!);
    expect(typeof parsed).toBe('object');
  });
});

describe('OpenAI embeddings and models', () => {
  it('returns deterministic unit vectors, honours dimensions, and base64 decodes to the float values', async () => {
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta'],
      encoding_format: 'float',
    });
    expect(floats.data.length).toBe(2);
    expect(floats.data[0]!.embedding.length).toBe(1536);
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    // The SDK asks for base64 by default and decodes it itself.
    const decoded = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta'],
    });
    const a = decoded.data[0]!.embedding;
    expect(a.length).toBe(1536);
    for (let i = 0; i < 10; i++) expect(a[i]).toBeCloseTo(floats.data[0]!.embedding[i]!, 6);
    expect(Math.hypot(...a)).toBeCloseTo(1, 4);
    const short = await client.embeddings.create({
      model: 'text-embedding-3-large',
      input: 'x',
      dimensions: 256,
    });
    expect(short.data[0]!.embedding.length).toBe(256);
    const raw = await post(
      '/v1/embeddings',
      JSON.stringify({ model: 'text-embedding-3-small', input: 'alpha', encoding_format: 'base64' }),
    );
    expect(typeof raw.body.data[0]!.embedding).toBe('string');
    const bad = await post(
      '/v1/embeddings',
      JSON.stringify({ model: 'text-embedding-ada-002', input: 'x', dimensions: 8 }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('dimensions');
  });

  it('lists and retrieves models', async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4o-mini');
    const one = await client.models.retrieve('gpt-4o');
    expect(one).toMatchObject({ id: 'gpt-4o', object: 'model' });
    await expect(client.models.retrieve('gpt-nope')).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });
});

describe('OpenAI bad requests', () => {
  it('answers malformed JSON, wrong types, missing fields and unknown models in the OpenAI error shape', async () => {
    const malformed = await post('/v1/chat/completions', '{"model": "gpt-4o-mini", "messages": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null },
    });
    const wrongType = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'gpt-4o-mini', messages: 'hi' }),
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toMatchObject({
      type: 'invalid_request_error',
      param: 'messages',
      code: 'invalid_type',
    });
    const missing = await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini' }));
    expect(missing.body.error).toMatchObject({ param: 'messages', code: 'missing_required_parameter' });
    const badRange = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], temperature: 9 }),
    );
    expect(badRange.body.error).toMatchObject({ param: 'temperature', code: 'invalid_value' });
    const badRole = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'wizard', content: 'x' }] }),
    );
    expect(badRole.body.error).toMatchObject({ param: 'messages.0.role' });
    const unknown = client.chat.completions.create({
      model: 'gpt-0',
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(unknown).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
      type: 'invalid_request_error',
    });
  });

  it('refuses a missing or unknown key with 401', async () => {
    const noKey = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const restricted = await startSimulator({ apiKeys: ['sk-good'] });
    try {
      const bad = new OpenAI({ baseURL: `${restricted.url}/v1`, apiKey: 'sk-bad', maxRetries: 0 });
      await expect(
        bad.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
      const good = new OpenAI({ baseURL: `${restricted.url}/v1`, apiKey: 'sk-good', maxRetries: 0 });
      const ok = await good.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(ok.object).toBe('chat.completion');
    } finally {
      await restricted.close();
    }
  });
});

describe('content modes and scripted replies', () => {
  it('echoes the last user message in echo mode', async () => {
    sim.setScenario({ content: { mode: 'echo' } });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: 'repeat exactly this' }] },
      ],
    });
    expect(completion.choices[0]!.message.content).toBe('repeat exactly this');
  });

  it('produces lorem of the configured length, in tokens', async () => {
    sim.setScenario({ content: { mode: 'lorem', length: { min: 12, max: 12 } } });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(completion.usage!.completion_tokens).toBeGreaterThanOrEqual(12);
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(16);
  });

  it('matches scripted replies by model and regex, including tool calls and a limited number of uses', async () => {
    sim.setScenario({
      replies: [
        { match: { model: 'gpt-4o', lastUserMessage: '^ping$' }, text: 'pong', times: 1 },
        {
          match: { lastUserMessage: 'book' },
          toolCalls: [
            { name: 'book_flight', arguments: { to: 'LIS' } },
            { name: 'book_hotel', arguments: { nights: 2 } },
          ],
        },
      ],
    });
    const pong = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(pong.choices[0]!.message.content).toBe('pong');
    const again = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(again.choices[0]!.message.content).not.toBe('pong');
    const otherModel = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(otherModel.choices[0]!.message.content).not.toBe('pong');
    const booked = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'please book my trip' }],
    });
    const calls = booked.choices[0]!.message.tool_calls!;
    expect(
      calls.map((c) => (c.type === 'function' ? [c.function.name, c.function.arguments] : null)),
    ).toEqual([
      ['book_flight', '{"to":"LIS"}'],
      ['book_hotel', '{"nights":2}'],
    ]);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'please book my trip' }],
    });
    const indexes = new Set<number>();
    for await (const chunk of stream)
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) indexes.add(d.index);
    expect([...indexes]).toEqual([0, 1]);
  });
});
