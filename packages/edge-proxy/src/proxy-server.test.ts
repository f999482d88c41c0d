import { createMetrics } from '@llm-edge/monitoring';
import { describe, expect, it } from 'vitest';
import { InvalidProxyOptionError, ProxyError } from './errors';
import { jsonResult, type ProxyContext, serializedJsonResult } from './handlers';
import { createProxyServer } from './proxy-server';
import { aborted, deferred, fakeHandlers, memoryLogger, rawExchange, startProxy } from './test-helpers';

const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345';

function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A proxy whose chat handler records every parsed body it is given. */
async function startBodyRecordingProxy(): Promise<{ url: string; seen: unknown[] }> {
  const seen: unknown[] = [];
  const { url } = await startProxy({
    handlers: fakeHandlers({
      chatCompletions: async (ctx) => {
        seen.push(ctx.body);
        return jsonResult({ ok: true });
      },
    }),
  });
  return { url, seen };
}

describe('routes', () => {
  it('tells handlers the body size as received, declared or chunked, and none on GET', async () => {
    const sizes: Array<number | undefined> = [];
    const base = fakeHandlers();
    const { url } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          sizes.push(ctx.bodyBytes);
          return base.chatCompletions(ctx);
        },
        models: async (ctx) => {
          sizes.push(ctx.bodyBytes);
          return base.models(ctx);
        },
      }),
    });
    // Multi-byte text: bytes, not characters, are counted.
    const text = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'héllo ✓' }] });
    const declared = await post(url, '/v1/chat/completions', text);
    expect(declared.status).toBe(200);
    const encoder = new TextEncoder();
    const chunked = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // A stream body has no content-length: fetch sends it chunked.
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode(text.slice(0, 10)));
          controller.enqueue(encoder.encode(text.slice(10)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(200);
    expect((await fetch(`${url}/v1/models`)).status).toBe(200);
    const bytes = Buffer.byteLength(text);
    expect(bytes).toBeGreaterThan(text.length);
    expect(sizes).toEqual([bytes, bytes, undefined]);
  });

  it('serves each API route through its handler with the parsed body, headers, ip and request id', async () => {
    const seen: Array<
      Pick<ProxyContext, 'route' | 'dialect' | 'body' | 'clientIp' | 'requestId' | 'method'>
    > = [];
    const record = (ctx: ProxyContext<unknown>) =>
      seen.push({
        route: ctx.route,
        dialect: ctx.dialect,
        body: ctx.body,
        clientIp: ctx.clientIp,
        requestId: ctx.requestId,
        method: ctx.method,
      });
    const base = fakeHandlers();
    const { url } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          record(ctx);
          return base.chatCompletions(ctx);
        },
        embeddings: async (ctx) => {
          record(ctx);
          return base.embeddings(ctx);
        },
        models: async (ctx) => {
          record(ctx);
          return base.models(ctx);
        },
        anthropicMessages: async (ctx) => {
          record(ctx);
          return base.anthropicMessages(ctx);
        },
      }),
    });

    const chat = await post(
      url,
      '/v1/chat/completions',
      { model: 'gpt-4o-mini', messages: [] },
      { 'x-request-id': 'req-abc.1' },
    );
    expect(chat.status).toBe(200);
    expect(chat.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(chat.headers.get('x-request-id')).toBe('req-abc.1');
    expect(await chat.json()).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini' });

    const embeddings = await post(url, '/v1/embeddings', { model: 'e', input: 'x' });
    expect(await embeddings.json()).toMatchObject({ object: 'list', data: [{ embedding: [0.25, -0.5] }] });

    const models = await fetch(`${url}/v1/models`);
    expect(await models.json()).toMatchObject({ object: 'list', data: [{ id: 'gpt-4o-mini' }] });

    const messages = await post(url, '/v1/messages', { model: 'claude', max_tokens: 5, messages: [] });
    expect(messages.headers.get('request-id')).toBe(messages.headers.get('x-request-id'));
    expect(await messages.json()).toMatchObject({ type: 'message', model: 'claude' });

    expect(seen.map((s) => [s.route, s.dialect, s.method])).toEqual([
      ['chat.completions', 'openai', 'POST'],
      ['embeddings', 'openai', 'POST'],
      ['models', 'openai', 'GET'],
      ['messages', 'anthropic', 'POST'],
    ]);
    expect(seen[0]!.body).toEqual({ model: 'gpt-4o-mini', messages: [] });
    expect(seen[0]!.requestId).toBe('req-abc.1');
    expect(seen[2]!.body).toBeUndefined();
    expect(seen.every((s) => s.clientIp === '127.0.0.1')).toBe(true);
  });

  it('parses JSON bodies whatever the content-type, as curl -d sends them, and refuses bad JSON under each', async () => {
    const { url, seen } = await startBodyRecordingProxy();
    const types = [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON',
      'text/plain',
      'application/x-www-form-urlencoded',
    ];
    // Each type twice: the second request is served by the parser Fastify remembered for it.
    for (const type of [...types, ...types]) {
      const response = await post(url, '/v1/chat/completions', `{"model":"${type}"}`, {
        'content-type': type,
      });
      expect(response.status).toBe(200);
      const bad = await post(url, '/v1/chat/completions', '{"model": ', { 'content-type': type });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: { code: 'LLM_EDGE_PROXY_INVALID_JSON' } });
    }
    expect(seen).toEqual([...types, ...types].map((model) => ({ model })));
    // A header that is not a media type at all is refused before any parser is looked up.
    const malformed = await post(url, '/v1/chat/completions', '{"model":"m"}', {
      'content-type': 'not a type',
    });
    expect(malformed.status).toBe(415);
    expect(await malformed.json()).toMatchObject({
      error: { code: 'LLM_EDGE_PROXY_UNSUPPORTED_MEDIA_TYPE' },
    });
  });

  it('refuses prototype keys however they are spelled, and accepts a leading byte-order mark', async () => {
    const { url, seen } = await startBodyRecordingProxy();
    for (const body of [
      '{"model":"m","__proto__":{"admin":true}}',
      '{"model":"m","\\u005f\\u005fproto__":{"admin":true}}',
      '{"model":"m","constructor":{"prototype":{"admin":true}}}',
      '{"model":"m","\\u0063onstructor":{"prototype":{"admin":true}}}',
    ]) {
      const response = await post(url, '/v1/chat/completions', body);
      expect(response.status, body).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'LLM_EDGE_PROXY_INVALID_JSON' } });
    }
    // Escapes and the words themselves inside values are ordinary text.
    const escaped = await post(
      url,
      '/v1/chat/completions',
      '{"model":"m","note":"caf\\u00e9 __proto__ constructor"}',
    );
    expect(escaped.status).toBe(200);
    const bom = await post(url, '/v1/chat/completions', '\ufeff{"model":"m"}');
    expect(bom.status).toBe(200);
    expect(seen).toEqual([{ model: 'm', note: 'café __proto__ constructor' }, { model: 'm' }]);
  });

  it('logs through the Fastify request logger with the request id, made only when used', async () => {
    const { logger, lines } = memoryLogger();
    const proxy = createProxyServer({ handlers: fakeHandlers(), logger });
    proxy.app.get('/custom', async (request) => {
      request.log.info({ custom: true }, 'custom route');
      return { ok: true };
    });
    try {
      const url = await proxy.listen();
      const response = await fetch(`${url}/custom`, { headers: { 'x-request-id': 'req-custom-1' } });
      expect(response.status).toBe(200);
      expect(lines()).toContainEqual(expect.objectContaining({ reqId: 'req-custom-1', custom: true }));
    } finally {
      await proxy.close();
    }
  });

  it('answers /healthz, /readyz from the readiness handler, and /metrics from the registry', async () => {
    let ready = true;
    const metrics = createMetrics();
    const { url } = await startProxy({
      metrics,
      handlers: fakeHandlers({
        readiness: async () => ({
          ready,
          checks: {
            targets: { ok: ready, detail: { healthy: ready ? 2 : 0 } },
            redis: { ok: true, detail: 'connected' },
          },
        }),
      }),
    });
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const okReady = await fetch(`${url}/readyz`);
    expect(okReady.status).toBe(200);
    expect(await okReady.json()).toEqual({
      status: 'ready',
      checks: { targets: { ok: true, detail: { healthy: 2 } }, redis: { ok: true, detail: 'connected' } },
    });
    ready = false;
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'not_ready', checks: { targets: { ok: false } } });

    await post(url, '/v1/chat/completions', { model: 'm' });
    const scrape = await fetch(`${url}/metrics`);
    expect(scrape.headers.get('content-type')).toBe(metrics.contentType);
    const text = await scrape.text();
    expect(text).toContain(
      'llm_edge_requests_total{route="chat.completions",provider="",model="",status="200"} 1',
    );
    expect(text).toContain('llm_edge_overhead_seconds_count{route="chat.completions"} 1');
    expect(text).not.toContain('route="healthz"');
  });

  it('reports not ready when the readiness handler throws or hangs', async () => {
    const { url } = await startProxy({
      readinessTimeoutMs: 50,
      handlers: fakeHandlers({ readiness: () => new Promise(() => undefined) }),
    });
    const hung = await fetch(`${url}/readyz`);
    expect(hung.status).toBe(503);
    expect(await hung.json()).toEqual({
      status: 'not_ready',
      checks: { readiness: { ok: false, detail: 'readiness check timed out' } },
    });

    const { url: url2 } = await startProxy({
      handlers: fakeHandlers({
        readiness: () => {
          throw new Error(`redis at redis://:${KEY}@host failed`);
        },
      }),
    });
    const failed = await fetch(`${url2}/readyz`);
    expect(failed.status).toBe(503);
    expect(await failed.text()).not.toContain(KEY);
  });

  it('does not serve /metrics when asked not to', async () => {
    const { url } = await startProxy({ exposeMetrics: false });
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
  });

  it('sends serialized JSON byte for byte with the handler status and headers', async () => {
    const { url } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          ctx.annotate({ target: 'openai-mini', cache: 'HIT' });
          return serializedJsonResult('{"cached":true}', {
            status: 203,
            headers: { 'x-ratelimit-remaining-requests': 59 },
          });
        },
      }),
    });
    const response = await post(url, '/v1/chat/completions', { model: 'm' });
    expect(response.status).toBe(203);
    expect(await response.text()).toBe('{"cached":true}');
    expect(response.headers.get('x-llm-edge-target')).toBe('openai-mini');
    expect(response.headers.get('x-llm-edge-cache')).toBe('HIT');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('59');
  });
});

describe('errors in the client shape', () => {
  it('answers malformed JSON, non-object bodies and unknown routes in the dialect of the route', async () => {
    const { url } = await startProxy();
    const bad = await post(url, '/v1/chat/completions', '{"model": ');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: {
        message: 'The request body is not valid JSON.',
        type: 'invalid_request_error',
        param: null,
        code: 'LLM_EDGE_PROXY_INVALID_JSON',
      },
    });
    const badAnthropic = await post(url, '/v1/messages', 'not json');
    expect(badAnthropic.status).toBe(400);
    expect(await badAnthropic.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });

    const array = await post(url, '/v1/embeddings', '[1,2]');
    expect(array.status).toBe(400);
    expect(await array.json()).toMatchObject({ error: { code: 'LLM_EDGE_PROXY_INVALID_BODY' } });
    const empty = await fetch(`${url}/v1/chat/completions`, { method: 'POST' });
    expect(empty.status).toBe(400);

    const proto = await post(url, '/v1/chat/completions', '{"model":"m","__proto__":{"admin":true}}');
    expect(proto.status).toBe(400);

    const unknown = await fetch(`${url}/v1/nothing`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'LLM_EDGE_PROXY_NOT_FOUND' },
    });
    const unknownAnthropic = await fetch(`${url}/v1/messages/batches`, {
      headers: { 'anthropic-version': '2023-06-01' },
    });
    expect(unknownAnthropic.status).toBe(404);
    expect(await unknownAnthropic.json()).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
    });

    const wrongMethod = await fetch(`${url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('maps errors thrown by handlers through the duck-typed contract, never leaking stacks or keys', async () => {
    const errors: Record<string, unknown> = {
      'rate-limited': Object.assign(new Error('Rate limit of 60 requests per minute reached'), {
        status: 429,
        code: 'LLM_EDGE_RATE_LIMITED',
        retryAfterMs: 2500,
        headers: { 'x-ratelimit-remaining-requests': '0', 'set-cookie': 'x=1' },
      }),
      'upstream-auth': Object.assign(new Error(`Incorrect API key provided: ${KEY}`), {
        code: 'LLM_EDGE_PROVIDER_ERROR',
        provider: 'openai',
        kind: 'auth',
        status: 401,
      }),
      internal: new TypeError(`Cannot read properties of undefined (reading 'x') ${KEY}`),
      unsupported: Object.assign(new Error('seed: is not supported by the Anthropic Messages API'), {
        code: 'LLM_EDGE_PROVIDER_ERROR',
        provider: 'anthropic',
        kind: 'unsupported',
        status: 400,
        param: 'seed',
      }),
    };
    const { url } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          throw errors[String(ctx.body['model'])];
        },
        anthropicMessages: async (ctx) => {
          throw errors[String(ctx.body['model'])];
        },
      }),
    });

    const limited = await post(url, '/v1/chat/completions', { model: 'rate-limited' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limited.headers.get('set-cookie')).toBeNull();
    expect(await limited.json()).toEqual({
      error: {
        message: 'Rate limit of 60 requests per minute reached',
        type: 'rate_limit_error',
        param: null,
        code: 'LLM_EDGE_RATE_LIMITED',
      },
    });

    const limitedAnthropic = await post(url, '/v1/messages', { model: 'rate-limited' });
    expect(await limitedAnthropic.json()).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error' },
    });

    const unsupported = await post(url, '/v1/chat/completions', { model: 'unsupported' });
    expect(unsupported.status).toBe(400);
    expect(await unsupported.json()).toEqual({
      error: {
        message: 'seed: is not supported by the Anthropic Messages API',
        type: 'invalid_request_error',
        param: 'seed',
        code: 'unsupported_parameter',
      },
    });
    const unsupportedAnthropic = await post(url, '/v1/messages', { model: 'unsupported' });
    expect(unsupportedAnthropic.status).toBe(400);
    expect(await unsupportedAnthropic.json()).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'seed: is not supported by the Anthropic Messages API',
      },
    });

    for (const path of ['/v1/chat/completions', '/v1/messages']) {
      const upstream = await post(url, path, { model: 'upstream-auth' });
      expect(upstream.status).toBe(502);
      const internal = await post(url, path, { model: 'internal' });
      expect(internal.status).toBe(500);
      const text = (await upstream.text()) + (await internal.text());
      expect(text).not.toContain(KEY);
      expect(text).not.toContain('at ');
      expect(text).not.toContain('Cannot read properties');
    }
  });

  it('refuses handler results that are not results, and unserializable bodies', async () => {
    const { url } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async () => ({ body: 'no kind' }) as never,
        embeddings: async () => jsonResult({ big: 10n }),
      }),
    });
    const noKind = await post(url, '/v1/chat/completions', { model: 'm' });
    expect(noKind.status).toBe(500);
    expect(await noKind.json()).toMatchObject({
      error: { code: 'LLM_EDGE_PROXY_INVALID_HANDLER_RESULT', message: 'Internal server error.' },
    });
    expect((await post(url, '/v1/embeddings', { model: 'm' })).status).toBe(500);
  });

  it('answers 413 for a declared or a streamed body over the limit, in the route dialect', async () => {
    const { url, port } = await startProxy({ bodyLimit: 1024 });
    const big = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(2000) }] });
    const declared = await post(url, '/v1/chat/completions', big);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({
      error: { code: 'LLM_EDGE_PROXY_BODY_TOO_LARGE', message: 'The request body is too large.' },
    });
    const anthropic = await post(url, '/v1/messages', big);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });

    const chunked = await rawExchange(port, [
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
      `${(600).toString(16)}\r\n${'a'.repeat(600)}\r\n`,
      `${(600).toString(16)}\r\n${'a'.repeat(600)}\r\n`,
      '0\r\n\r\n',
    ]);
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect(chunked).toContain('"code":"LLM_EDGE_PROXY_BODY_TOO_LARGE"');
  });
});

describe('header safety', () => {
  it('never reflects an unsafe request id and generates one instead', async () => {
    const { url } = await startProxy({ generateRequestId: () => 'generated-1' });
    const response = await post(
      url,
      '/v1/chat/completions',
      { model: 'm' },
      { 'x-request-id': 'abc<script>alert(1)</script>' },
    );
    expect(response.headers.get('x-request-id')).toBe('generated-1');
  });

  it('refuses handler headers with CR/LF or owned names, and counts them', async () => {
    const metrics = createMetrics();
    let results: boolean[] = [];
    const { url } = await startProxy({
      metrics,
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          results = [
            ctx.setHeader('x-ok', 'fine'),
            ctx.setHeader('x-evil', 'a\r\nSet-Cookie: session=stolen'),
            ctx.setHeader('x-evil2', 'a\nb'),
            ctx.setHeader('bad name', 'v'),
            ctx.setHeader('content-length', '1'),
            ctx.setHeader('x-request-id', 'forged'),
          ];
          return jsonResult({ ok: true });
        },
      }),
    });
    const response = await post(url, '/v1/chat/completions', { model: 'm' });
    expect(results).toEqual([true, false, false, false, false, false]);
    expect(response.headers.get('x-ok')).toBe('fine');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(response.headers.get('x-evil')).toBeNull();
    expect(response.headers.get('x-request-id')).not.toBe('forged');
    expect(await metrics.render()).toContain(
      'llm_edge_errors_total{code="LLM_EDGE_PROXY_INVALID_HEADER",route="chat.completions"} 5',
    );
  });

  it('answers malformed HTTP (a bare CR in a header) with 400 in the client shape and keeps serving', async () => {
    const { url, port } = await startProxy();
    const response = await rawExchange(port, [
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Evil: a\rSet-Cookie: b\r\nContent-Length: 2\r\n\r\n{}',
    ]);
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toContain('"code":"LLM_EDGE_PROXY_BAD_REQUEST"');
    expect(response).not.toContain('Set-Cookie');
    const anthropic = await rawExchange(port, [
      'POST /v1/messages HTTP/1.1\r\nHost: x\r\nX-Evil: a\rb\r\n\r\n',
    ]);
    expect(anthropic).toContain('"type":"error"');
    expect((await post(url, '/v1/chat/completions', { model: 'm' })).status).toBe(200);
  });
});

describe('logging, metrics and overhead', () => {
  it('writes one line per request with the pipeline annotations and no secrets or prompts', async () => {
    const log = memoryLogger();
    const { url } = await startProxy({
      logger: log.logger,
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          ctx.annotate({
            keyName: 'team-a',
            provider: 'openai',
            model: 'gpt-4o-mini',
            target: 'openai-mini',
            cache: 'MISS',
          });
          ctx.annotate({ inputTokens: 9, outputTokens: 2, costUsd: 0.00001, attempts: 1 });
          return jsonResult({ ok: true });
        },
      }),
    });
    await post(
      url,
      '/v1/chat/completions',
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'my secret prompt' }] },
      {
        authorization: `Bearer ${KEY}`,
        'x-request-id': 'req-log-1',
      },
    );
    await fetch(`${url}/healthz`);
    await post(url, '/v1/chat/completions', '{oops', { authorization: `Bearer ${KEY}` });
    const lines = log.lines().filter((line) => line['reqId'] !== undefined);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      reqId: 'req-log-1',
      route: 'chat.completions',
      status: 200,
      keyName: 'team-a',
      provider: 'openai',
      model: 'gpt-4o-mini',
      target: 'openai-mini',
      cache: 'MISS',
      inputTokens: 9,
      outputTokens: 2,
      costUsd: 0.00001,
      attempts: 1,
      clientIp: '127.0.0.1',
      msg: 'request completed',
    });
    expect(typeof lines[0]!['latencyMs']).toBe('number');
    expect(typeof lines[0]!['overheadMs']).toBe('number');
    expect(lines[1]).toMatchObject({ status: 400, errorCode: 'LLM_EDGE_PROXY_INVALID_JSON', level: 40 });
    expect(log.text()).not.toContain(KEY);
    expect(log.text()).not.toContain('my secret prompt');
  });

  it('reports overhead as total time minus the upstream wait the handler measured', async () => {
    let now = 1000;
    const metrics = createMetrics();
    const { url } = await startProxy({
      metrics,
      clock: () => now,
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          now += 2; // gateway work before the call
          const end = ctx.upstream.begin();
          now += 500; // waiting on the upstream
          end();
          now += 1; // gateway work after the call
          await ctx.upstream.track(
            Promise.resolve().then(() => {
              now += 100;
            }),
          );
          return jsonResult({ waited: ctx.upstream.waitedMs });
        },
      }),
    });
    const response = await post(url, '/v1/chat/completions', { model: 'm' });
    expect(await response.json()).toEqual({ waited: 600 });
    expect(response.headers.get('x-llm-edge-overhead-ms')).toBe('3.000');
    expect(await metrics.render()).toContain('llm_edge_overhead_seconds_sum{route="chat.completions"} 0.003');
  });

  it('counts overlapping upstream waits once and times wrapped streams', async () => {
    let now = 0;
    const { IntervalUpstreamTimer } = await import('./upstream-timer');
    const timer = new IntervalUpstreamTimer(() => now);
    const a = timer.begin();
    now = 10;
    const b = timer.begin();
    now = 30;
    a();
    a();
    now = 40;
    b();
    expect(timer.waitedMs).toBe(40);
    timer.add(5);
    timer.add(-3);
    async function* upstream() {
      now += 7;
      yield 1;
      now += 3;
      yield 2;
    }
    const seen: number[] = [];
    for await (const value of timer.iterate(upstream())) {
      seen.push(value);
      now += 100; // consumer time is not upstream time
    }
    expect(seen).toEqual([1, 2]);
    expect(timer.waitedMs).toBe(55);
  });
});

describe('client disconnect on a JSON request', () => {
  it('aborts the handler signal when the client goes away', async () => {
    const started = deferred();
    let reason: unknown;
    const done = deferred();
    const { url } = await startProxy({
      handlers: fakeHandlers({
        chatCompletions: async (ctx) => {
          started.resolve();
          reason = await aborted(ctx.signal);
          done.resolve();
          throw ctx.signal.reason;
        },
      }),
    });
    const controller = new AbortController();
    const client = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      body: '{"model":"m"}',
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await started.promise;
    controller.abort();
    await client;
    await done.promise;
    expect(ProxyError.isInstance(reason)).toBe(true);
    expect((reason as ProxyError).code).toBe('LLM_EDGE_PROXY_CLIENT_CLOSED');
  });
});

describe('options', () => {
  it('validates options once, naming the bad field', () => {
    const handlers = fakeHandlers();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ handlers: undefined }, 'handlers'],
      [{ handlers: { ...handlers, models: 'no' } }, 'handlers.models'],
      [{ handlers, bodyLimit: 0 }, 'bodyLimit'],
      [{ handlers, timeouts: { headersMs: 1.5 } }, 'timeouts.headersMs'],
      [{ handlers, timeouts: { headersMs: 5000, requestMs: 1000 } }, 'timeouts.requestMs'],
      [{ handlers, tls: { cert: '/nonexistent/cert.pem', key: '-----BEGIN PRIVATE KEY-----' } }, 'tls.cert'],
      [{ handlers, trustProxy: 3 }, 'trustProxy'],
      [{ handlers, clock: 5 }, 'clock'],
      [{ handlers, metrics: {} }, 'metrics'],
      [{ handlers, logger: console }, 'logger'],
      [{ handlers, exposeMetrics: 'yes' }, 'exposeMetrics'],
    ];
    for (const [options, field] of cases) {
      let error: unknown;
      try {
        createProxyServer(options as never);
      } catch (caught) {
        error = caught;
      }
      expect(InvalidProxyOptionError.isInstance(error), field).toBe(true);
      expect((error as InvalidProxyOptionError).field).toBe(field);
    }
  });

  it('throws a coded error when url is read before listen', () => {
    const proxy = createProxyServer({ handlers: fakeHandlers() });
    expect(() => proxy.url).toThrowError(expect.objectContaining({ code: 'LLM_EDGE_PROXY_NOT_LISTENING' }));
  });
});
