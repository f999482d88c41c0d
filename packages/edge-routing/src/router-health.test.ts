import { ProviderError } from '@llm-edge/providers';
import { exponentialBackoff } from '@llm-edge/retry';
import { type Simulator, startSimulator } from '@llm-edge/simulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RoutingError } from './errors';
import type { RouterOptions } from './options';
import { Router } from './router';
import {
  type FaultInput,
  faultOn,
  generations,
  hello,
  ManualClock,
  SimulatorProviders,
  seededRandom,
} from './test-helpers';

let sim: Simulator;
let providers: SimulatorProviders;
let clock: ManualClock;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5 });
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

const gptFails = (fault: Omit<FaultInput, 'match'> = { kind: 'server_error' }) =>
  faultOn('openai', 'gpt-4o-mini', fault);

function router(extra: Partial<RouterOptions> = {}): Router {
  return new Router({
    providers: { openai: providers.openai(), anthropic: providers.anthropic() },
    targets: [
      { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' },
      { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 1 },
    ],
    aliases: [{ name: 'fast', targets: ['gpt', 'claude'] }],
    retry: { maxRetries: 0 },
    clock,
    ...extra,
  });
}

const openaiRequests = () => generations(sim).filter((e) => e.provider === 'openai').length;
const gptHealth = (r: Router) => r.health().targets.find((t) => t.target.id === 'gpt')!;

describe('circuit breaker', () => {
  it('opens after N consecutive failures, half-opens after the delay, re-opens on a failed probe, recovers', async () => {
    sim.setScenario(gptFails());
    const r = router({
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 1000, maxHalfOpenAfterMs: 4000 },
    });
    const transitions: string[] = [];
    r.on('breaker', (e) => transitions.push(`${e.target.id}:${e.state}`));

    for (let i = 0; i < 3; i++) expect((await r.chat(hello('fast'))).target.id).toBe('claude');
    expect(transitions).toEqual(['gpt:open']);
    expect(gptHealth(r)).toMatchObject({
      breaker: 'open',
      available: false,
      halfOpenAt: clock.now() + 1000,
      failures: 3,
      lastError: { kind: 'server', status: 500 },
    });
    expect(r.health().ready).toBe(true);

    // Open: gpt is not even tried.
    const skipped = await r.chat(hello('fast'));
    expect(skipped.attempts.map((a) => a.target.id)).toEqual(['claude']);
    clock.advance(999);
    await r.chat(hello('fast'));
    expect(openaiRequests()).toBe(3);

    // Half-open: one probe; it fails, so the breaker re-opens with a doubled delay.
    clock.advance(1);
    expect(gptHealth(r).available).toBe(true);
    const probe = await r.chat(hello('fast'));
    expect(probe.attempts.map((a) => [a.target.id, a.outcome])).toEqual([
      ['gpt', 'error'],
      ['claude', 'success'],
    ]);
    expect(transitions).toEqual(['gpt:open', 'gpt:half_open', 'gpt:open']);
    expect(gptHealth(r).halfOpenAt).toBe(clock.now() + 2000);

    // The upstream recovers; the next probe closes the breaker.
    sim.setScenario({});
    clock.advance(2000);
    const recovered = await r.chat(hello('fast'));
    expect(recovered.target.id).toBe('gpt');
    expect(transitions).toEqual(['gpt:open', 'gpt:half_open', 'gpt:open', 'gpt:half_open', 'gpt:closed']);
    expect(gptHealth(r)).toMatchObject({ breaker: 'closed', available: true, halfOpenAt: undefined });
    expect((await r.chat(hello('fast'))).target.id).toBe('gpt');
  });

  it('opens on a failure ratio in a window', async () => {
    const r = router({
      breaker: { consecutiveFailures: 0, failureRatio: { threshold: 0.5, windowSize: 4 } },
    });
    const sequence = ['fail', 'ok', 'fail', 'fail'] as const;
    const states: string[] = [];
    for (const step of sequence) {
      sim.setScenario(step === 'fail' ? gptFails() : {});
      await r.chat(hello('fast'));
      states.push(gptHealth(r).breaker);
    }
    // 2 of 3 failed: below the 4-call minimum; 3 of 4 failed: above 50%.
    expect(states).toEqual(['closed', 'closed', 'closed', 'open']);
  });

  it('a single-target route with an open breaker fails fast with NO_HEALTHY_TARGET and when to retry', async () => {
    sim.setScenario(gptFails());
    const r = router({ breaker: { consecutiveFailures: 2, halfOpenAfterMs: 1500 } });
    for (let i = 0; i < 2; i++) {
      const e = (await r.chat(hello('gpt')).catch((x: unknown) => x)) as RoutingError;
      expect(e.code).toBe('LLM_EDGE_ALL_TARGETS_FAILED');
    }
    clock.advance(500);
    const error = (await r.chat(hello('gpt')).catch((x: unknown) => x)) as RoutingError;
    expect(RoutingError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'LLM_EDGE_NO_HEALTHY_TARGET', status: 503, retryAfterMs: 1000 });
    expect(error.message).toContain('gpt (breaker open)');
    expect(openaiRequests()).toBe(2);
  });

  it('a half-open probe that loses a hedge race proves nothing: the breaker re-opens', async () => {
    sim.setScenario(gptFails({ kind: 'server_error', count: 1 }));
    const r = router({
      breaker: { consecutiveFailures: 1, halfOpenAfterMs: 1000 },
      aliases: [{ name: 'fast', targets: ['gpt', 'claude'], hedgeDelayMs: 20 }],
    });
    const transitions: string[] = [];
    r.on('breaker', (e) => transitions.push(e.state));
    await r.chat(hello('fast'));
    clock.advance(1000);
    sim.setScenario(gptFails({ kind: 'hang' }));
    const { target, attempts } = await r.chat(hello('fast'));
    expect(target.id).toBe('claude');
    expect(attempts.map((a) => [a.target.id, a.outcome])).toEqual([
      ['gpt', 'cancelled'],
      ['claude', 'success'],
    ]);
    await expect.poll(() => transitions).toEqual(['open', 'half_open', 'open']);
    expect(gptHealth(r).breaker).toBe('open');
  });

  it('does not count rate limits, client errors or aborts against the breaker', async () => {
    const r = router({ breaker: { consecutiveFailures: 1 } });
    sim.setScenario(gptFails({ kind: 'error', status: 400, count: 1 }));
    await r.chat(hello('fast')).catch(() => undefined);
    sim.setScenario(gptFails({ kind: 'rate_limit', count: 1, retryAfterMs: 10 }));
    await r.chat(hello('fast'));
    expect(gptHealth(r).breaker).toBe('closed');
  });
});

describe('cooldown after 429/529', () => {
  it('keeps a rate-limited target out until its Retry-After has passed', async () => {
    sim.setScenario(gptFails({ kind: 'rate_limit', count: 1, retryAfterSeconds: 2 }));
    const r = router();
    const first = await r.chat(hello('fast'));
    expect(first.target.id).toBe('claude');
    expect(first.attempts[0]!.error).toMatchObject({ kind: 'rate_limit', status: 429, retryAfterMs: 2000 });
    expect(gptHealth(r)).toMatchObject({
      available: false,
      cooldownUntil: clock.now() + 2000,
      breaker: 'closed',
    });

    clock.advance(1999);
    expect((await r.chat(hello('fast'))).target.id).toBe('claude');
    expect(openaiRequests()).toBe(1);

    clock.advance(1);
    expect(gptHealth(r).cooldownUntil).toBeUndefined();
    expect((await r.chat(hello('fast'))).target.id).toBe('gpt');
    expect(openaiRequests()).toBe(2);
  });

  it('caps the cooldown and uses the default when no Retry-After is sent', async () => {
    sim.setScenario(gptFails({ kind: 'overloaded', count: 1, retryAfterSeconds: 600 }));
    const r = router({ cooldown: { maxMs: 5000 } });
    await r.chat(hello('fast'));
    expect(gptHealth(r).cooldownUntil).toBe(clock.now() + 5000);
  });
});

describe('retry passes', () => {
  it('reports NO_HEALTHY_TARGET with the upstream cause when every target is still cooling down', async () => {
    sim.setScenario(gptFails({ kind: 'rate_limit', retryAfterSeconds: 5 }));
    const r = router({
      retry: { maxRetries: 1, backoff: exponentialBackoff({ baseDelayMs: 1, maxDelayMs: 5 }) },
    });
    const error = (await r.chat(hello('gpt')).catch((e: unknown) => e)) as RoutingError;
    expect(error).toMatchObject({ code: 'LLM_EDGE_NO_HEALTHY_TARGET', retryAfterMs: 5000, retryable: true });
    expect(ProviderError.isInstance(error.cause) && error.cause.kind).toBe('rate_limit');
    expect(error.attempts).toHaveLength(1);
    expect(openaiRequests()).toBe(1);
  });
});

describe('strategies through the router', () => {
  it('weighted: honours 1:3 weights within 3 sigma with a seeded random source', async () => {
    const r = router({
      aliases: [{ name: 'mix', targets: ['gpt', 'claude'], strategy: 'weighted' }],
      targets: [
        { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini', weight: 1 },
        { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', weight: 3 },
      ],
      random: seededRandom(2024),
    });
    const n = 200;
    const wins = { gpt: 0, claude: 0 };
    for (let i = 0; i < n; i++) {
      const { target } = await r.chat(hello('mix'));
      wins[target.id as 'gpt' | 'claude']++;
    }
    const sigma = Math.sqrt(n * 0.75 * 0.25);
    expect(Math.abs(wins.claude - n * 0.75)).toBeLessThan(3 * sigma);
    expect(wins.gpt + wins.claude).toBe(n);
    expect(generations(sim).filter((e) => e.provider === 'anthropic')).toHaveLength(wins.claude);
  });

  it('round-robin: alternates between targets', async () => {
    const r = router({ aliases: [{ name: 'rr', targets: ['gpt', 'claude'], strategy: 'round-robin' }] });
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await r.chat(hello('rr'))).target.id);
    expect(order).toEqual(['gpt', 'claude', 'gpt', 'claude']);
  });

  it('least-busy: sends the next request to the target with fewer requests in flight', async () => {
    sim.setScenario(gptFails({ kind: 'trickle', intervalMs: 30 }));
    const r = router({ aliases: [{ name: 'busy', targets: ['gpt', 'claude'], strategy: 'least-busy' }] });
    const open = await r.chatStream(hello('busy'));
    expect(open.target.id).toBe('gpt');
    const second = await r.chat(hello('busy'));
    expect(second.target.id).toBe('claude');
    expect(second.attempts[0]!.chosenBecause).toBe('least-busy (0 in flight)');
    await open.stream[Symbol.asyncIterator]().return?.();
    expect((await r.chat(hello('busy'))).target.id).toBe('gpt');
  });

  it('least-latency: records moving averages in health', async () => {
    const r = router({ aliases: [{ name: 'quick', targets: ['gpt', 'claude'], strategy: 'least-latency' }] });
    await r.chat(hello('quick'));
    const h = r.health();
    // The manual clock does not move during a call, so the measured latency is exactly 0.
    expect(h.targets.find((t) => t.target.id === 'gpt')).toMatchObject({
      latencyMs: 0,
      successes: 1,
      inFlight: 0,
    });
    expect(h.targets.find((t) => t.target.id === 'claude')!.latencyMs).toBeUndefined();
  });
});

describe('health and models', () => {
  it('reports readiness per alias and lists models', async () => {
    sim.setScenario(gptFails({ kind: 'rate_limit', count: 1, retryAfterSeconds: 5 }));
    const r = router({
      targets: [
        { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' },
        { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 1 },
      ],
      aliases: [
        { name: 'fast', targets: ['gpt', 'claude'] },
        { name: 'gpt-only', targets: ['gpt'] },
      ],
    });
    expect(r.health()).toMatchObject({ ready: true, listenerErrors: 0 });
    await r.chat(hello('fast'));
    const h = r.health();
    expect(h.ready).toBe(false);
    expect(h.aliases).toEqual([
      { name: 'fast', available: 1, total: 2 },
      { name: 'gpt-only', available: 0, total: 1 },
    ]);
    expect(r.models()).toEqual([
      { id: 'fast', ownedBy: 'llm-edge' },
      { id: 'gpt-only', ownedBy: 'llm-edge' },
      { id: 'openai/gpt-4o-mini', ownedBy: 'openai' },
      { id: 'anthropic/claude-haiku-4-5', ownedBy: 'anthropic' },
    ]);
  });

  it('counts a throwing listener instead of failing the request', async () => {
    const r = router();
    r.on('attempt', () => {
      throw new Error('listener bug');
    });
    const { target } = await r.chat(hello('fast'));
    expect(target.id).toBe('gpt');
    expect(r.health().listenerErrors).toBe(1);
  });

  it('routes an unconfigured provider/model address with its own breaker state', async () => {
    const r = router();
    const { target } = await r.chat(hello('openai/gpt-4o'));
    expect(target).toEqual({ id: 'openai/gpt-4o', provider: 'openai', model: 'gpt-4o' });
    expect(generations(sim).map((e) => e.model)).toEqual(['gpt-4o']);
  });
});
