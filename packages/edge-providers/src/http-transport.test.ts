import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, errors as undiciErrors } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createAnthropicProvider } from './anthropic-provider';
import type { ChatChunk } from './chat-schemas';
import { ProviderError } from './errors';
import { HttpTransport } from './http-transport';
import { createOpenAIProvider } from './openai-provider';
import { parseChatRequest } from './parse-request';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  url: string;
  connections: number;
  /** Responses the client closed before the server finished writing them. */
  cutShort: number;
  /** Resolves when the server sees the client close a request's connection. */
  closed: Promise<void>;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Handler): Promise<TestServer> {
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const server: Server = createServer((req, res) => {
    res.on('close', () => {
      if (res.writableFinished) return;
      state.cutShort++;
      markClosed();
    });
    // Reading the body lets Node keep the connection alive after the answer.
    req.resume();
    handler(req, res);
  });
  const state = { connections: 0, cutShort: 0 };
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const test: TestServer = {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return state.connections;
    },
    get cutShort() {
      return state.cutShort;
    },
    closed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(test);
  return test;
}

const request = parseChatRequest({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
const chunkLine = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })}\n\n`;
const completion = {
  id: 'c1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop', logprobs: null },
  ],
};

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (e) {
    if (ProviderError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a ProviderError');
}

/**
 * Writes `piece` until `total` bytes went out, waiting for 'drain' as a well-behaved server does,
 * then ends the body; `written` counts what the server managed to write so far.
 */
function writeBody(res: ServerResponse, piece: string | Buffer, total: number): { readonly written: number } {
  const state = { written: 0 };
  const pump = (): void => {
    while (state.written < total) {
      state.written += piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
  return state;
}

async function drain(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

const provider = (url: string, timeouts: Record<string, number> = {}) =>
  createOpenAIProvider({ apiKey: 'sk-test', baseURL: `${url}/v1`, timeouts });

describe('HTTP transport', () => {
  it('times out waiting for response headers (first byte)', async () => {
    const server = await serve(() => {});
    const error = await failure(provider(server.url, { firstByteMs: 50 }).chat(request));
    expect({ kind: error.kind, type: error.providerType, retryable: error.retryable }).toEqual({
      kind: 'timeout',
      type: 'timeout:first_byte',
      retryable: true,
    });
    await server.closed;
  });

  it('times out when a stream sends headers but no first chunk', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
    });
    const stream = await provider(server.url, { firstByteMs: 50 }).chatStream(request);
    const error = await failure(drain(stream));
    expect(error.providerType).toBe('timeout:first_byte');
    await server.closed;
  });

  it('times out when a started stream goes idle', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkLine('Hel'));
    });
    const stream = await provider(server.url, { idleMs: 50 }).chatStream(request);
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    );
    expect(seen).toEqual(['Hel']);
    expect({ kind: error.kind, type: error.providerType }).toEqual({ kind: 'timeout', type: 'timeout:idle' });
    await server.closed;
  });

  it('times out a stream that goes idle after several chunks, and not while the consumer holds a chunk', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const words = ['a', 'b', 'c', 'd'];
      const timer = setInterval(() => {
        const word = words.shift();
        if (word === undefined) {
          // Then nothing more: the upstream went idle.
          clearInterval(timer);
          return;
        }
        res.write(chunkLine(word));
      }, 20);
      res.on('close', () => clearInterval(timer));
    });
    const stream = await provider(server.url, { idleMs: 200 }).chatStream(request);
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of stream) {
          seen.push(chunk.choices[0]?.delta.content ?? '');
          // A slow consumer: it holds the second chunk longer than the idle timeout.
          if (seen.length === 2) await new Promise((resolve) => setTimeout(resolve, 500));
        }
      })(),
    );
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    expect({ kind: error.kind, type: error.providerType }).toEqual({ kind: 'timeout', type: 'timeout:idle' });
    await server.closed;
  });

  it('maps a connect timeout to kind timeout', async () => {
    const dispatcher = new Agent({
      connect: (_options, callback) => callback(new undiciErrors.ConnectTimeoutError(), null),
    });
    const p = createOpenAIProvider({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1', dispatcher });
    const error = await failure(p.chat(request));
    expect({ kind: error.kind, type: error.providerType }).toEqual({
      kind: 'timeout',
      type: 'timeout:connect',
    });
    await dispatcher.close();
  });

  it('maps a refused connection to kind network', async () => {
    const server = await serve(() => {});
    const url = server.url;
    await server.close();
    const error = await failure(provider(url).chat(request));
    expect({ kind: error.kind, retryable: error.retryable }).toEqual({ kind: 'network', retryable: true });
  });

  it('aborts before the answer: rejects with aborted and closes the upstream connection', async () => {
    const server = await serve(() => {});
    const controller = new AbortController();
    const pending = provider(server.url).chat(request, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const error = await failure(pending);
    expect({ kind: error.kind, retryable: error.retryable }).toEqual({ kind: 'aborted', retryable: false });
    await server.closed;
  });

  it('rejects at once for an already-aborted signal', async () => {
    const server = await serve(() => {});
    const error = await failure(provider(server.url).chat(request, { signal: AbortSignal.abort() }));
    expect(error.kind).toBe('aborted');
    expect(server.connections).toBe(0);
  });

  it('aborts mid-stream: the iterator throws aborted and the upstream connection closes', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkLine('Hel'));
    });
    const controller = new AbortController();
    const stream = await provider(server.url).chatStream(request, { signal: controller.signal });
    const error = await failure(
      (async () => {
        for await (const _chunk of stream) controller.abort();
      })(),
    );
    expect(error.kind).toBe('aborted');
    await server.closed;
  });

  it('closes the upstream connection when the consumer stops reading', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkLine('Hel'));
      res.write(chunkLine('lo'));
    });
    const stream = await provider(server.url).chatStream(request);
    for await (const _chunk of stream) break;
    await server.closed;
  });

  it('reuses one keep-alive connection for sequential calls', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completion));
    });
    const p = provider(server.url);
    for (let i = 0; i < 3; i++) {
      expect((await p.chat(request)).choices[0]?.message.content).toBe('ok');
      // undici hands the socket back to the pool a tick after the body ends.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(server.connections).toBe(1);
    await p.close();
  });

  describe('keep-alive: a finished call hands its connection back to the pool', () => {
    const fixture = (name: string) =>
      readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
    /** How long to wait for undici to pool a connection again: generous, a loaded machine is slow. */
    const POOL_WAIT = { timeout: 10_000 };
    /** Free pooled connections to the server, as undici counts them. */
    const free = (agent: Agent, url: string) =>
      (agent.stats as Record<string, { free?: number } | undefined>)[new URL(url).origin]?.free ?? 0;

    /**
     * Answers streams with the whole event stream (through its last event) but ends the HTTP body
     * only when the test says so: by then the client has read the last event, so a client that
     * destroys the body at that point cuts the response short and loses the connection.
     */
    async function streamServer(events: string) {
      const endings: Array<() => void> = [];
      const server = await serve((req, res) => {
        if (req.headers.accept?.includes('text/event-stream') || req.url?.includes('messages')) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(events);
          endings.push(() => res.end());
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(completion));
      });
      return { server, endings };
    }

    it('OpenAI streams and JSON calls, one after another, share one connection and none is cut short', async () => {
      const { server, endings } = await streamServer(fixture('openai-stream.sse'));
      const agent = new Agent();
      const p = createOpenAIProvider({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, dispatcher: agent });
      try {
        for (let i = 0; i < 3; i++) {
          const chunks = await drain(await p.chatStream({ ...request, stream: true }));
          expect(chunks.length).toBeGreaterThan(1);
          expect(endings).toHaveLength(i + 1);
          endings[i]!();
          await expect.poll(() => free(agent, server.url), POOL_WAIT).toBe(1);
          expect((await p.chat(request)).choices[0]?.message.content).toBe('ok');
          await expect.poll(() => free(agent, server.url), POOL_WAIT).toBe(1);
        }
        expect(server.connections).toBe(1);
        expect(server.cutShort).toBe(0);
      } finally {
        await agent.close();
      }
    });

    it('Anthropic streams (ended by message_stop) share one connection and none is cut short', async () => {
      const { server, endings } = await streamServer(fixture('anthropic-stream.sse'));
      const agent = new Agent();
      const p = createAnthropicProvider({ apiKey: 'sk-ant-test', baseURL: server.url, dispatcher: agent });
      try {
        for (let i = 0; i < 3; i++) {
          const chunks = await drain(
            await p.chatStream({ ...request, model: 'claude-haiku-4-5', stream: true }),
          );
          expect(chunks.at(-1)?.usage).toBeTruthy();
          endings[i]!();
          await expect.poll(() => free(agent, server.url), POOL_WAIT).toBe(1);
        }
        expect(server.connections).toBe(1);
        expect(server.cutShort).toBe(0);
      } finally {
        await agent.close();
      }
    });

    it('a body that goes on after the last event is cut (the connection is not kept)', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(fixture('openai-stream.sse'));
        // Past [DONE] the upstream keeps sending: nothing a client should wait for.
        const timer = setInterval(() => res.write(`: ${'x'.repeat(16 * 1024)}\n\n`), 5);
        res.on('close', () => clearInterval(timer));
      });
      const agent = new Agent();
      const p = createOpenAIProvider({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, dispatcher: agent });
      try {
        expect((await drain(await p.chatStream({ ...request, stream: true }))).length).toBeGreaterThan(1);
        await server.closed;
        expect(server.cutShort).toBe(1);
      } finally {
        await agent.close();
      }
    });
  });

  it('reports a stream cut before its end as a network error', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(chunkLine('Hel'));
    });
    const error = await failure(drain(await provider(server.url).chatStream(request)));
    expect(error.kind).toBe('network');
  });

  it('sends per-call headers and rejects a non-2xx answer before the stream starts', async () => {
    let seen: IncomingMessage['headers'] = {};
    const server = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ error: { message: 'busy', type: 'server_error', param: null, code: null } }));
    });
    const error = await failure(
      provider(server.url).chatStream(request, { headers: { traceparent: '00-abc-def-01' } }),
    );
    expect({ kind: error.kind, status: error.status, retryAfterMs: error.retryAfterMs }).toEqual({
      kind: 'overloaded',
      status: 503,
      retryAfterMs: 1000,
    });
    expect(seen['traceparent']).toBe('00-abc-def-01');
    expect(seen['authorization']).toBe('Bearer sk-test');
  });

  describe('JSON answers', () => {
    it('parses a body sent in several writes, and one that starts with a byte-order mark', async () => {
      const text = JSON.stringify(completion);
      const server = await serve((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url?.includes('bom') === true) {
          res.end(`\uFEFF${text}`);
          return;
        }
        res.write(text.slice(0, 20));
        setTimeout(() => res.end(text.slice(20)), 10);
      });
      const split = await provider(server.url).chat(request);
      const bom = await createOpenAIProvider({ apiKey: 'sk-test', baseURL: `${server.url}/bom/v1` }).chat(
        request,
      );
      expect(split.choices[0]?.message.content).toBe('ok');
      expect(bom.choices[0]?.message.content).toBe('ok');
    });

    it('times out when a JSON body stops midway (idle)', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id":');
      });
      const error = await failure(provider(server.url, { idleMs: 50 }).chat(request));
      expect({ kind: error.kind, type: error.providerType }).toEqual({
        kind: 'timeout',
        type: 'timeout:idle',
      });
    });

    it('reports a JSON body cut before its end as a network error', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"id":');
        setTimeout(() => res.destroy(), 10);
      });
      const error = await failure(provider(server.url).chat(request));
      expect(error.kind).toBe('network');
    });

    it('aborts while the body is read: rejects with aborted', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id":');
      });
      const controller = new AbortController();
      const pending = provider(server.url).chat(request, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('client left')), 30);
      const error = await failure(pending);
      expect(error.kind).toBe('aborted');
      await server.closed;
    });

    it('an error answer whose body is cut is still reported by its status', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(503, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"error":');
        setTimeout(() => res.destroy(), 10);
      });
      const error = await failure(provider(server.url).chat(request));
      expect({ kind: error.kind, status: error.status }).toEqual({ kind: 'overloaded', status: 503 });
    });

    it('an abort while the call waits for a free connection rejects at once', async () => {
      const server = await serve(() => {});
      const dispatcher = new Agent({ connections: 1 });
      const p = createOpenAIProvider({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, dispatcher });
      // The first call holds the only connection: the upstream never answers it.
      const holding = failure(p.chat(request, { signal: AbortSignal.timeout(5_000) }));
      const controller = new AbortController();
      const queued = failure(p.chat(request, { signal: controller.signal }));
      setTimeout(() => controller.abort(new Error('client left')), 30);
      const started = Date.now();
      expect((await queued).kind).toBe('aborted');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(server.connections).toBe(1);
      await dispatcher.destroy();
      expect((await holding).kind).not.toBe('server');
    });

    it('an error answer with a huge body is reported by its status without reading it all', async () => {
      let body = { written: 0 };
      const server = await serve((_req, res) => {
        res.writeHead(503, { 'content-type': 'text/html' });
        // 64 MiB at most; the client is expected to stop long before.
        body = writeBody(res, `<p>${'x'.repeat(64 * 1024)}</p>`, 64 * 1024 * 1024);
      });
      const error = await failure(provider(server.url).chat(request));
      expect({ kind: error.kind, status: error.status }).toEqual({ kind: 'overloaded', status: 503 });
      await server.closed;
      expect(server.cutShort).toBe(1);
      expect(body.written).toBeLessThan(32 * 1024 * 1024);
    });

    it('a 2xx body that is not JSON is kind server with the status', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>gateway page</html>');
      });
      const error = await failure(provider(server.url).chat(request));
      expect({ kind: error.kind, status: error.status }).toEqual({ kind: 'server', status: 200 });
      expect(error.message).toContain('not JSON');
    });

    it('sends JSON with the content type and the instance and per-call headers', async () => {
      let seen: IncomingMessage['headers'] = {};
      const server = await serve((req, res) => {
        seen = req.headers;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(completion));
      });
      const withHeaders = createOpenAIProvider({
        apiKey: 'sk-test',
        baseURL: `${server.url}/v1`,
        headers: { 'x-team': 'a' },
      });
      await withHeaders.chat(request, { headers: { traceparent: '00-abc-def-01' } });
      expect(seen['content-type']).toBe('application/json');
      expect(seen['x-team']).toBe('a');
      expect(seen['traceparent']).toBe('00-abc-def-01');
      await provider(server.url).chat(request);
      expect(seen['content-type']).toBe('application/json');
      expect(seen['x-team']).toBeUndefined();
      expect(seen['traceparent']).toBeUndefined();
    });
  });
  describe('streamed bodies', () => {
    const transport = (timeouts: Partial<Record<'connectMs' | 'firstByteMs' | 'idleMs', number>> = {}) =>
      new HttpTransport({
        provider: 'test',
        timeouts: { connectMs: 1_000, firstByteMs: 1_000, idleMs: 1_000, ...timeouts },
        mapErrorResponse: ({ status }) =>
          new ProviderError({ provider: 'test', kind: 'server', status, message: `${status}` }),
      });

    /** A streamed call under a caller's signal, to a test server. */
    async function sendWithSignal(url: string) {
      const http = transport();
      const controller = new AbortController();
      const response = await http.send({
        method: 'GET',
        url: `${url}/s`,
        headers: {},
        signal: controller.signal,
      });
      return { http, controller, response };
    }

    it('pauses the upstream while the consumer is behind, without timing it out, and loses no byte', async () => {
      const total = 32 * 1024 * 1024;
      let body = { written: 0 };
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        body = writeBody(res, Buffer.alloc(64 * 1024, 'x'), total);
      });
      // Generous against a loaded machine: a read stalled that long while not paused would time out.
      const http = transport({ idleMs: 250 });
      const response = await http.send({ method: 'GET', url: `${server.url}/big`, headers: {} });
      const chunks = response.chunks();
      let received = (await chunks.next()).value?.byteLength ?? 0;
      // The consumer holds its first chunk for three idle timeouts.
      await new Promise((resolve) => setTimeout(resolve, 750));
      // What the server could write is bounded by the socket buffers and the transport's queue.
      expect(body.written).toBeLessThan(total / 2);
      for await (const chunk of chunks) received += chunk.byteLength;
      expect(received).toBe(total);
      await http.close();
    });

    it('a caller abort still counts after the body ended, while chunks are queued', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('the whole body');
      });
      const { http, controller, response } = await sendWithSignal(server.url);
      // The body arrives and ends while nobody reads it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort(new Error('client left'));
      expect((await failure(response.chunks().next())).kind).toBe('aborted');
      await http.close();
    });

    it('reads waiting when the consumer closes the call end, and concurrent reads are served in order', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('a');
        setTimeout(() => res.write('b'), 30);
      });
      const http = transport();
      const response = await http.send({ method: 'GET', url: `${server.url}/s`, headers: {} });
      const chunks = response.chunks();
      const [first, second] = await Promise.all([chunks.next(), chunks.next()]);
      expect([Buffer.from(first.value!).toString(), Buffer.from(second.value!).toString()]).toEqual([
        'a',
        'b',
      ]);
      const pending = chunks.next();
      setTimeout(() => response.close(), 20);
      expect(await pending).toEqual({ done: true, value: undefined });
      await server.closed;
      await http.close();
    });

    it('times out a stream that stalls after the consumer caught up with a paused upstream', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        // Enough to pause the transport, then nothing more, without ending.
        res.write(Buffer.alloc(1024 * 1024, 'x'));
      });
      const http = transport({ idleMs: 100 });
      const response = await http.send({ method: 'GET', url: `${server.url}/s`, headers: {} });
      const chunks = response.chunks();
      await chunks.next();
      await new Promise((resolve) => setTimeout(resolve, 300));
      let received = 0;
      const error = await failure(
        (async () => {
          for await (const chunk of chunks) received += chunk.byteLength;
        })(),
      );
      expect({ kind: error.kind, type: error.providerType }).toEqual({
        kind: 'timeout',
        type: 'timeout:idle',
      });
      expect(received).toBeGreaterThan(0);
      await http.close();
    });

    it('a caller abort rejects the next read at once, even with chunks queued', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunkLine('a'));
        setTimeout(() => res.write(chunkLine('b')), 10);
      });
      const { http, controller, response } = await sendWithSignal(server.url);
      const chunks = response.chunks();
      expect((await chunks.next()).done).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort(new Error('client left'));
      const error = await failure(chunks.next());
      expect(error.kind).toBe('aborted');
      await server.closed;
      await http.close();
    });
  });
});
