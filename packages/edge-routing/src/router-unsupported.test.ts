import { RetryBudget } from '@llm-edge/retry';
import { type Simulator, startSimulator } from '@llm-edge/simulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RoutingError } from './errors';
import type { RouterOptions } from './options';
import { Router } from './router';
import { faultOn, generations, hello, ManualClock, SimulatorProviders } from './test-helpers';

let sim: Simulator;
let providers: SimulatorProviders;
let clock: ManualClock;

beforeAll(async () => {
  sim = await startSimulator({ seed: 17 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.setScenario({});
  sim.reset();
  providers = new SimulatorProviders(sim);
  clock = new ManualClock();
});
afterEach(async () => {
  await providers.closeAll();
});

/** Anthropic first, OpenAI second (the gateway's default order has OpenAI first; this is the hard case). */
function mixedRouter(extra: Partial<RouterOptions> = {}): Router {
  return new Router({
    providers: { anthropic: providers.anthropic(), openai: providers.openai(), gemini: providers.gemini() },
    targets: [
      { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5' },
      { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini', priority: 1 },
      { id: 'flash', provider: 'gemini', model: 'gemini-2.5-flash', priority: 2 },
      { id: 'embed', provider: 'openai', model: 'text-embedding-3-small', priority: 1 },
    ],
    aliases: [
      { name: 'mixed', targets: ['claude', 'gpt'] },
      { name: 'no-openai', targets: ['claude', 'flash'] },
      { name: 'embeddings', targets: ['claude', 'embed'] },
    ],
    retry: { maxRetries: 0 },
    clock,
    ...extra,
  });
}

const requestsTo = (provider: string) => generations(sim).filter((e) => e.provider === provider);
const health = (r: Router, id: string) => r.health().targets.find((t) => t.target.id === id)!;

async function rejection(call: Promise<unknown>): Promise<RoutingError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!RoutingError.isInstance(error)) throw new Error(`expected a RoutingError, got ${String(error)}`);
  return error;
}

describe('a field one target cannot honour fails over to a target that can', () => {
  it('seed on anthropic → openai serves it; nothing is sent to anthropic', async () => {
    const r = mixedRouter();
    const { target, attempts, response } = await r.chat(hello('mixed', { seed: 7 }));

    expect(target.id).toBe('gpt');
    expect(response.choices[0]!.message.content).toEqual(expect.any(String));
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatchObject({
      target: { id: 'claude' },
      outcome: 'error',
      error: { kind: 'unsupported', status: 400, param: 'seed' },
      next: 'next_target',
      failoverReason: 'unsupported: seed is not supported by this target; next target',
    });
    expect(attempts[1]).toMatchObject({
      target: { id: 'gpt' },
      outcome: 'success',
      chosenBecause: 'failover from claude (unsupported seed); priority 1',
    });
    expect(requestsTo('anthropic')).toEqual([]);
    expect(requestsTo('openai').map((e) => (e.body as { seed?: number }).seed)).toEqual([7]);
  });

  it('streams fail over the same way', async () => {
    const r = mixedRouter();
    const { stream, target } = await r.chatStream(hello('mixed', { seed: 7 }));
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(target.id).toBe('gpt');
    expect(text.length).toBeGreaterThan(0);
    expect(requestsTo('anthropic')).toEqual([]);
  });

  it('embeddings on an Anthropic target (no endpoint) fail over too', async () => {
    const r = mixedRouter();
    const { target, attempts } = await r.embeddings({ model: 'embeddings', input: 'alpha' });
    expect(target.id).toBe('embed');
    expect(attempts[0]).toMatchObject({
      target: { id: 'claude' },
      error: { kind: 'unsupported', param: 'model' },
    });
    expect(requestsTo('anthropic')).toEqual([]);
  });

  it('costs the refusing target nothing: no breaker failure, no cooldown, no failure count, no retry', async () => {
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0 });
    const r = mixedRouter({ breaker: { consecutiveFailures: 1 }, retry: { maxRetries: 3, budget } });
    const transitions: string[] = [];
    r.on('breaker', (e) => transitions.push(`${e.target.id}:${e.state}`));
    for (let i = 0; i < 4; i++) expect((await r.chat(hello('mixed', { seed: i }))).target.id).toBe('gpt');

    expect(transitions).toEqual([]);
    expect(health(r, 'claude')).toMatchObject({
      breaker: 'closed',
      available: true,
      cooldownUntil: undefined,
      failures: 0,
      lastError: undefined,
    });
    expect(budget.snapshot()).toMatchObject({ retries: 0 });
    // Without the field, claude is first again.
    expect((await r.chat(hello('mixed'))).target.id).toBe('claude');
  });
});

describe('no target of the route can honour the field', () => {
  it('anthropic and gemini both refuse logprobs: 400 naming the field, no upstream request, no retry', async () => {
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0 });
    const r = mixedRouter({ retry: { maxRetries: 3, budget } });
    const error = await rejection(r.chat(hello('no-openai', { logprobs: true })));

    expect(error).toMatchObject({
      code: 'LLM_EDGE_UNSUPPORTED_BY_TARGETS',
      status: 400,
      param: 'logprobs',
      retryable: false,
      publicMessage: 'No target of "no-openai" supports logprobs.',
    });
    expect(error.attempts.map((a) => [a.target.id, a.pass, a.error?.kind, a.next])).toEqual([
      ['claude', 1, 'unsupported', 'next_target'],
      ['flash', 1, 'unsupported', 'next_target'],
    ]);
    expect(generations(sim)).toEqual([]);
    expect(budget.snapshot()).toMatchObject({ retries: 0 });
  });

  it('different fields on different targets: each is named, param is the first target’s', async () => {
    const r = mixedRouter();
    const error = await rejection(r.chat(hello('no-openai', { seed: 1, user: 'u-1' })));
    expect(error).toMatchObject({ code: 'LLM_EDGE_UNSUPPORTED_BY_TARGETS', status: 400, param: 'seed' });
    expect(error.publicMessage).toBe(
      'No target of "no-openai" supports this request: claude does not support seed; flash does not support user.',
    );
    expect(generations(sim)).toEqual([]);
  });

  it('a direct provider/model address answers the same way', async () => {
    const r = mixedRouter();
    const error = await rejection(r.chatStream(hello('anthropic/claude-haiku-4-5', { seed: 3 })));
    expect(error).toMatchObject({ code: 'LLM_EDGE_UNSUPPORTED_BY_TARGETS', status: 400, param: 'seed' });
    expect(generations(sim)).toEqual([]);
  });
});

describe('unsupported next to real failures', () => {
  it('the other target fails: the status comes from the real failure, the message names the refusal', async () => {
    sim.setScenario(faultOn('openai', 'gpt-4o-mini', { kind: 'unavailable', count: 1 }));
    const r = mixedRouter();
    const error = await rejection(r.chat(hello('mixed', { seed: 7 })));
    expect(error).toMatchObject({ code: 'LLM_EDGE_ALL_TARGETS_FAILED', status: 503, retryable: true });
    expect(error.message).toContain('not tried claude (does not support seed)');
    expect(requestsTo('anthropic')).toEqual([]);
  });

  it('the other target is unavailable: NO_HEALTHY_TARGET (retry later), not a 400', async () => {
    sim.setScenario(faultOn('openai', 'gpt-4o-mini', { kind: 'server_error', count: 1 }));
    const r = mixedRouter({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 1000 } });
    await rejection(r.chat(hello('openai/gpt-4o-mini')));
    expect(health(r, 'gpt').breaker).toBe('open');

    const error = await rejection(r.chat(hello('mixed', { seed: 7 })));
    expect(error).toMatchObject({ code: 'LLM_EDGE_NO_HEALTHY_TARGET', status: 503, retryAfterMs: 1000 });
    expect(error.message).toBe(
      'No healthy target for "mixed": claude (does not support seed), gpt (breaker open)',
    );
  });

  it('a target waiting for its recovery probe does not spend the probe on a request it would refuse', async () => {
    sim.setScenario(faultOn('anthropic', 'claude-haiku-4-5', { kind: 'server_error', count: 1 }));
    const r = mixedRouter({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 1000 } });
    const transitions: string[] = [];
    r.on('breaker', (e) => transitions.push(`${e.target.id}:${e.state}`));
    expect((await r.chat(hello('mixed'))).target.id).toBe('gpt');
    expect(transitions).toEqual(['claude:open']);
    clock.advance(1000);
    expect(health(r, 'claude').available).toBe(true);

    // Probe due, but this request carries seed: claude is asked without a call, the breaker untouched.
    const seeded = await r.chat(hello('mixed', { seed: 7 }));
    expect(seeded.attempts.map((a) => [a.target.id, a.error?.kind ?? a.outcome])).toEqual([
      ['claude', 'unsupported'],
      ['gpt', 'success'],
    ]);
    expect(transitions).toEqual(['claude:open']);
    expect(health(r, 'claude')).toMatchObject({ breaker: 'open', halfOpenAt: clock.now(), failures: 1 });

    // The next request claude can take is the probe; the upstream has recovered, so it closes.
    expect((await r.chat(hello('mixed'))).target.id).toBe('claude');
    expect(transitions).toEqual(['claude:open', 'claude:half_open', 'claude:closed']);
    // The failure that opened the breaker and the probe: none for the seeded request.
    expect(requestsTo('anthropic')).toHaveLength(2);
  });
});
