import { request as httpRequest } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Simulator, type SimulatorRequestLogEntry, startSimulator } from './index';

let sim: Simulator;
let client: OpenAI;

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hello' }] };

beforeAll(async () => {
  sim = await startSimulator({ seed: 99 });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});

beforeEach(() => {
  sim.setScenario({});
  sim.reset();
});

afterAll(async () => {
  await sim.close();
});

/** Waits (bounded) until the log entry for the n-th request has ended. */
async function ended(index = 0): Promise<SimulatorRequestLogEntry> {
  for (let i = 0; i < 200; i++) {
    const entry = sim.requestLog()[index];
    if (entry && entry.outcome !== 'in_progress') return entry;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('request did not end');
}

/** Raw request that reports every body read separately. */
function rawChat(body: object): Promise<{ status: number; reads: string[]; error?: Error }> {
  return new Promise((resolve) => {
    const req = httpRequest(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      const reads: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => reads.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reads }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, reads, error }));
    });
    req.on('error', (error) => resolve({ status: 0, reads: [], error }));
    req.end(JSON.stringify(body));
  });
}

describe('HTTP error faults', () => {
  it('fails the next 3 requests to a model with 503, then recovers (scripted sequence)', async () => {
    sim.setScenario({ faults: [{ kind: 'unavailable', match: { model: 'gpt-4o-mini' }, count: 3 }] });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        await client.chat.completions.create(chat).then(
          () => 200,
          (e: InstanceType<typeof OpenAI.APIError>) => e.status ?? -1,
        ),
      );
    }
    expect(statuses).toEqual([503, 503, 503, 200]);
    const other = await client.chat.completions.create({ ...chat, model: 'gpt-4o' });
    expect(other.object).toBe('chat.completion');
    expect(sim.requestLog().map((e) => e.outcome)).toEqual([
      'fault:unavailable',
      'fault:unavailable',
      'fault:unavailable',
      'completed',
      'completed',
    ]);
    expect(sim.stats().faults).toEqual({ unavailable: 3 });
  });

  it('skips the first requests before failing, and matches by provider', async () => {
    sim.setScenario({ faults: [{ kind: 'server_error', match: { provider: 'openai' }, skip: 1, count: 1 }] });
    const first = await client.chat.completions.create(chat);
    expect(first.object).toBe('chat.completion');
    await expect(client.chat.completions.create(chat)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const anthropic = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(message.type).toBe('message');
  });

  it('fires probabilistic faults at about the given rate, deterministically for a seed', async () => {
    const run = async () => {
      const local = await startSimulator({
        seed: 1,
        scenario: { faults: [{ kind: 'server_error', probability: 0.3 }] },
      });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${local.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer k' },
          body: JSON.stringify(chat),
        });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      await local.close();
      return statuses;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    const failures = a.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(15);
    expect(failures).toBeLessThan(45);
  });

  it('answers a rate_limit fault with 429, Retry-After and rate-limit headers', async () => {
    sim.setScenario({ faults: [{ kind: 'rate_limit', count: 1, retryAfterSeconds: 7, retryAfterMs: 6500 }] });
    const error = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const apiError = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(apiError.headers.get('retry-after')).toBe('7');
    expect(apiError.headers.get('retry-after-ms')).toBe('6500');
    expect(apiError.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(apiError.headers.get('x-ratelimit-reset-requests')).toBe('7s');
    expect(apiError.code).toBe('rate_limit_exceeded');
  });

  it('answers 529 overloaded and custom error types/codes', async () => {
    sim.setScenario({
      faults: [
        { kind: 'overloaded', count: 1 },
        {
          kind: 'error',
          status: 400,
          errorType: 'invalid_request_error',
          errorCode: 'context_length_exceeded',
          param: 'messages',
          message: "This model's maximum context length is 128000 tokens.",
          count: 1,
        },
        { kind: 'rate_limit', errorType: 'insufficient_quota', errorCode: 'insufficient_quota', count: 1 },
      ],
    });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 529 });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({
      status: 429,
      type: 'insufficient_quota',
      code: 'insufficient_quota',
    });
  });

  it('puts Anthropic error details in the error object', async () => {
    sim.setScenario({
      faults: [
        { kind: 'rate_limit', count: 1, errorDetails: { error_code: 'enforced_spend_limit_reached' } },
      ],
    });
    const anthropic = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const error = await anthropic.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const apiError = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(apiError.error).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', details: { error_code: 'enforced_spend_limit_reached' } },
    });
    expect(apiError.headers.get('retry-after')).toBe('1');
    expect(apiError.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(apiError.requestID).toMatch(/^req_/);
  });
});

describe('connection faults', () => {
  it('hangs until the client gives up; the log records the client closing', async () => {
    sim.setScenario({ faults: [{ kind: 'hang', count: 1 }] });
    const impatient = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 100 });
    await expect(impatient.chat.completions.create(chat)).rejects.toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
    const entry = await ended();
    expect(entry.outcome).toBe('client_closed');
    expect(entry.fault).toBe('hang');
    expect(entry.status).toBe(0);
  });

  it('hangs for hangMs and then drops the connection', async () => {
    sim.setScenario({ faults: [{ kind: 'hang', hangMs: 20, count: 1 }] });
    await expect(client.chat.completions.create(chat)).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect((await ended()).outcome).toBe('fault:hang');
  });

  it('resets the connection before any headers', async () => {
    sim.setScenario({ faults: [{ kind: 'reset', count: 1 }] });
    const result = await rawChat(chat);
    expect(result.status).toBe(0);
    expect((result.error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    await expect(client.chat.completions.create(chat)).resolves.toMatchObject({ object: 'chat.completion' });
    expect(sim.requestLog()[0]!.outcome).toBe('fault:reset');
  });

  it('disconnects mid-stream after the given number of content chunks', async () => {
    sim.setScenario({ faults: [{ kind: 'disconnect', afterChunks: 3, count: 1 }] });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    const received: string[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(received.length).toBe(3);
    expect((await ended()).outcome).toBe('fault:disconnect');
  });

  it('disconnects a non-stream response half-way through the body', async () => {
    sim.setScenario({ faults: [{ kind: 'disconnect', count: 1 }] });
    const result = await rawChat(chat);
    expect(result.status).toBe(200);
    expect(result.error).toBeInstanceOf(Error);
    await expect(client.chat.completions.create(chat)).resolves.toMatchObject({ object: 'chat.completion' });
  });

  it('sends a malformed SSE event that the SDK fails to parse', async () => {
    sim.setScenario({ faults: [{ kind: 'malformed_sse', afterChunks: 2, count: 1 }] });
    const raw = await rawChat({ ...chat, stream: true });
    const events = raw.reads.join('').split('\n\n').filter(Boolean);
    const bad = events.filter((e) => {
      try {
        const data = e.slice(6);
        if (data !== '[DONE]') JSON.parse(data);
        return false;
      } catch {
        return true;
      }
    });
    expect(bad.length).toBe(1);
    expect(events.indexOf(bad[0]!)).toBe(2);

    sim.setScenario({ faults: [{ kind: 'malformed_sse', count: 1 }] });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    const failure = await (async () => {
      for await (const _ of stream) {
        // consume
      }
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SyntaxError);
  });

  it('trickles a non-stream body in many small writes and a stream frame by frame', async () => {
    const normal = await client.chat.completions.create(chat);
    sim.setScenario({ faults: [{ kind: 'trickle', intervalMs: 2, count: 2 }] });
    const slow = await rawChat(chat);
    expect(slow.status).toBe(200);
    expect(slow.reads.length).toBeGreaterThan(5);
    expect(JSON.parse(slow.reads.join(''))).toEqual(normal);
    const stream = await rawChat({ ...chat, stream: true });
    expect(stream.reads.length).toBeGreaterThan(5);
    expect(stream.reads.join('').endsWith('data: [DONE]\n\n')).toBe(true);
    expect(sim.requestLog().map((e) => e.outcome)).toEqual(['completed', 'fault:trickle', 'fault:trickle']);
  });

  it('injects faults on the Anthropic stream as well: a cut stream fails finalMessage()', async () => {
    sim.setScenario({ faults: [{ kind: 'disconnect', match: { provider: 'anthropic' }, count: 1 }] });
    const anthropic = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const stream = anthropic.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Error);
  });
});

describe('in-stream error events', () => {
  it('ends an OpenAI stream with a data: {error} payload that the SDK raises as APIError', async () => {
    sim.setScenario({
      faults: [{ kind: 'stream_error', afterChunks: 2, count: 1, errorType: 'server_error' }],
    });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    let chunks = 0;
    const failure = await (async () => {
      for await (const _ of stream) chunks++;
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
    expect(chunks).toBe(2);
    expect((await ended()).outcome).toBe('fault:stream_error');
  });

  it('sends Anthropic an event: error with overloaded_error, and a non-stream request a 529', async () => {
    sim.setScenario({
      faults: [{ kind: 'stream_error', match: { provider: 'anthropic' }, afterChunks: 1, count: 2 }],
    });
    const raw = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 50,
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    const text = await raw.text();
    expect(
      text.endsWith(
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
      ),
    ).toBe(true);
    expect(text).not.toContain('message_stop');
    const anthropic = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    await expect(
      anthropic.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toMatchObject({ status: 529 });
  });

  it('sends Gemini an error object inside the SSE stream and inside the JSON array', async () => {
    sim.setScenario({
      faults: [{ kind: 'stream_error', match: { provider: 'gemini' }, afterChunks: 0, count: 2 }],
    });
    const url = `${sim.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent`;
    const body = JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }] });
    const sse = await (await fetch(`${url}?alt=sse&key=k`, { method: 'POST', body })).text();
    expect(JSON.parse(sse.slice(6))).toMatchObject({ error: { code: 503, status: 'UNAVAILABLE' } });
    const array = await (await fetch(`${url}?key=k`, { method: 'POST', body })).json();
    expect(array).toMatchObject([{ error: { code: 503 } }]);
  });
});
