import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Simulator, type SimulatorRequestLogEntry, startSimulator } from './index';

let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ seed: 2 });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-secret-value', maxRetries: 0 });
});

beforeEach(() => {
  sim.setScenario({});
  sim.reset();
});

afterAll(async () => {
  await sim.close();
});

describe('control API', () => {
  it('replaces the scenario with PUT /_sim/scenario (JSON or YAML) and names bad fields with 400', async () => {
    const put = (body: string, type = 'application/json') =>
      fetch(`${sim.url}/_sim/scenario`, { method: 'PUT', headers: { 'content-type': type }, body });
    const ok = await put(JSON.stringify({ faults: [{ kind: 'server_error', count: 1 }] }));
    expect(ok.status).toBe(200);
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 500 });
    const yaml = await put('faults:\n  - kind: unavailable\n    count: 1\n', 'application/yaml');
    expect(yaml.status).toBe(200);
    expect(
      ((await (await fetch(`${sim.url}/_sim/scenario`)).json()) as { faults: { kind: string }[] }).faults[0]!
        .kind,
    ).toBe('unavailable');
    const bad = await put(JSON.stringify({ faults: [{ kind: 'server_error', probability: 3 }] }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'LLM_EDGE_SIM_INVALID_SCENARIO', issues: [{ path: 'faults.0.probability' }] },
    });
    const notJson = await put('{');
    expect(notJson.status).toBe(400);
  });

  it('records each request with redacted headers, parsed body, status and outcome', async () => {
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'log me' }],
      stream: false,
    });
    const response = await fetch(`${sim.url}/_sim/requests`);
    const { data } = (await response.json()) as { data: SimulatorRequestLogEntry[] };
    expect(data.length).toBe(1);
    const entry = data[0]!;
    expect(entry).toMatchObject({
      provider: 'openai',
      method: 'POST',
      path: '/v1/chat/completions',
      model: 'gpt-4o-mini',
      stream: false,
      status: 200,
      outcome: 'completed',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'log me' }] },
    });
    expect(entry.headers['authorization']).toBe('[redacted]');
    expect(JSON.stringify(entry)).not.toContain('sk-secret-value');
    expect(entry.promptTokens).toBeGreaterThan(0);
    expect(entry.endedAt).toBeGreaterThanOrEqual(entry.startedAt);
    expect(sim.requestLog()).toEqual(data);
  });

  it('reports stats, resets them, and exposes Prometheus metrics', async () => {
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'a' }],
    });
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'b' }] });
    await client.chat.completions
      .create({ model: 'gpt-0', messages: [{ role: 'user', content: 'c' }] })
      .catch(() => {});
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as ReturnType<Simulator['stats']>;
    expect(stats.requests).toBe(3);
    expect(stats.byOutcome).toEqual({ completed: 2, rejected: 1 });
    expect(stats.byStatus).toEqual({ '200': 2, '404': 1 });
    expect(stats.byModel['gpt-4o']!.requests).toBe(1);
    expect(stats.promptTokens).toBeGreaterThan(0);
    expect(stats.internalErrors).toBe(0);
    const metrics = await (await fetch(`${sim.url}/metrics`)).text();
    expect(metrics).toContain(
      'llm_edge_sim_requests_total{provider="openai",model="gpt-4o-mini",status="200",outcome="completed"} 1',
    );
    expect(metrics).toContain('llm_edge_sim_request_duration_seconds_bucket');
    expect(metrics).toContain('llm_edge_sim_in_flight{model="gpt-4o-mini"} 0');
    expect(metrics).toContain(
      'llm_edge_sim_tokens_total{provider="openai",model="gpt-4o",type="completion"}',
    );
    const reset = await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(sim.stats().requests).toBe(0);
    expect(sim.requestLog()).toEqual([]);
  });

  it('keeps only the newest requestLogLimit entries', async () => {
    const small = await startSimulator({ requestLogLimit: 2 });
    try {
      const c = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: 'k', maxRetries: 0 });
      for (const content of ['1', '2', '3']) {
        await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
      }
      const log = small.requestLog();
      expect(log.map((e) => e.id)).toEqual(['sim-2', 'sim-3']);
    } finally {
      await small.close();
    }
  });

  it('answers unknown routes in the surface shape', async () => {
    const openai = await fetch(`${sim.url}/v1/nothing`, { headers: { authorization: 'Bearer k' } });
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const gemini = await fetch(`${sim.url}/v1beta/nothing?key=k`);
    expect(gemini.status).toBe(404);
    expect(await gemini.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    const control = await fetch(`${sim.url}/_sim/nothing`);
    expect(control.status).toBe(404);
  });
});

describe('Azure OpenAI routes', () => {
  it('serves chat and embeddings under /openai/deployments with api-key and api-version', async () => {
    const base = `${sim.url}/openai/deployments/gpt-4o-mini`;
    const chat = await fetch(`${base}/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'api-key': 'azure-key', 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(chat.status).toBe(200);
    expect(await chat.json()).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini' });
    const entry = sim.requestLog().at(-1)!;
    expect(entry).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
      path: '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21',
    });
    expect(entry.headers['api-key']).toBe('[redacted]');

    const noVersion = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': 'azure-key' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(noVersion.status).toBe(400);
    const noKey = await fetch(`${base}/chat/completions?api-version=1`, { method: 'POST', body: '{}' });
    expect(noKey.status).toBe(401);
    const missing = await fetch(`${sim.url}/openai/deployments/nope/chat/completions?api-version=1`, {
      method: 'POST',
      headers: { 'api-key': 'azure-key' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'DeploymentNotFound' } });
    const embeddings = await fetch(
      `${sim.url}/openai/deployments/text-embedding-3-small/embeddings?api-version=1`,
      {
        method: 'POST',
        headers: { 'api-key': 'azure-key' },
        body: JSON.stringify({ input: 'hello' }),
      },
    );
    expect(((await embeddings.json()) as { data: { embedding: number[] }[] }).data[0]!.embedding.length).toBe(
      1536,
    );
  });

  it('lists models at /openai/models', async () => {
    const response = await fetch(`${sim.url}/openai/models?api-version=2024-10-21`, {
      headers: { 'api-key': 'k' },
    });
    const body = (await response.json()) as {
      object: string;
      data: { id: string; capabilities: { embeddings: boolean } }[];
    };
    expect(body.object).toBe('list');
    expect(body.data.find((m) => m.id === 'text-embedding-3-small')?.capabilities.embeddings).toBe(true);
    const noKey = await fetch(`${sim.url}/openai/models?api-version=2024-10-21`);
    expect(noKey.status).toBe(401);
  });

  it('works with the SDK AzureOpenAI client', async () => {
    const azure = new AzureOpenAI({
      endpoint: sim.url,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o',
      maxRetries: 0,
    });
    const completion = await azure.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });
});

describe('robustness', () => {
  it('logs a client that leaves in the middle of its request body as client_closed', async () => {
    const { connect } = await import('node:net');
    const url = new URL(sim.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"model":',
    );
    for (let i = 0; i < 200 && sim.requestLog().length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    socket.destroy();
    for (let i = 0; i < 200 && sim.requestLog()[0]?.outcome === 'in_progress'; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(sim.requestLog()[0]).toMatchObject({ outcome: 'client_closed', status: 0 });
    expect(sim.stats().internalErrors).toBe(0);
  });

  it('answers an oversized body with 413 in the provider shape', async () => {
    const small = await startSimulator({ bodyLimitBytes: 64 });
    try {
      const response = await fetch(`${small.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'claude-haiku-4-5',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'x'.repeat(200) }],
        }),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    } finally {
      await small.close();
    }
  });
});
