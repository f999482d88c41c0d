import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics } from '@llm-edge/monitoring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyError } from './errors';
import { sseResult } from './handlers';
import { aborted, deferred, fakeHandlers, rawExchange, sseFrames, startProxy } from './test-helpers';

function openStream(port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent: false });
    req.on('response', resolve);
    req.on('error', reject);
    req.end('{"model":"m","stream":true}');
  });
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (data: string) => {
      body += data;
    });
    response.on('end', () => resolve(body));
    response.on('error', reject);
  });
}

describe('start-up', () => {
  it('starts without a Fastify deprecation warning (request logging is off through logController)', async () => {
    const warnings: Error[] = [];
    const collect = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', collect);
    try {
      const { proxy } = await startProxy();
      await proxy.close();
      // process.emitWarning delivers on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', collect);
    }
    const fastify = warnings.filter(
      (w) => w.name.startsWith('Fastify') || String((w as Error & { code?: unknown }).code).startsWith('FST'),
    );
    expect(fastify.map((w) => `${(w as Error & { code?: string }).code}: ${w.message}`)).toEqual([]);
  });
});

describe('timeouts', () => {
  it('answers 408 in the client shape when headers do not arrive within headersMs', async () => {
    const metrics = createMetrics();
    const { port } = await startProxy({ metrics, timeouts: { headersMs: 150, requestMs: 150 } });
    const response = await rawExchange(port, [
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n',
    ]);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({
      error: { code: 'LLM_EDGE_PROXY_REQUEST_TIMEOUT', type: 'invalid_request_error' },
    });
    expect(await metrics.render()).toContain(
      'llm_edge_errors_total{code="LLM_EDGE_PROXY_REQUEST_TIMEOUT",route="unparsed"} 1',
    );
  });

  it('answers 408 when the body does not arrive within requestMs, and never calls the handler', async () => {
    let called = false;
    const metrics = createMetrics();
    const { port } = await startProxy({
      metrics,
      timeouts: { headersMs: 100, requestMs: 200 },
      handlers: fakeHandlers({
        anthropicMessages: async () => {
          called = true;
          throw new Error('unreachable');
        },
      }),
    });
    const response = await rawExchange(port, [
      'POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":',
    ]);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toMatchObject({
      type: 'error',
      error: { type: 'timeout_error' },
    });
    expect(called).toBe(false);
    await expect
      .poll(() => metrics.render())
      .toContain('llm_edge_requests_total{route="messages",provider="",model="",status="408"} 1');
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, finishes in-flight streams, refuses requests arriving meanwhile, then closes', async () => {
    const gate = deferred();
    let signal: AbortSignal | undefined;
    const { proxy, port, url } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          signal = ctx.signal;
          return sseResult(
            (async function* () {
              yield { data: { n: 1 } };
              await gate.promise;
              yield { data: { n: 2 } };
            })(),
          );
        },
      }),
    });
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      received += data;
    });
    const socketClosed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
    await expect.poll(() => received).toContain('data: {"n":1}');

    const closed = proxy.close({ deadlineMs: 5000 });
    await expect.poll(() => proxy.server.listening).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    // A request arriving on a connection that is still open while draining is refused.
    socket.write('POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
    await expect.poll(() => proxy.inFlight).toBe(2);

    gate.resolve();
    await closed;
    await socketClosed;
    expect(signal?.aborted).toBe(false);
    const second = received.slice(received.lastIndexOf('HTTP/1.1 '));
    const first = received.slice(0, received.lastIndexOf('HTTP/1.1 '));
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first).toContain('data: {"n":2}');
    expect(first).toContain('data: [DONE]');
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second).toContain('"code":"LLM_EDGE_PROXY_SHUTTING_DOWN"');
    expect(second.toLowerCase()).toContain('connection: close');
  });

  it('aborts what is still running at the deadline: streams end with an error event, JSON gets 503', async () => {
    const streaming = deferred();
    let reason: unknown;
    const { proxy, port, url } = await startProxy({
      handlers: fakeHandlers({
        anthropicMessages: async (ctx) =>
          sseResult(
            (async function* () {
              yield { data: { type: 'message_start', message: {} } };
              streaming.resolve();
              reason = await aborted(ctx.signal);
            })(),
          ),
        // Ignores its signal entirely: the proxy must still answer and close.
        embeddings: () => new Promise(() => undefined),
      }),
    });
    const stream = await openStream(port, '/v1/messages');
    const body = readAll(stream);
    await streaming.promise;
    const json = fetch(`${url}/v1/embeddings`, { method: 'POST', body: '{}' });
    await expect.poll(() => proxy.inFlight).toBe(2);

    await proxy.close({ deadlineMs: 100 });
    const frames = sseFrames(await body);
    expect(frames[0]).toContain('event: message_start');
    expect(frames[1]).toMatch(/^event: error\ndata: /);
    expect(JSON.parse(frames[1]!.split('data: ')[1]!)).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error' },
    });
    expect((reason as ProxyError).code).toBe('LLM_EDGE_PROXY_SHUTTING_DOWN');
    const response = await json;
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: 'LLM_EDGE_PROXY_SHUTTING_DOWN' } });
    expect(proxy.inFlight).toBe(0);
  });

  it('closes at once when idle, and close() is idempotent', async () => {
    const { proxy } = await startProxy();
    const first = proxy.close();
    expect(proxy.close()).toBe(first);
    await first;
    expect(proxy.server.listening).toBe(false);
  });
});

describe('TLS', () => {
  let dir: string;
  let certPath: string;
  let keyPath: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'llm-edge-proxy-tls-'));
    certPath = join(dir, 'cert.pem');
    keyPath = join(dir, 'key.pem');
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          keyPath,
          '-out',
          certPath,
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=IP:127.0.0.1,DNS:localhost',
        ],
        { stdio: 'pipe' },
      );
    } catch (error) {
      throw new Error(
        `The TLS tests need the openssl CLI to make a self-signed certificate (apt-get install openssl): ${String(error)}`,
      );
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function httpsCall(
    port: number,
    path: string,
    ca: Buffer,
    body?: string,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1',
        port,
        path,
        ca,
        method: body === undefined ? 'GET' : 'POST',
        agent: false,
      });
      req.on('response', (response) => {
        readAll(response).then((text) => resolve({ status: response.statusCode ?? 0, text }), reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('serves HTTPS from certificate and key files', async () => {
    const { url, port } = await startProxy({ tls: { cert: certPath, key: keyPath } });
    expect(url.startsWith('https://127.0.0.1:')).toBe(true);
    const ca = readFileSync(certPath);
    expect(await httpsCall(port, '/healthz', ca)).toEqual({ status: 200, text: '{"status":"ok"}' });
    const chat = await httpsCall(port, '/v1/chat/completions', ca, '{"model":"tls-model"}');
    expect(chat.status).toBe(200);
    expect(JSON.parse(chat.text)).toMatchObject({ model: 'tls-model' });
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('serves HTTPS from PEM contents', async () => {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const { port } = await startProxy({ tls: { cert, key } });
    expect((await httpsCall(port, '/healthz', Buffer.from(cert))).status).toBe(200);
  });
});
