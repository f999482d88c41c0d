import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { SimulatorStats } from './engine';
import { Engine } from './engine';
import { SimulatorError } from './errors';
import type { SimulatorRequestLogEntry } from './exchange';
import { parseScenario, type Scenario, type ScenarioInput } from './scenario';
import { createHandler } from './server';

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /**
   * TCP port; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * Interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Seed for content, ids, latency samples and probabilistic faults.
   * @default 0
   */
  seed?: number;
  /**
   * Multiplier on every latency profile: 0 = no latency at all (unit tests), 1 = the profiles as given.
   * Fault timings (`hangMs`, trickle `intervalMs`) are not scaled.
   * @default 0
   */
  timeScale?: number;
  /**
   * When set, only these API keys are accepted; otherwise any non-empty key is.
   * @default undefined
   */
  apiKeys?: readonly string[];
  /**
   * Faults, scripted replies, rate limits, profiles and extra models (validated; see the README).
   * @default {}
   */
  scenario?: ScenarioInput;
  /**
   * How many requests the request log keeps (oldest dropped first).
   * @default 1000
   */
  requestLogLimit?: number;
  /**
   * Largest accepted request body, bytes (larger → 413 in the provider's shape).
   * @default 33554432
   */
  bodyLimitBytes?: number;
  /**
   * Clock for `created` timestamps, log times and rate-limit buckets (epoch ms).
   * @default Date.now
   */
  clock?: () => number;
}

/** Defaults applied by {@link startSimulator}. */
export const DEFAULT_SIMULATOR_OPTIONS = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  seed: 0,
  timeScale: 0,
  requestLogLimit: 1000,
  bodyLimitBytes: 32 * 1024 * 1024,
  clock: Date.now,
});

/** A running simulator. */
export interface Simulator {
  /**
   * Base URL without a trailing slash, e.g. `http://127.0.0.1:43123`.
   * OpenAI SDK `baseURL: url + '/v1'`; Anthropic SDK `baseURL: url`; @google/genai `httpOptions.baseUrl: url`.
   */
  readonly url: string;
  readonly port: number;
  /** Replaces the scenario (validated; throws SimulatorError naming the bad field). Resets fault sequences. */
  setScenario(scenario: ScenarioInput): void;
  /** The scenario in force, with defaults applied. */
  scenario(): Scenario;
  /** Clears stats, request log, rate-limit buckets, fault sequences and metrics. */
  reset(): void;
  stats(): SimulatorStats;
  /** Requests seen, oldest first (a copy). */
  requestLog(): SimulatorRequestLogEntry[];
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const optionsSchema = z.object({
  port: z.number().int().min(0).max(65_535),
  host: z.string().min(1),
  seed: z.number().int(),
  timeScale: z.number().min(0),
  apiKeys: z.array(z.string().min(1)).optional(),
  requestLogLimit: z.number().int().min(0),
  bodyLimitBytes: z.number().int().positive(),
  clock: z.custom<() => number>((value) => typeof value === 'function', { message: 'must be a function' }),
});

/**
 * Starts an OpenAI-, Anthropic- and Gemini-compatible server on 127.0.0.1.
 * @throws SimulatorError `LLM_EDGE_SIM_INVALID_OPTIONS` / `LLM_EDGE_SIM_INVALID_SCENARIO` naming the bad field.
 * @example
 * const sim = await startSimulator({ seed: 1, scenario: { faults: [{ kind: 'unavailable', count: 3 }] } });
 * const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test' });
 * await sim.close();
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const merged = { ...DEFAULT_SIMULATOR_OPTIONS, ...stripUndefined(options) };
  const checked = optionsSchema.safeParse(merged);
  if (!checked.success) {
    const issues = checked.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }));
    throw new SimulatorError(
      'LLM_EDGE_SIM_INVALID_OPTIONS',
      `invalid simulator options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { cause: checked.error, issues },
    );
  }
  const settings = checked.data;
  const engine = new Engine(
    {
      seed: settings.seed,
      timeScale: settings.timeScale,
      apiKeys: settings.apiKeys,
      requestLogLimit: settings.requestLogLimit,
      bodyLimitBytes: settings.bodyLimitBytes,
      clock: settings.clock,
    },
    parseScenario(options.scenario ?? {}),
  );
  const server: Server = createServer({ keepAliveTimeout: 65_000 }, createHandler(engine));
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) =>
      reject(
        new SimulatorError(
          'LLM_EDGE_SIM_LISTEN_FAILED',
          `cannot listen on ${settings.host}:${settings.port}`,
          {
            cause: error,
          },
        ),
      );
    server.once('error', onError);
    server.listen(settings.port, settings.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    setScenario(input) {
      engine.setScenario(parseScenario(input));
    },
    scenario: () => engine.scenario,
    reset: () => engine.reset(),
    stats: () => engine.stats(),
    requestLog: () => engine.requestLog(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        engine.destroyAll();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out;
}
