import Anthropic from '@anthropic-ai/sdk';
import {
  type ScenarioInput,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '@llm-edge/simulator';
import OpenAI from 'openai';
import { parseConfig } from '../src/config-loader';
import type { GatewayConfigInput } from '../src/config-schema';
import { createGateway, type Gateway } from '../src/gateway';

/** The key the gateway sends upstream; it must never appear in logs, metrics or responses. */
export const PROVIDER_KEY = 'sk-provider-secret-4f9a8b7c6d5e4f3a2b1c0d9e';
/** The gateway key clients use. */
export const GATEWAY_KEY = 'sk-edge-test-key-0123456789abcdef0123';

/** A simulator plus an in-process gateway in front of it, with SDK clients and captured logs. */
export interface TestStack {
  sim: Simulator;
  gateway: Gateway;
  url: string;
  openai: OpenAI;
  anthropic: Anthropic;
  /** Every log line the gateway wrote. */
  logs: string[];
  /** GET /metrics as text. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The gateway config used by most end-to-end tests: OpenAI-, Anthropic- and Gemini-format targets
 * on one simulator, a `resilient` alias that fails over from gpt-4o-mini to claude-haiku-4-5.
 */
export function stackConfig(simUrl: string, overrides: Partial<GatewayConfigInput> = {}): GatewayConfigInput {
  const timeouts = { connectMs: 2_000, firstByteMs: 1_500, idleMs: 1_500 };
  return {
    server: { port: 0, shutdownDeadlineMs: 2_000 },
    providers: {
      openai: { type: 'simulator', api: 'openai', url: simUrl, apiKey: PROVIDER_KEY, timeouts },
      anthropic: { type: 'simulator', api: 'anthropic', url: simUrl, apiKey: PROVIDER_KEY, timeouts },
      gemini: { type: 'simulator', api: 'gemini', url: simUrl, apiKey: PROVIDER_KEY, timeouts },
    },
    targets: [
      { id: 'gpt-mini', provider: 'openai', model: 'gpt-4o-mini' },
      { id: 'gpt', provider: 'openai', model: 'gpt-4o' },
      { id: 'embed', provider: 'openai', model: 'text-embedding-3-small' },
      { id: 'haiku', provider: 'anthropic', model: 'claude-haiku-4-5' },
      { id: 'gemini-flash', provider: 'gemini', model: 'gemini-2.5-flash' },
    ],
    aliases: [{ name: 'resilient', targets: ['gpt-mini', 'haiku'], strategy: 'priority' }],
    routing: { retry: { maxRetries: 0 } },
    security: { keys: [{ name: 'test', key: GATEWAY_KEY }] },
    telemetry: { logLevel: 'info' },
    ...overrides,
  };
}

export async function startStack(
  options: { sim?: SimulatorOptions; config?: (simUrl: string) => GatewayConfigInput } = {},
): Promise<TestStack> {
  const sim = await startSimulator({ seed: 7, timeScale: 0, apiKeys: [PROVIDER_KEY], ...options.sim });
  const logs: string[] = [];
  const { config } = parseConfig((options.config ?? stackConfig)(sim.url), {});
  const gateway = createGateway(config, {
    logDestination: {
      write(line: string) {
        logs.push(line);
      },
    },
  });
  await gateway.start();
  const url = gateway.url;
  return {
    sim,
    gateway,
    url,
    logs,
    openai: new OpenAI({ baseURL: `${url}/v1`, apiKey: GATEWAY_KEY, maxRetries: 0 }),
    anthropic: new Anthropic({ baseURL: url, apiKey: GATEWAY_KEY, maxRetries: 0 }),
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    async close() {
      await gateway.stop();
      await sim.close();
    },
  };
}

const ZERO = { ttftMs: { p50: 0, p99: 0 }, itlMs: { p50: 0, p99: 0 } };
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'claude-haiku-4-5', 'gemini-2.5-flash'];

/**
 * A scenario with no latency for every model the tests use, except those given a fixed time to
 * first token (for tests that need requests to overlap). Use it with a simulator at timeScale 1.
 */
export function latencyScenario(slow: Record<string, number> = {}, extra: ScenarioInput = {}): ScenarioInput {
  const profiles: Record<string, typeof ZERO> = {};
  for (const model of MODELS) profiles[model] = ZERO;
  for (const [model, ttft] of Object.entries(slow)) {
    profiles[model] = { ttftMs: { p50: ttft, p99: ttft }, itlMs: { p50: 1, p99: 1 } };
  }
  return { defaultProfile: ZERO, ...extra, profiles };
}

/** Sums the values of a Prometheus counter whose label set includes every given label. */
export function counter(metricsText: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
