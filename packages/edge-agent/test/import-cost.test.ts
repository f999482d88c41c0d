import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TEST_INDEX } from './global-setup';
import { freePort } from './helpers';

// A fresh Node process records every module it resolves while importing the agent and, given a
// config, starting and stopping a gateway with it: what a config does not use must not load.
const childScript = `
  import { registerHooks } from 'node:module';
  const [entry, configJson] = process.argv.slice(1);
  const heavy = new Set();
  const watched = {
    simulator: /\\/edge-simulator\\/|@llm-edge\\/simulator/,
    tokenizer: /\\/gpt-tokenizer\\//,
    redis: /\\/node_modules\\/(\\.pnpm\\/)?(@redis|redis)[+/@]|\\/edge-cache\\/dist\\/redis\\./,
    otelSdk: /@opentelemetry[+/](sdk-trace|resources|exporter-trace-otlp-http)[+/@]/,
  };
  registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      for (const [name, re] of Object.entries(watched)) if (re.test(resolved.url)) heavy.add(name);
      return resolved;
    },
  });
  const { createGateway } = await import(entry);
  if (configJson) {
    const gateway = createGateway(JSON.parse(configJson), { logDestination: { write: () => true } });
    await gateway.start();
    await gateway.stop();
  }
  process.stdout.write(JSON.stringify([...heavy].sort()));
`;

async function modulesLoaded(config?: unknown): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '--no-warnings',
    '-e',
    childScript,
    pathToFileURL(TEST_INDEX).href,
    ...(config === undefined ? [] : [JSON.stringify(config)]),
  ]);
  return JSON.parse(stdout) as string[];
}

function gatewayConfig(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0 },
    providers: { oa: { type: 'openai', apiKey: 'sk-openai-abcdefghijklmnopqrstuvwxyz' } },
    targets: [{ id: 'mini', provider: 'oa', model: 'gpt-4o-mini' }],
    security: { auth: false },
    ...extra,
  };
}

describe('importing @llm-edge/agent', () => {
  it('loads neither the simulator, the tokenizer, Redis nor the OpenTelemetry SDK', async () => {
    expect(await modulesLoaded()).toEqual([]);
  });

  it('a gateway without Redis or trace export never loads them', async () => {
    expect(await modulesLoaded(gatewayConfig({ cache: { enabled: true } }))).toEqual([]);
  });

  it('a gateway with Redis and OTLP trace export loads both', async () => {
    const closed = await freePort();
    const loaded = await modulesLoaded(
      gatewayConfig({
        redis: { url: `redis://127.0.0.1:${closed}`, connectTimeoutMs: 200 },
        cache: { enabled: true, l2: true },
        telemetry: { tracing: { exporter: 'otlp', endpoint: `http://127.0.0.1:${closed}/v1/traces` } },
      }),
    );
    expect(loaded).toEqual(['otelSdk', 'redis']);
  });
});
