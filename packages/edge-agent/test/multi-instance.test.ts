import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@llm-edge/simulator';
import OpenAI, { RateLimitError } from 'openai';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Spawned, startGatewayProcess, ThrowawayRedis } from './helpers';

const PROVIDER_KEY = 'sk-provider-multi-9f8e7d6c5b4a39281706';
const OPEN_KEY = 'sk-edge-open-0123456789abcdef';
const LIMITED_KEY = 'sk-edge-limited-0123456789abcdef';
const RPM = 6;

const CONFIG = `
server:
  port: 0
  shutdownDeadlineMs: 3000
providers:
  openai:
    type: simulator
    api: openai
    url: \${SIM_URL}
    apiKey: \${PROVIDER_KEY}
targets:
  - { id: gpt-mini, provider: openai, model: gpt-4o-mini }
redis:
  url: \${REDIS_URL}
  keyPrefix: \${PREFIX}
  connectTimeoutMs: 500
security:
  keys:
    - { name: open, key: "\${OPEN_KEY}" }
    - { name: limited, key: "\${LIMITED_KEY}", rpm: ${RPM} }
telemetry:
  logLevel: warn
`;

interface Readiness {
  status: string;
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

async function readiness(url: string): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

/** Polls until `check` passes (each poll is cheap; the bound keeps a broken recovery from hanging). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Resolves once the instance that answered has written a cache entry to Redis (that write follows the response). */
async function cacheEntriesInRedis(url: string, prefix: string, atLeast: number): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    await eventually(
      async () => (await client.keys(`${prefix}cache*`)).length >= atLeast,
      `${atLeast} cache entries in Redis`,
    );
  } finally {
    await client.close();
  }
}

describe('two gateway processes sharing one Redis', () => {
  let redis: ThrowawayRedis;
  let sim: Simulator;
  let dir: string;
  const gateways: (Spawned & { url: string })[] = [];
  let clients: OpenAI[];
  const prefix = `llm-edge-test-${randomBytes(4).toString('hex')}:`;

  const ask = (client: OpenAI, content: string, key = OPEN_KEY) =>
    client.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
        { headers: { authorization: `Bearer ${key}` } },
      )
      .withResponse();

  /** One request with the limited key: its status (or 'limited' for a 429) and the remaining count. */
  const askLimited = async (client: OpenAI, content: string) => {
    try {
      const { response } = await ask(client, content, LIMITED_KEY);
      return { outcome: response.status, remaining: response.headers.get('x-ratelimit-remaining-requests') };
    } catch (error) {
      expect(error).toBeInstanceOf(RateLimitError);
      const limited = error as RateLimitError;
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      return {
        outcome: 'limited' as const,
        remaining: limited.headers.get('x-ratelimit-remaining-requests'),
      };
    }
  };

  beforeAll(async () => {
    redis = await ThrowawayRedis.create();
    sim = await startSimulator({ seed: 3, timeScale: 0, apiKeys: [PROVIDER_KEY] });
    dir = await mkdtemp(join(tmpdir(), 'llm-edge-agent-'));
    const file = join(dir, 'llm-edge.yaml');
    await writeFile(file, CONFIG);
    const env = {
      SIM_URL: sim.url,
      REDIS_URL: redis.url,
      PREFIX: prefix,
      PROVIDER_KEY,
      OPEN_KEY,
      LIMITED_KEY,
    };
    const started = await Promise.allSettled(
      [0, 1].map(() => startGatewayProcess(['start', '--config', file], env)),
    );
    for (const result of started) if (result.status === 'fulfilled') gateways.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    clients = gateways.map((g) => new OpenAI({ baseURL: `${g.url}/v1`, apiKey: OPEN_KEY, maxRetries: 0 }));
    for (const g of gateways) {
      await eventually(
        async () => (await readiness(g.url)).body.checks['redis']?.detail === 'up',
        'redis up',
      );
    }
  });

  afterAll(async () => {
    const codes = await Promise.all(gateways.map((g) => g.stop()));
    await sim?.close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    // Both drained and exited cleanly on SIGTERM.
    expect(codes).toEqual(gateways.map(() => 0));
  });

  it('a requests-per-minute limit of N admits N in total across both instances', async () => {
    const outcomes: (number | 'limited')[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < RPM + 4; i++) {
      const client = clients[i % 2]!;
      try {
        const { response } = await ask(client, `limited ${i}`, LIMITED_KEY);
        outcomes.push(response.status);
        expect(response.headers.get('x-ratelimit-limit-requests')).toBe(String(RPM));
        expect(response.headers.get('x-ratelimit-reset-requests')).toMatch(/\d/);
        remaining.push(response.headers.get('x-ratelimit-remaining-requests') ?? '');
      } catch (error) {
        expect(error).toBeInstanceOf(RateLimitError);
        const limited = error as RateLimitError;
        expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
        expect(limited.error).toMatchObject({ type: expect.any(String) });
        outcomes.push('limited');
      }
    }
    // One counter for both instances: remaining goes down across them.
    expect(remaining).toEqual(Array.from({ length: RPM }, (_, i) => String(RPM - 1 - i)));
    expect(outcomes.filter((o) => o === 200)).toHaveLength(RPM);
    expect(outcomes.slice(RPM)).toEqual(['limited', 'limited', 'limited', 'limited']);
  });

  it('an answer cached by one instance is a HIT on the other', async () => {
    sim.reset();
    const first = await ask(clients[0]!, 'shared cache question');
    expect(first.response.headers.get('x-llm-edge-cache')).toBe('MISS');
    await cacheEntriesInRedis(redis.url, prefix, 1);
    const second = await ask(clients[1]!, 'shared cache question');
    expect(second.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    expect(second.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    expect(sim.requestLog()).toHaveLength(1);
  });

  it('Redis stopped: both keep serving, /readyz reports it; Redis back: both recover', async () => {
    await redis.stop();
    for (const g of gateways) {
      await eventually(
        async () => (await readiness(g.url)).body.checks['redis']?.detail === 'down',
        'redis down',
      );
      const ready = await readiness(g.url);
      expect(ready.status).toBe(200);
      expect(ready.body.checks['redis']).toMatchObject({ ok: false, detail: 'down' });
    }
    for (const [i, client] of clients.entries()) {
      const { response } = await ask(client, `while redis is down ${i}`);
      expect(response.status).toBe(200);
      // L1 still answers repeats on the same instance.
      const again = await ask(client, `while redis is down ${i}`);
      expect(again.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    }

    // Limits still hold while Redis is down: rate-limiter-flexible's in-process insurance limiter
    // (same limits) counts each instance on its own from the outage on, as the security README says.
    const onFirst: Awaited<ReturnType<typeof askLimited>>[] = [];
    for (let i = 0; i <= RPM; i++)
      onFirst.push(await askLimited(clients[0]!, `limited while redis is down ${i}`));
    expect(onFirst.map((r) => r.outcome)).toEqual([...Array.from({ length: RPM }, () => 200), 'limited']);
    expect(onFirst.map((r) => r.remaining)).toEqual([
      ...Array.from({ length: RPM }, (_, i) => String(RPM - 1 - i)),
      '0',
    ]);
    expect(await askLimited(clients[1]!, 'limited on the other instance while redis is down')).toEqual({
      outcome: 200,
      remaining: String(RPM - 1),
    });

    await redis.start();
    for (const g of gateways) {
      await eventually(async () => {
        const r = await readiness(g.url);
        return r.body.checks['redis']?.detail === 'up' && r.body.checks['cacheL2']?.ok === true;
      }, 'redis back up');
    }
    // Shared state works again: cached by one, a hit on the other.
    const first = await ask(clients[1]!, 'after redis came back');
    expect(first.response.headers.get('x-llm-edge-cache')).toBe('MISS');
    // The restarted throwaway Redis kept nothing, so this answer's entry is the first one.
    await cacheEntriesInRedis(redis.url, prefix, 1);
    const second = await ask(clients[0]!, 'after redis came back');
    expect(second.response.headers.get('x-llm-edge-cache')).toBe('HIT');
  });
});
