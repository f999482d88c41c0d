import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildOutput, CLI, freePort, spawnChild, startGatewayProcess } from './helpers';

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawnChild(process.execPath, [CLI, ...args], env);
  const [code] = (await once(child.child, 'exit')) as [number | null];
  return { code, out: child.output.text() };
}

/** Waits until `count` lines have matched `re`. */
async function waitForCount(
  output: ChildOutput,
  re: RegExp,
  count: number,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (output.lines.filter((line) => re.test(line)).length < count) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} × ${re}:\n${output.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const GOOD = `
providers:
  oa:
    type: openai
    apiKey: \${TEST_OPENAI_KEY}
targets:
  - id: mini
    provider: oa
    model: gpt-4o-mini
security:
  keys:
    - name: app
      key: \${TEST_GATEWAY_KEY}
`;

const BAD = `
server:
  port: 99999
providers:
  oa:
    type: openai
targets:
  - id: mini
    provider: nope
    model: gpt-4o-mini
cache:
  ttlSecond: 5
`;

describe('llm-edge CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-edge-cli-'));
    await writeFile(join(dir, 'good.yaml'), GOOD);
    await writeFile(join(dir, 'bad.yaml'), BAD);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('validate: ok for a good file, exit 1 naming every bad field otherwise', async () => {
    const env = {
      TEST_OPENAI_KEY: 'sk-openai-abcdefghijklmnopqrstuvwxyz',
      TEST_GATEWAY_KEY: 'gw-0123456789abcdef',
    };
    const good = await run(['validate', join(dir, 'good.yaml')], env);
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/^ok: .*good\.yaml: 1 providers, 1 targets/m);

    const bad = await run(['validate', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(1);
    for (const path of ['server.port', 'providers.oa.apiKey', 'targets[0].provider', 'cache.ttlSecond']) {
      expect(bad.out).toContain(path);
    }
    const missing = await run(['validate', join(dir, 'missing.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('Cannot read config file');
    const usage = await run(['validate']);
    expect(usage.code).toBe(2);
  });

  it('validate: the example config of examples/edge-agent is valid', async () => {
    const example = join(
      import.meta.dirname,
      '..',
      '..',
      '..',
      'examples',
      'edge-agent',
      'llm-edge.config.yaml',
    );
    const ok = await run(['validate', example], {
      OPENAI_API_KEY: 'sk-openai-abcdefghijklmnopqrstuvwxyz',
      LLM_EDGE_API_KEY: 'gw-0123456789abcdef',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(ok.out).toMatch(/^ok: .*: 1 providers, 3 targets, 2 aliases/m);
    expect(ok.code).toBe(0);
    const noKeys = await run(['validate', example], {
      OPENAI_API_KEY: '',
      ANTHROPIC_API_KEY: '',
      GEMINI_API_KEY: '',
    });
    expect(noKeys.code).toBe(1);
    expect(noKeys.out).toContain('security.keys[0].key');
  });

  it('print-config masks provider and gateway keys', async () => {
    const env = {
      TEST_OPENAI_KEY: 'sk-openai-abcdefghijklmnopqrstuvwxyz',
      TEST_GATEWAY_KEY: 'gw-0123456789abcdef',
    };
    const printed = await run(['print-config', '--config', join(dir, 'good.yaml')], env);
    expect(printed.code).toBe(0);
    expect(printed.out).toContain('apiKey: sk-…(36 chars)');
    expect(printed.out).not.toContain(env.TEST_OPENAI_KEY);
    expect(printed.out).not.toContain(env.TEST_GATEWAY_KEY);
    const json = await run(['print-config', '--json'], {});
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out.slice(json.out.indexOf('{'))).providers.openai.type).toBe('simulator');
  });

  it('hash-key prints a sha256 hash, or generates a key and its hash', async () => {
    const hashed = await run(['hash-key', 'my-key']);
    expect(hashed.out.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    const generated = await run(['hash-key']);
    expect(generated.out).toMatch(/^key: {2}\S+\nhash: sha256:[0-9a-f]{64}$/m);
  });

  it('start with no config: the built-in simulator answers, SIGTERM drains an open stream and exits 0', async () => {
    const key = 'sk-edge-cli-test-0123456789';
    const gateway = await startGatewayProcess(['start', '--port', '0'], {
      LLM_EDGE_DEV_KEY: key,
      // Real latency profiles, so the stream is still open when SIGTERM arrives.
      LLM_EDGE_SIMULATOR_TIME_SCALE: '1',
      LOG_LEVEL: 'warn',
    });
    try {
      const [, printedKey] = await gateway.output.waitFor(/llm-edge development key: (\S+)/);
      expect(printedKey).toBe(key);
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
      const completion = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hello' }],
      });
      expect(completion.choices[0]?.message.content).toEqual(expect.any(String));

      const stream = await client.chat.completions.create({
        model: 'claude-haiku-4-5',
        stream: true,
        max_tokens: 200,
        messages: [{ role: 'user', content: 'A long answer please' }],
      });
      let chunks = 0;
      let finish: string | null | undefined;
      let exit: Promise<number | null> | undefined;
      for await (const chunk of stream) {
        chunks++;
        if (chunks === 1) exit = gateway.stop(15_000);
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(chunks).toBeGreaterThan(2);
      expect(finish).toBeTruthy();
      expect(await exit).toBe(0);
    } finally {
      await gateway.stop();
    }
  });

  it('start: SIGTERM right after a burst of requests exits with every request line written whole', async () => {
    const key = 'sk-edge-cli-test-0123456789';
    const gateway = await startGatewayProcess(['start', '--port', '0'], {
      LLM_EDGE_DEV_KEY: key,
      LOG_LEVEL: 'info',
    });
    try {
      const count = 400;
      for (let i = 0; i < count; i += 8) {
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            const response = await fetch(`${gateway.url}/v1/chat/completions`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${key}`,
                'content-type': 'application/json',
              },
              body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
            });
            expect(response.status).toBe(200);
            await response.arrayBuffer();
          }),
        );
      }
      // Well inside the destination's flush interval: lines are still held, or in a write.
      expect(await gateway.stop(15_000)).toBe(0);
      const ids = gateway.output.lines
        .filter((line) => line.includes('"request completed"'))
        .map((line) => (JSON.parse(line) as { reqId: string }).reqId);
      expect(ids).toHaveLength(count);
      expect(new Set(ids).size).toBe(count);
    } finally {
      await gateway.stop();
    }
  });

  it('start --workers 2: two worker processes answer on one port; SIGTERM stops them all, exit 0', async () => {
    const port = await freePort();
    const gateway = await startGatewayProcess(['start', '--port', String(port), '--workers', '2'], {
      LLM_EDGE_DEV_KEY: 'sk-edge-cluster-test-0123456789',
      LOG_LEVEL: 'warn',
    });
    try {
      await gateway.output.waitFor(/primary \d+ starting 2 worker processes/);
      // Both workers print their URL once listening.
      await waitForCount(gateway.output, /listening on http/, 2);
      const pid = gateway.child.pid!;
      const workers = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
      expect(workers).toHaveLength(2);
      const client = new OpenAI({
        baseURL: `${gateway.url}/v1`,
        apiKey: 'sk-edge-cluster-test-0123456789',
        maxRetries: 0,
      });
      for (let i = 0; i < 4; i++) {
        const completion = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `Hello ${i}` }],
        });
        expect(completion.choices[0]?.message.content).toEqual(expect.any(String));
      }
      expect(await gateway.stop(15_000)).toBe(0);
      for (const worker of workers) expect(existsSync(`/proc/${worker}`)).toBe(false);
    } finally {
      await gateway.stop();
    }
  });

  it('start --workers rejects a value that is not a count', async () => {
    const { code, out } = await run(['start', '--workers', 'many']);
    expect(code).toBe(2);
    expect(out).toContain('--workers "many"');
  });
});
