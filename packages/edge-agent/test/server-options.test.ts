import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counter, GATEWAY_KEY, stackConfig, startStack, type TestStack } from './stack';

function httpsJson(url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: body === undefined ? 'GET' : 'POST',
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_KEY}` },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('TLS from cert/key files', () => {
  let dir: string;
  let stack: TestStack;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-edge-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    stack = await startStack({
      config: (simUrl) => stackConfig(simUrl, { server: { port: 0, tls: { cert, key } } }),
    });
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the API over HTTPS', async () => {
    expect(stack.url).toMatch(/^https:\/\//);
    const completion = await httpsJson(`${stack.url}/v1/chat/completions`, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'over TLS' }],
    });
    expect(completion.status).toBe(200);
    expect(completion.json).toMatchObject({ object: 'chat.completion' });
  });
});

describe('breakers and readiness', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({
      config: (simUrl) => {
        const base = stackConfig(simUrl, {
          routing: {
            retry: { maxRetries: 0 },
            breaker: { consecutiveFailures: 2 },
            cooldown: { defaultMs: 1, maxMs: 1 },
          },
          cache: { enabled: false },
        });
        return { ...base, targets: [{ id: 'only', provider: 'openai', model: 'gpt-4o-mini' }], aliases: [] };
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a target failing in a row opens its breaker: /readyz turns 503, metrics show it, requests get 503 at once', async () => {
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200);
    stack.sim.setScenario({ faults: [{ kind: 'server_error', match: { model: 'gpt-4o-mini' } }] });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_KEY}` },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `fail ${i}` }] }),
      });
      expect(res.status).toBe(502);
    }
    const ready = await fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      checks: { targets: { ok: false, detail: { available: 0, total: 1 } } },
    });
    const metrics = await stack.metrics();
    expect(counter(metrics, 'llm_edge_breaker_state', { target: 'only' })).toBe(2);
    expect(counter(metrics, 'llm_edge_target_healthy', { target: 'only' })).toBe(0);

    const upstreamBefore = stack.sim.requestLog().length;
    const refused = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'breaker open' }] }),
    });
    expect(refused.status).toBe(503);
    expect(stack.sim.requestLog()).toHaveLength(upstreamBefore);
  });
});
