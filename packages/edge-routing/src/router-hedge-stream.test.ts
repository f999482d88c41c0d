import { type ChatChunk, ProviderError } from '@llm-edge/providers';
import { type Simulator, startSimulator } from '@llm-edge/simulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RoutingError } from './errors';
import type { RouterOptions } from './options';
import { Router } from './router';
import {
  type FaultInput,
  faultOn,
  GENEROUS_FIRST_BYTE_MS,
  generations,
  hello,
  SimulatorProviders,
  waitFor,
} from './test-helpers';
import type { StreamEndEvent } from './types';

let sim: Simulator;
let providers: SimulatorProviders;

beforeAll(async () => {
  sim = await startSimulator({ seed: 21 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.setScenario({});
  sim.reset();
  providers = new SimulatorProviders(sim);
});
afterEach(async () => {
  await providers.closeAll();
});

const onOpenAI = (fault: Omit<FaultInput, 'match'>) => faultOn('openai', 'gpt-4o-mini', fault);

function router(extra: Partial<RouterOptions> = {}): Router {
  return new Router({
    providers: { openai: providers.openai(), anthropic: providers.anthropic() },
    targets: [
      { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' },
      { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 1 },
    ],
    aliases: [{ name: 'fast', targets: ['gpt', 'claude'] }],
    retry: { maxRetries: 0 },
    ...extra,
  });
}

async function drain(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('hedging', () => {
  const requests = 12;

  async function run(stall: Omit<FaultInput, 'match'>, hedgeDelayMs: number | undefined) {
    // About a third of gpt's answers stall (the fault draws are seeded, so the same ones every run).
    sim.setScenario(onOpenAI({ ...stall, probability: 0.35 }));
    sim.reset();
    const r = router({
      aliases: [
        { name: 'fast', targets: ['gpt', 'claude'], ...(hedgeDelayMs === undefined ? {} : { hedgeDelayMs }) },
      ],
    });
    const results = [];
    for (let i = 0; i < requests; i++) results.push(await r.chat(hello('fast')));
    // Longer than any stall below could last by itself, shorter than the adapters' first-byte
    // budget: a stall still open here was neither waited out nor cancelled.
    await waitFor(
      () => generations(sim).every((e) => e.outcome !== 'in_progress'),
      'upstream requests to end',
      GENEROUS_FIRST_BYTE_MS / 2,
    );
    const gptLog = generations(sim).filter((e) => e.provider === 'openai');
    return {
      results,
      stalled: gptLog.filter((e) => e.fault === 'hang').length,
      waitedOut: gptLog.filter((e) => e.outcome === 'fault:hang').length,
      cancelled: gptLog.filter((e) => e.fault === 'hang' && e.outcome === 'client_closed').length,
      router: r,
    };
  }

  it('without hedging, every stalled gpt call is waited out before failing over', async () => {
    // Each stall lasts 400 ms, then the connection drops.
    const plain = await run({ kind: 'hang', hangMs: 400 }, undefined);
    expect(plain.stalled).toBeGreaterThan(0);
    expect(plain.waitedOut).toBe(plain.stalled);
    const viaFailover = plain.results.filter((r) => r.target.id === 'claude');
    expect(viaFailover).toHaveLength(plain.stalled);
    for (const r of viaFailover)
      expect(r.attempts[0]).toMatchObject({ target: { id: 'gpt' }, error: { kind: 'network' } });
  });

  it('with hedging, the stalled gpt calls lose to a hedged claude call and are cancelled upstream', async () => {
    // Here a stall never ends by itself (and the first-byte budget outlasts the test), so however
    // slow the machine, a request can only finish through the hedge, and a stalled call only ends
    // when the router cancels it.
    const hedged = await run({ kind: 'hang' }, 100);
    expect(hedged.stalled).toBeGreaterThan(0);
    expect(hedged.waitedOut).toBe(0);
    expect(hedged.cancelled).toBe(hedged.stalled);
    const claudeWins = hedged.results.filter((r) => r.target.id === 'claude');
    expect(claudeWins.length).toBeGreaterThanOrEqual(hedged.stalled);
    for (const r of claudeWins) {
      const winner = r.attempts.find((a) => a.outcome === 'success')!;
      expect(winner).toMatchObject({ target: { id: 'claude' }, hedge: true });
      expect(winner.chosenBecause).toBe('hedge after 100ms; priority 1');
      expect(r.attempts.find((a) => a.target.id === 'gpt')!.outcome).toBe('cancelled');
    }
    expect(hedged.router.health().targets.every((t) => t.inFlight === 0)).toBe(true);
  });

  it('hedges streams on the first token and aborts the slower stream', async () => {
    sim.setScenario(onOpenAI({ kind: 'hang', count: 1 }));
    const r = router({ aliases: [{ name: 'fast', targets: ['gpt', 'claude'], hedgeDelayMs: 50 }] });
    const { stream, target, attempts } = await r.chatStream(hello('fast'));
    expect(target.id).toBe('claude');
    expect(attempts.map((a) => [a.target.id, a.outcome, a.hedge])).toEqual([
      ['gpt', 'cancelled', false],
      ['claude', 'success', true],
    ]);
    expect(attempts[1]!.ttftMs).toEqual(expect.any(Number));
    const chunks = await drain(stream);
    expect(chunks.length).toBeGreaterThan(1);
    await expect
      .poll(() => generations(sim).find((e) => e.provider === 'openai')!.outcome)
      .toBe('client_closed');
  });

  it('hedges on the first token, not on an opening chunk without one', async () => {
    // Anthropic's stream opens with message_start (a role-only chunk) at once; here its first token
    // then takes 10 s (far beyond the 50 ms hedge, however loaded the machine), while gpt-4o-mini
    // answers in 1 ms.
    const slow = await startSimulator({
      seed: 4,
      timeScale: 1,
      scenario: {
        profiles: {
          'claude-haiku-4-5': { ttftMs: { p50: 10_000, p99: 10_000 }, itlMs: { p50: 0, p99: 0 } },
          'gpt-4o-mini': { ttftMs: { p50: 1, p99: 1 }, itlMs: { p50: 0, p99: 0 } },
        },
      },
    });
    const local = new SimulatorProviders(slow);
    try {
      const r = new Router({
        providers: { openai: local.openai(), anthropic: local.anthropic() },
        targets: [
          { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5' },
          { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini', priority: 1 },
        ],
        aliases: [{ name: 'fast', targets: ['claude', 'gpt'], hedgeDelayMs: 50 }],
      });
      const { stream, target, attempts } = await r.chatStream(hello('fast'));
      expect(target.id).toBe('gpt');
      expect(attempts.map((a) => [a.target.id, a.outcome, a.hedge])).toEqual([
        ['claude', 'cancelled', false],
        ['gpt', 'success', true],
      ]);
      const chunks = await drain(stream);
      expect(chunks.every((c) => c.model.startsWith('gpt'))).toBe(true);
      await expect
        .poll(() => generations(slow).find((e) => e.provider === 'anthropic')!.outcome)
        .toBe('client_closed');
    } finally {
      await local.closeAll();
      await slow.close();
    }
  });
});

describe('caller abort', () => {
  it('cancels the upstream request in flight', async () => {
    sim.setScenario(onOpenAI({ kind: 'hang' }));
    const r = router();
    const controller = new AbortController();
    const pending = r.chat(hello('fast'), { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => generations(sim).some((e) => e.outcome === 'in_progress'), 'the upstream request');
    controller.abort(new Error('client went away'));

    const error = (await pending) as RoutingError;
    expect(RoutingError.isInstance(error)).toBe(true);
    expect(error.code).toBe('LLM_EDGE_ROUTING_ABORTED');
    expect(error.status).toBe(499);
    expect(error.attempts.map((a) => [a.target.id, a.outcome])).toEqual([['gpt', 'aborted']]);
    await expect.poll(() => generations(sim)[0]!.outcome).toBe('client_closed');
    expect(generations(sim)).toHaveLength(1);
    const gpt = r.health().targets.find((t) => t.target.id === 'gpt')!;
    expect(gpt).toMatchObject({ inFlight: 0, failures: 0, breaker: 'closed' });
  });

  it('cancels every hedged attempt', async () => {
    sim.setScenario({ faults: [{ kind: 'hang' }] });
    const r = router({ aliases: [{ name: 'fast', targets: ['gpt', 'claude'], hedgeDelayMs: 20 }] });
    const controller = new AbortController();
    const pending = r.chat(hello('fast'), { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(
      () => generations(sim).filter((e) => e.outcome === 'in_progress').length === 2,
      'both attempts',
    );
    controller.abort();
    expect(((await pending) as RoutingError).code).toBe('LLM_EDGE_ROUTING_ABORTED');
    await expect
      .poll(() => generations(sim).map((e) => e.outcome))
      .toEqual(['client_closed', 'client_closed']);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const r = router();
    const error = (await r
      .chat(hello('fast'), { signal: AbortSignal.abort() })
      .catch((e: unknown) => e)) as RoutingError;
    expect(error.code).toBe('LLM_EDGE_ROUTING_ABORTED');
    expect(generations(sim)).toHaveLength(0);
  });

  it('cancels a committed stream mid-way', async () => {
    sim.setScenario(onOpenAI({ kind: 'trickle', intervalMs: 50 }));
    const r = router();
    const ends: StreamEndEvent[] = [];
    r.on('stream-end', (e) => ends.push(e));
    const controller = new AbortController();
    const { stream } = await r.chatStream(hello('fast'), { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    controller.abort();
    // Chunks already received before the first token may still be handed out; then the read fails.
    const error = await (async () => {
      while (!(await iterator.next()).done) {
        // keep reading until the aborted upstream read fails
      }
      return 'ended without an error';
    })().catch((e: unknown) => e);
    expect(ProviderError.isInstance(error) && error.kind).toBe('aborted');
    await expect.poll(() => generations(sim)[0]!.outcome).toBe('client_closed');
    expect(ends).toMatchObject([{ outcome: 'cancelled', target: { id: 'gpt' } }]);
    expect(r.health().targets.every((t) => t.inFlight === 0)).toBe(true);
  });
});

describe('streams', () => {
  it('fails over before the first chunk, then stays on the committed target', async () => {
    sim.setScenario(onOpenAI({ kind: 'unavailable', count: 1 }));
    const r = router();
    const ends: StreamEndEvent[] = [];
    r.on('stream-end', (e) => ends.push(e));
    const { stream, target, attempts } = await r.chatStream(hello('fast'));
    expect(target.id).toBe('claude');
    expect(attempts.map((a) => a.outcome)).toEqual(['error', 'success']);
    const chunks = await drain(stream);
    expect(chunks.at(-1)!.usage).toBeTruthy();
    expect(chunks.filter((c) => c.choices.length > 0).every((c) => c.model.startsWith('claude'))).toBe(true);
    expect(ends).toMatchObject([{ outcome: 'completed', target: { id: 'claude' }, chunks: chunks.length }]);
  });

  it('never splices: a mid-stream failure surfaces from the iterator with no failover', async () => {
    sim.setScenario(onOpenAI({ kind: 'disconnect', afterChunks: 2, count: 1 }));
    const r = router();
    const ends: StreamEndEvent[] = [];
    r.on('stream-end', (e) => ends.push(e));
    const { stream, target } = await r.chatStream(hello('fast'));
    expect(target.id).toBe('gpt');
    const seen: ChatChunk[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    expect(generations(sim).map((e) => e.provider)).toEqual(['openai']);
    expect(ends).toMatchObject([{ outcome: 'error', target: { id: 'gpt' } }]);
    expect(r.health().targets.find((t) => t.target.id === 'gpt')!.failures).toBe(1);
  });

  it('breaking out of the loop closes the upstream stream', async () => {
    sim.setScenario(onOpenAI({ kind: 'trickle', intervalMs: 50 }));
    const r = router();
    const { stream } = await r.chatStream(hello('fast'));
    for await (const _chunk of stream) break;
    await expect.poll(() => generations(sim)[0]!.outcome).toBe('client_closed');
    expect(r.health().targets.every((t) => t.inFlight === 0)).toBe(true);
  });

  it('return() before reading closes the upstream too', async () => {
    sim.setScenario(onOpenAI({ kind: 'trickle', intervalMs: 50 }));
    const r = router();
    const { stream } = await r.chatStream(hello('fast'));
    await stream[Symbol.asyncIterator]().return?.();
    await expect.poll(() => generations(sim)[0]!.outcome).toBe('client_closed');
  });
});

describe('embeddings', () => {
  it('fails over between embedding targets', async () => {
    sim.setScenario({
      faults: [{ kind: 'server_error', count: 1, match: { model: 'text-embedding-3-small' } }],
    });
    const r = new Router({
      providers: { openai: providers.openai() },
      targets: [
        { id: 'small', provider: 'openai', model: 'text-embedding-3-small' },
        { id: 'large', provider: 'openai', model: 'text-embedding-3-large', priority: 1 },
      ],
      aliases: [{ name: 'embed', targets: ['small', 'large'] }],
    });
    const { response, target, attempts } = await r.embeddings({ model: 'embed', input: 'hello' });
    expect(target.id).toBe('large');
    expect(response.data).toHaveLength(1);
    expect(attempts.map((a) => [a.operation, a.outcome])).toEqual([
      ['embeddings', 'error'],
      ['embeddings', 'success'],
    ]);
  });
});
