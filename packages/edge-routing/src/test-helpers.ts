import {
  type ChatRequest,
  createAnthropicProvider,
  createGeminiProvider,
  createOpenAIProvider,
  type Provider,
  type ProviderTimeouts,
} from '@llm-edge/providers';
import type { ScenarioInput, Simulator, SimulatorRequestLogEntry } from '@llm-edge/simulator';

/** Seeded uniform random source (mulberry32) so statistical tests give the same draws on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A clock the test moves by hand. */
export class ManualClock {
  #now = 1_750_000_000_000;

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}

/**
 * First-byte budget of the test adapters: far beyond any answer the simulator gives, even on a
 * loaded machine, so only a test that makes an upstream hang (and sets its own short budget) ever
 * sees a timeout.
 */
export const GENEROUS_FIRST_BYTE_MS = 15_000;

/** Real OpenAI, Anthropic and Gemini adapters pointed at the simulator, closed by `closeAll`. */
export class SimulatorProviders {
  readonly #opened: { close(): Promise<void> }[] = [];
  readonly #sim: Simulator;

  constructor(sim: Simulator) {
    this.#sim = sim;
  }

  openai(options: { apiKey?: string; timeouts?: Partial<ProviderTimeouts> } = {}): Provider {
    const provider = createOpenAIProvider({
      apiKey: options.apiKey ?? 'sk-test-openai',
      baseURL: `${this.#sim.url}/v1`,
      timeouts: { firstByteMs: GENEROUS_FIRST_BYTE_MS, ...options.timeouts },
    });
    this.#opened.push(provider);
    return provider;
  }

  anthropic(options: { apiKey?: string; timeouts?: Partial<ProviderTimeouts> } = {}): Provider {
    const provider = createAnthropicProvider({
      apiKey: options.apiKey ?? 'sk-ant-test',
      baseURL: this.#sim.url,
      timeouts: { firstByteMs: GENEROUS_FIRST_BYTE_MS, ...options.timeouts },
    });
    this.#opened.push(provider);
    return provider;
  }

  gemini(options: { apiKey?: string; timeouts?: Partial<ProviderTimeouts> } = {}): Provider {
    const provider = createGeminiProvider({
      apiKey: options.apiKey ?? 'gemini-test',
      baseURL: this.#sim.url,
      timeouts: { firstByteMs: GENEROUS_FIRST_BYTE_MS, ...options.timeouts },
    });
    this.#opened.push(provider);
    return provider;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#opened.splice(0).map((p) => p.close()));
  }
}

/** A one-message chat request. */
export function hello(model: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model, messages: [{ role: 'user', content: 'Hello there' }], ...extra };
}

/** Generation requests in the simulator's log (models listings and the like left out). */
export function generations(sim: Simulator): SimulatorRequestLogEntry[] {
  return sim.requestLog().filter((e) => e.method === 'POST');
}

/** Polls `check` every 5 ms until it returns true; fails after `limitMs` (generous: a loaded machine is slow). */
export async function waitFor(check: () => boolean, what: string, limitMs = 7_500): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A fault rule as a scenario accepts it. */
export type FaultInput = NonNullable<ScenarioInput['faults']>[number];

/** A scenario with one fault on one provider's model. */
export function faultOn(
  provider: 'openai' | 'anthropic' | 'gemini',
  model: string,
  fault: Omit<FaultInput, 'match'>,
): ScenarioInput {
  return { faults: [{ ...fault, match: { provider, model } }] };
}
