import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_KEY, PROVIDER_KEY, stackConfig, startStack, type TestStack } from './stack';

const BODY_LIMIT = 64 * 1024;
const EMAIL = 'jane.doe.4711@example.org';
const CARD = '4111 1111 1111 1111';
const SSN = '078-05-1120';

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Reply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text so the assertion shows it
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Sends raw bytes and returns the status line and headers of the answer. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.on('connect', () => socket.end(request));
  });
}

const nullableString = expect.toSatisfy((v: unknown) => v === null || typeof v === 'string');
const openaiError = {
  error: {
    message: expect.any(String),
    type: expect.any(String),
    param: nullableString,
    code: nullableString,
  },
};
const anthropicError = (type: string) => ({ type: 'error', error: { type, message: expect.any(String) } });

describe('bad input is refused in the client shape and never reaches the upstream', () => {
  let stack: TestStack;
  let chat: string;
  let messages: string;
  const auth = { authorization: `Bearer ${GATEWAY_KEY}` };
  const anthropicAuth = { 'x-api-key': GATEWAY_KEY, 'anthropic-version': '2023-06-01' };

  beforeAll(async () => {
    stack = await startStack({
      config: (simUrl) =>
        stackConfig(simUrl, {
          server: { port: 0, bodyLimitBytes: BODY_LIMIT },
          security: {
            keys: [{ name: 'test', key: GATEWAY_KEY }],
            pii: { mode: 'redact', routes: { messages: 'block' } },
          },
        }),
    });
    chat = `${stack.url}/v1/chat/completions`;
    messages = `${stack.url}/v1/messages`;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('malformed JSON → 400', async () => {
    const a = await post(chat, '{"model": "gpt-4o-mini", "messages": [', auth);
    expect(a.status).toBe(400);
    expect(a.body).toEqual(openaiError);
    const b = await post(messages, '{not json', anthropicAuth);
    expect(b.status).toBe(400);
    expect(b.body).toMatchObject(anthropicError('invalid_request_error'));
  });

  it('wrong types → 400 naming the field', async () => {
    const a = await post(chat, JSON.stringify({ model: 'gpt-4o-mini', messages: 'hello' }), auth);
    expect(a.status).toBe(400);
    expect(a.body).toMatchObject({ error: { param: 'messages', type: 'invalid_request_error' } });
    const b = await post(
      chat,
      JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        temperature: 'hot',
      }),
      auth,
    );
    expect(b.status).toBe(400);
    expect(b.body).toMatchObject({ error: { param: 'temperature' } });
    const c = await post(
      messages,
      JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'x' }] }),
      anthropicAuth,
    );
    expect(c.status).toBe(400);
    expect(c.body).toMatchObject(anthropicError('invalid_request_error'));
    expect(JSON.stringify(c.body)).toContain('max_tokens');
    const d = await post(chat, JSON.stringify([1, 2, 3]), auth);
    expect(d.status).toBe(400);
  });

  it('oversized body → 413', async () => {
    const big = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x'.repeat(BODY_LIMIT * 2) }],
    });
    const a = await post(chat, big, auth);
    expect(a.status).toBe(413);
    expect(a.body).toEqual(openaiError);
    const b = await post(messages, big, anthropicAuth);
    expect(b.status).toBe(413);
    expect(b.body).toMatchObject(anthropicError('request_too_large'));
  });

  it('unknown model → 404', async () => {
    const a = await post(
      chat,
      JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
      auth,
    );
    expect(a.status).toBe(404);
    expect(a.body).toEqual(openaiError);
    expect(a.body).toMatchObject({ error: { param: 'model' } });
    const b = await post(
      messages,
      JSON.stringify({ model: 'no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
      anthropicAuth,
    );
    expect(b.status).toBe(404);
    expect(b.body).toMatchObject(anthropicError('not_found_error'));
  });

  it('missing or invalid key → 401, before the body is looked at', async () => {
    const good = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    const a = await post(chat, good, {});
    expect(a.status).toBe(401);
    expect(a.body).toEqual(openaiError);
    const b = await post(chat, good, { authorization: 'Bearer sk-wrong-key-000000000000' });
    expect(b.status).toBe(401);
    const c = await post(messages, '{"model": 5}', {
      'x-api-key': 'sk-wrong',
      'anthropic-version': '2023-06-01',
    });
    expect(c.status).toBe(401);
    expect(c.body).toMatchObject(anthropicError('authentication_error'));
    const models = await fetch(`${stack.url}/v1/models`);
    expect(models.status).toBe(401);
  });

  it('header injection attempts are refused or neutralised', async () => {
    // A model name carrying a header: refused, and nothing of it becomes a response header.
    const a = await post(
      chat,
      JSON.stringify({ model: 'gpt-4o-mini\r\nX-Injected: yes', messages: [{ role: 'user', content: 'x' }] }),
      auth,
    );
    expect(a.status).toBe(404);
    expect(a.headers.get('x-injected')).toBeNull();
    // A request id the client chose that is not a plain token is not echoed back.
    const weird = await fetch(chat, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `${'a'.repeat(300)}<script>`, ...auth },
      body: JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(weird.headers.get('x-request-id')).not.toContain('<script>');
    // Raw CR inside a header value and a smuggling attempt: the HTTP parser refuses them.
    const port = Number(new URL(stack.url).port);
    const cr = await rawRequest(
      port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Evil: a\rInjected: 1\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(cr).toMatch(/^HTTP\/1\.1 400/);
    const smuggle = await rawRequest(
      port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    );
    expect(smuggle).toMatch(/^HTTP\/1\.1 400/);
  });

  it('PII: blocked on the block route naming kinds only, redacted elsewhere, never in logs or metrics', async () => {
    const blocked = await post(
      messages,
      JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: `My SSN is ${SSN}` }],
      }),
      anthropicAuth,
    );
    expect(blocked.status).toBe(400);
    expect(blocked.body).toMatchObject(anthropicError('invalid_request_error'));
    expect(JSON.stringify(blocked.body)).toContain('us_ssn');
    expect(JSON.stringify(blocked.body)).not.toContain(SSN);
    expect(stack.sim.requestLog()).toHaveLength(0);

    const redacted = await post(
      chat,
      JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `Mail ${EMAIL}, card ${CARD}` }],
      }),
      auth,
    );
    expect(redacted.status).toBe(200);
    const upstream = JSON.stringify(stack.sim.requestLog()[0]?.body);
    expect(upstream).not.toContain(EMAIL);
    expect(upstream).not.toContain(CARD);
    expect(upstream).toContain('REDACTED');

    const metrics = await stack.metrics();
    expect(metrics).toMatch(/llm_edge_pii_detections_total\{[^}]*kind="email"/);
    const everything = `${stack.logs.join('\n')}\n${metrics}`;
    for (const secret of [PROVIDER_KEY, GATEWAY_KEY, EMAIL, CARD, SSN, '4111111111111111']) {
      expect(everything).not.toContain(secret);
    }
  });

  it('the gateway stays up and nothing of the bad requests reached the upstream', async () => {
    const before = stack.sim.requestLog().length;
    const ok = await stack.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'fine' }],
    });
    expect(ok.choices[0]?.message.content).toEqual(expect.any(String));
    // Only the redacted request of the PII test and this one went upstream.
    expect(before).toBe(1);
    expect(stack.sim.requestLog()).toHaveLength(2);
    const ready = await fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
