import { request as httpRequest, type IncomingMessage } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { createMetrics } from '@llm-edge/monitoring';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ProxyError } from './errors';
import { sseResult } from './handlers';
import type { SseEvent } from './sse';
import { aborted, deferred, fakeHandlers, sseFrames, startProxy } from './test-helpers';

const chunk = (content: string, finish: string | null = null) => ({
  id: 'chatcmpl-s1',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta: finish === null ? { content } : {}, logprobs: null, finish_reason: finish }],
});

const ANTHROPIC_EVENTS = [
  {
    type: 'message_start',
    message: {
      id: 'msg_s1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 1 },
    },
  },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'ping' },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo!' } },
  { type: 'content_block_stop', index: 0 },
  {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: 3 },
  },
  { type: 'message_stop' },
];

const overloaded = () =>
  Object.assign(new Error('upstream stream cut'), {
    code: 'LLM_EDGE_PROVIDER_ERROR',
    provider: 'anthropic',
    kind: 'overloaded',
  });

async function* events(items: readonly unknown[], failAfter?: () => unknown): AsyncGenerator<SseEvent> {
  for (const data of items) yield { data };
  if (failAfter !== undefined) throw failAfter();
}

function openai(url: string) {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'test-key', maxRetries: 0 });
}

function anthropic(url: string) {
  return new Anthropic({ baseURL: url, apiKey: 'test-key', maxRetries: 0 });
}

describe('SSE framing', () => {
  it('streams OpenAI chunks as data lines ending in [DONE], read by the openai SDK', async () => {
    const metrics = createMetrics();
    const { url } = await startProxy({
      metrics,
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          ctx.annotate({ provider: 'openai', model: 'gpt-4o-mini', target: 'openai-mini' });
          return sseResult(events([chunk('Hel'), chunk('lo'), chunk('', 'stop')]));
        },
      }),
    });

    const raw = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      body: '{"model":"m","stream":true}',
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(raw.headers.get('cache-control')).toBe('no-cache');
    expect(raw.headers.get('x-llm-edge-target')).toBe('openai-mini');
    expect(Number(raw.headers.get('x-llm-edge-overhead-ms'))).toBeGreaterThanOrEqual(0);
    const frames = sseFrames(await raw.text());
    expect(frames).toEqual([
      `data: ${JSON.stringify(chunk('Hel'))}`,
      `data: ${JSON.stringify(chunk('lo'))}`,
      `data: ${JSON.stringify(chunk('', 'stop'))}`,
      'data: [DONE]',
    ]);

    const stream = await openai(url).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    const finishes: Array<string | null> = [];
    for await (const part of stream) {
      text += part.choices[0]?.delta.content ?? '';
      finishes.push(part.choices[0]?.finish_reason ?? null);
    }
    expect(text).toBe('Hello');
    expect(finishes).toEqual([null, null, 'stop']);
    expect(await metrics.render()).toContain(
      'llm_edge_time_to_first_token_seconds_count{route="chat.completions",provider="openai",model="gpt-4o-mini"} 2',
    );
  });

  it('streams Anthropic events with event lines, read by the Anthropic SDK', async () => {
    const { url } = await startProxy({
      handlers: fakeHandlers({ anthropicMessages: async () => sseResult(events(ANTHROPIC_EVENTS)) }),
    });
    const raw = await fetch(`${url}/v1/messages`, { method: 'POST', body: '{"model":"m","stream":true}' });
    const frames = sseFrames(await raw.text());
    expect(frames).toHaveLength(ANTHROPIC_EVENTS.length);
    expect(frames[0]).toBe(`event: message_start\ndata: ${JSON.stringify(ANTHROPIC_EVENTS[0])}`);
    expect(frames.at(-1)).toBe('event: message_stop\ndata: {"type":"message_stop"}');
    expect(frames.join('\n')).not.toContain('[DONE]');

    const message = await anthropic(url)
      .messages.stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .finalMessage();
    expect(message.content).toEqual(
      [{ type: 'text', text: 'Hello!', citations: null }].map(({ type, text }) =>
        expect.objectContaining({ type, text }),
      ),
    );
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(3);
  });

  it('ends an OpenAI stream that fails midway with a final error event the SDK throws on', async () => {
    const { url } = await startProxy({
      handlers: fakeHandlers({ chatCompletions: async () => sseResult(events([chunk('Hel')], overloaded)) }),
    });
    const raw = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{"model":"m"}' });
    const frames = sseFrames(await raw.text());
    expect(frames).toEqual([
      `data: ${JSON.stringify(chunk('Hel'))}`,
      'data: {"error":{"message":"The upstream provider is overloaded; retry later.","type":"server_error","param":null,"code":"upstream_overloaded"}}',
    ]);

    const stream = await openai(url).chat.completions.create({ model: 'm', messages: [], stream: true });
    const received: string[] = [];
    await expect(
      (async () => {
        for await (const part of stream) received.push(part.choices[0]?.delta.content ?? '');
      })(),
    ).rejects.toThrow(/overloaded/);
    expect(received).toEqual(['Hel']);
  });

  it('ends an Anthropic stream that fails midway with event: error, which the SDK throws on', async () => {
    const { url } = await startProxy({
      handlers: fakeHandlers({
        anthropicMessages: async () => sseResult(events(ANTHROPIC_EVENTS.slice(0, 4), overloaded)),
      }),
    });
    const raw = await fetch(`${url}/v1/messages`, { method: 'POST', body: '{"model":"m"}' });
    const frames = sseFrames(await raw.text());
    const last = frames.at(-1)!;
    expect(last.startsWith('event: error\ndata: ')).toBe(true);
    expect(JSON.parse(last.slice('event: error\ndata: '.length))).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'The upstream provider is overloaded; retry later.' },
      request_id: raw.headers.get('request-id'),
    });
    const stream = await anthropic(url).messages.create({
      model: 'm',
      max_tokens: 5,
      messages: [],
      stream: true,
    });
    const types: string[] = [];
    const failure = await (async () => {
      try {
        for await (const event of stream) types.push(event.type);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    // The SDK skips ping events.
    expect(types).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
  });

  it('answers a failure before the first event with a real HTTP status', async () => {
    const limited = () =>
      Object.assign(new Error('slow down'), {
        status: 429,
        code: 'LLM_EDGE_RATE_LIMITED',
        retryAfterMs: 1000,
      });
    const { url } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async () => sseResult(events([], limited)),
        anthropicMessages: async () => sseResult(events([], limited)),
      }),
    });
    await expect(
      openai(url).chat.completions.create({ model: 'm', messages: [], stream: true }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(
      anthropic(url).messages.create({ model: 'm', max_tokens: 5, messages: [], stream: true }),
    ).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('lets a handler turn off the [DONE] marker', async () => {
    const { url } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async () => sseResult(events([chunk('x')]), { done: false }),
      }),
    });
    const text = await (await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}' })).text();
    expect(text).not.toContain('[DONE]');
  });
});

/** Polls `read` until it stops changing for `stableChecks` consecutive checks. */
async function plateau(read: () => number, intervalMs = 50, stableChecks = 4): Promise<number> {
  let last = -1;
  let stable = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const value = read();
    stable = value === last ? stable + 1 : 0;
    last = value;
    if (stable >= stableChecks) return value;
  }
}

function openStream(port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end('{"model":"m","stream":true}');
  });
}

describe('backpressure and disconnects', () => {
  it('stops pulling events while the client does not read, and delivers all of them once it does', async () => {
    const TOTAL = 600;
    const payload = 'x'.repeat(64 * 1024);
    let produced = 0;
    const { port } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async () =>
          sseResult(
            (async function* () {
              for (let i = 0; i < TOTAL; i += 1) {
                produced += 1;
                yield { data: { i, payload } };
              }
            })(),
          ),
      }),
    });
    const response = await openStream(port, '/v1/chat/completions');
    response.pause();
    const stalledAt = await plateau(() => produced);
    expect(stalledAt).toBeLessThan(TOTAL);

    let body = '';
    response.setEncoding('utf8');
    response.on('data', (data: string) => {
      body += data;
    });
    response.resume();
    await new Promise((resolve) => response.on('end', resolve));
    const frames = sseFrames(body);
    expect(frames).toHaveLength(TOTAL + 1);
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(frames[TOTAL - 1]!.slice('data: '.length)).i).toBe(TOTAL - 1);
  });

  it('aborts the handler signal and closes the event source when the client disconnects mid-stream', async () => {
    const streaming = deferred();
    const cleanedUp = deferred();
    let reason: unknown;
    const { port, proxy } = await startProxy({
      handlers: fakeHandlers({
        anthropicMessages: async (ctx) =>
          sseResult(
            (async function* () {
              try {
                yield { data: ANTHROPIC_EVENTS[0] };
                streaming.resolve();
                reason = await aborted(ctx.signal);
              } finally {
                cleanedUp.resolve();
              }
            })(),
          ),
      }),
    });
    const response = await openStream(port, '/v1/messages');
    await streaming.promise;
    response.destroy();
    await cleanedUp.promise;
    expect(ProxyError.isInstance(reason)).toBe(true);
    expect((reason as ProxyError).code).toBe('LLM_EDGE_PROXY_CLIENT_CLOSED');
    await expect.poll(() => proxy.inFlight).toBe(0);
  });

  it('keeps a stream alive while its events keep coming, however long it runs in all', async () => {
    const { url } = await startProxy({
      timeouts: { idleMs: 100 },
      handlers: fakeHandlers({
        chatCompletions: async () =>
          sseResult(
            (async function* () {
              // 12 events 40 ms apart: ~480 ms in all, never 100 ms without one.
              for (let i = 0; i < 12; i++) {
                await new Promise((resolve) => setTimeout(resolve, 40));
                yield { data: chunk(`t${i}`) };
              }
            })(),
          ),
      }),
    });
    const text = await (await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}' })).text();
    const frames = sseFrames(text);
    expect(frames).toHaveLength(13);
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(text).not.toContain('LLM_EDGE_PROXY_IDLE_TIMEOUT');
  });

  it('abandons a handler that makes no progress soon after idleMs, not before', async () => {
    const { url, proxy } = await startProxy({
      timeouts: { idleMs: 200 },
      handlers: fakeHandlers({ embeddings: () => new Promise(() => undefined) }),
    });
    const started = performance.now();
    const response = await fetch(`${url}/v1/embeddings`, { method: 'POST', body: '{}' });
    const elapsed = performance.now() - started;
    expect(response.status).toBe(504);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    // Checked every quarter of idleMs: 250 ms at the latest, plus this machine's scheduling.
    expect(elapsed).toBeLessThan(1_000);
    await expect.poll(() => proxy.inFlight).toBe(0);
  });

  it('gives up on a stream with no progress for idleMs, with a final error event', async () => {
    let reason: unknown;
    const { url } = await startProxy({
      timeouts: { idleMs: 100 },
      handlers: fakeHandlers({
        chatCompletions: async (ctx) =>
          sseResult(
            (async function* () {
              yield { data: chunk('first') };
              reason = await aborted(ctx.signal);
            })(),
          ),
        embeddings: () => new Promise(() => undefined),
      }),
    });
    const text = await (await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}' })).text();
    const frames = sseFrames(text);
    expect(frames).toHaveLength(2);
    expect(JSON.parse(frames[1]!.slice('data: '.length))).toMatchObject({
      error: { code: 'LLM_EDGE_PROXY_IDLE_TIMEOUT' },
    });
    expect((reason as ProxyError).code).toBe('LLM_EDGE_PROXY_IDLE_TIMEOUT');

    const json = await fetch(`${url}/v1/embeddings`, { method: 'POST', body: '{}' });
    expect(json.status).toBe(504);
    expect(await json.json()).toMatchObject({
      error: { code: 'LLM_EDGE_PROXY_IDLE_TIMEOUT', type: 'server_error' },
    });
  });
});
