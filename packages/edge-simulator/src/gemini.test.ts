import { ApiError, FinishReason, GoogleGenAI, Type } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './index';

let sim: Simulator;
let ai: GoogleGenAI;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5 });
  ai = new GoogleGenAI({ apiKey: 'gemini-test-key', httpOptions: { baseUrl: sim.url } });
});

beforeEach(() => {
  sim.setScenario({});
  sim.reset();
});

afterAll(async () => {
  await sim.close();
});

describe('Gemini generateContent', () => {
  it('answers generateContent with text and usageMetadata', async () => {
    const response = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello there' });
    expect(response.text?.length).toBeGreaterThan(0);
    expect(response.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
    expect(response.candidates?.[0]?.content?.role).toBe('model');
    expect(response.modelVersion).toBe('gemini-2.5-flash');
    expect(response.responseId).toBeTruthy();
    const usage = response.usageMetadata!;
    expect(usage.promptTokenCount).toBeGreaterThan(0);
    expect(usage.totalTokenCount).toBe(usage.promptTokenCount! + usage.candidatesTokenCount!);
  });

  it('streams with generateContentStream (alt=sse), text equal to the non-stream answer', async () => {
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'Stream it',
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.text ?? '';
    }
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.at(-1)!.candidates![0]!.finishReason).toBe(FinishReason.STOP);
    expect(chunks.slice(0, -1).every((c) => c.candidates![0]!.finishReason === undefined)).toBe(true);
    const whole = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Stream it' });
    expect(text).toBe(whole.text);
    expect(chunks.at(-1)!.usageMetadata).toEqual(whole.usageMetadata);
    const log = sim.requestLog();
    expect(log[0]!.path).toBe('/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('writes each SSE event as one data: line, and without alt=sse a JSON array', async () => {
    const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'wire' }] }] });
    const headers = { 'x-goog-api-key': 'k', 'content-type': 'application/json' };
    const url = `${sim.url}/v1beta/models/gemini-2.0-flash:streamGenerateContent`;
    const sseText = await (await fetch(`${url}?alt=sse`, { method: 'POST', headers, body })).text();
    const events = sseText.split('\r\n\r\n').filter(Boolean);
    expect(events.every((e) => /^data: \{.*\}$/.test(e))).toBe(true);
    const arrayResponse = await fetch(url, { method: 'POST', headers, body });
    const array = (await arrayResponse.json()) as unknown[];
    expect(array.length).toBe(events.length);
    expect(array).toEqual(events.map((e) => JSON.parse(e.slice(6))));
  });

  it('calls a function when tools are offered and answers text after the function response', async () => {
    const tools = [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            parameters: {
              type: Type.OBJECT,
              properties: { city: { type: Type.STRING } },
              required: ['city'],
            },
          },
        ],
      },
    ];
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Weather in Rome?',
      config: { tools },
    });
    const calls = response.functionCalls!;
    expect(calls[0]!.name).toBe('get_weather');
    expect(typeof calls[0]!.args!['city']).toBe('string');
    expect(response.candidates![0]!.finishReason).toBe(FinishReason.STOP);
    const followUp = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Rome?' }] },
        { role: 'model', parts: [{ functionCall: calls[0]! }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
      ],
      config: { tools },
    });
    expect(followUp.functionCalls).toBeUndefined();
    expect(followUp.text?.length).toBeGreaterThan(0);
  });

  it('produces JSON satisfying responseSchema', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'A recipe',
      config: {
        responseMimeType: 'application/json',
        responseSchema: {
          type: Type.OBJECT,
          properties: {
            name: { type: Type.STRING },
            servings: { type: Type.INTEGER, minimum: 1, maximum: 8 },
            steps: { type: Type.ARRAY, items: { type: Type.STRING }, minItems: 2 },
          },
          required: ['name', 'servings', 'steps'],
        },
      },
    });
    const value = JSON.parse(response.text!) as { name: string; servings: number; steps: string[] };
    expect(typeof value.name).toBe('string');
    expect(Number.isInteger(value.servings) && value.servings >= 1 && value.servings <= 8).toBe(true);
    expect(value.steps.length).toBeGreaterThanOrEqual(2);
  });

  it('embeds with embedContent (batchEmbedContents on the wire) honouring outputDimensionality', async () => {
    const response = await ai.models.embedContent({
      model: 'text-embedding-004',
      contents: ['first text', 'second text'],
      config: { outputDimensionality: 64 },
    });
    const [a, b] = response.embeddings!;
    expect(a!.values!.length).toBe(64);
    expect(b!.values!).not.toEqual(a!.values!);
    const again = await ai.models.embedContent({
      model: 'text-embedding-004',
      contents: 'first text',
      config: { outputDimensionality: 64 },
    });
    expect(again.embeddings![0]!.values).toEqual(a!.values);
    const norm = Math.hypot(...a!.values!);
    expect(norm).toBeCloseTo(1, 5);
  });

  it('serves :embedContent directly', async () => {
    const response = await fetch(`${sim.url}/v1beta/models/gemini-embedding-001:embedContent?key=k`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: { parts: [{ text: 'hello' }] } }),
    });
    const body = (await response.json()) as { embedding: { values: number[] } };
    expect(body.embedding.values.length).toBe(3072);
    expect(sim.requestLog()[0]!.path).toBe('/v1beta/models/gemini-embedding-001:embedContent?key=[redacted]');
  });

  it('counts tokens and lists models', async () => {
    const counted = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'Count me in' });
    const generated = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Count me in' });
    expect(counted.totalTokens).toBe(generated.usageMetadata!.promptTokenCount);
    const pager = await ai.models.list();
    const names = pager.page.map((m) => m.name);
    expect(names).toContain('models/gemini-2.5-flash');
    const one = await ai.models.get({ model: 'gemini-2.0-flash' });
    expect(one.name).toBe('models/gemini-2.0-flash');
  });

  it('answers errors as google.rpc.Status: bad key, unknown model, bad request, 429 with RetryInfo', async () => {
    const badKey = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: sim.url } });
    const restricted = await startSimulator({ apiKeys: ['right'] });
    try {
      const refused = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: restricted.url } });
      const error = await refused.models
        .generateContent({ model: 'gemini-2.5-flash', contents: 'x' })
        .catch((e) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error.status).toBe(400);
      expect(JSON.parse(error.message)).toMatchObject({
        error: { code: 400, status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] },
      });
      const missing = await fetch(`${restricted.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: 'POST',
        body: '{}',
      });
      expect(missing.status).toBe(403);
      expect(await missing.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    } finally {
      await restricted.close();
    }
    const unknown = await badKey.models.generateContent({ model: 'gemini-0', contents: 'x' }).catch((e) => e);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.message)).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });

    const malformed = await fetch(`${sim.url}/v1beta/models/gemini-2.5-flash:generateContent?key=k`, {
      method: 'POST',
      body: '{"contents": [',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    const wrongType = await fetch(`${sim.url}/v1beta/models/gemini-2.5-flash:generateContent?key=k`, {
      method: 'POST',
      body: JSON.stringify({ contents: 'not an array' }),
    });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { error: { message: string } }).error.message).toContain('contents');

    sim.setScenario({
      faults: [{ kind: 'rate_limit', match: { provider: 'gemini' }, count: 1, retryAfterSeconds: 36 }],
    });
    const limited = await fetch(`${sim.url}/v1beta/models/gemini-2.5-flash:generateContent?key=k`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }] }),
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    const body = (await limited.json()) as {
      error: { status: string; details: { '@type': string; retryDelay?: string }[] };
    };
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(body.error.details.find((d) => d['@type'].endsWith('RetryInfo'))?.retryDelay).toBe('36s');
  });

  it('wraps errors in an array on the non-SSE stream', async () => {
    sim.setScenario({ faults: [{ kind: 'unavailable', count: 1 }] });
    const response = await fetch(`${sim.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=k`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }] }),
    });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject([{ error: { code: 503, status: 'UNAVAILABLE' } }]);
  });
});
