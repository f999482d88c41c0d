import { ProviderError } from '@llm-edge/providers';
import { RetryBudget } from '@llm-edge/retry';
import { type Simulator, startSimulator } from '@llm-edge/simulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RoutingError } from './errors';
import type { RouterOptions } from './options';
import { Router } from './router';
import { type FaultInput, faultOn, generations, hello, SimulatorProviders } from './test-helpers';
import type { AttemptEvent } from './types';

let sim: Simulator;
let providers: SimulatorProviders;

beforeAll(async () => {
  sim = await startSimulator({ seed: 11 });
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

/**
 * gpt-4o-mini on OpenAI first, Claude Haiku on Anthropic as the fallback. OpenAI's first-byte
 * budget is generous unless a test that makes it hang asks for a short one.
 */
function fastRouter(extra: Partial<RouterOptions> = {}, openaiFirstByteMs?: number): Router {
  return new Router({
    providers: {
      openai: providers.openai(
        openaiFirstByteMs === undefined ? {} : { timeouts: { firstByteMs: openaiFirstByteMs } },
      ),
      anthropic: providers.anthropic(),
    },
    targets: [
      { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' },
      { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 1 },
    ],
    aliases: [{ name: 'fast', targets: ['gpt', 'claude'] }],
    retry: { maxRetries: 0 },
    ...extra,
  });
}

const openaiFault = (fault: Omit<FaultInput, 'match'>) => faultOn('openai', 'gpt-4o-mini', fault);

describe('failover on retryable kinds', () => {
  const cases: {
    fault: Parameters<typeof openaiFault>[0];
    kind: string;
    outcome: string;
    /** Only the hang needs a short first-byte budget; its outcome is asserted, not how long it took. */
    firstByteMs?: number;
  }[] = [
    { fault: { kind: 'rate_limit', count: 1 }, kind: 'rate_limit', outcome: 'fault:rate_limit' },
    { fault: { kind: 'server_error', count: 1 }, kind: 'server', outcome: 'fault:server_error' },
    { fault: { kind: 'unavailable', count: 1 }, kind: 'overloaded', outcome: 'fault:unavailable' },
    { fault: { kind: 'overloaded', count: 1 }, kind: 'overloaded', outcome: 'fault:overloaded' },
    { fault: { kind: 'hang', count: 1 }, kind: 'timeout', outcome: 'client_closed', firstByteMs: 250 },
    { fault: { kind: 'reset', count: 1 }, kind: 'network', outcome: 'fault:reset' },
  ];

  for (const { fault, kind, outcome, firstByteMs } of cases) {
    it(`${fault.kind} → ${kind} → next target`, async () => {
      sim.setScenario(openaiFault(fault));
      const router = fastRouter({}, firstByteMs);
      const seen: AttemptEvent[] = [];
      router.on('attempt', (e) => seen.push(e));

      const { response, target, attempts } = await router.chat(hello('fast'));

      expect(target.id).toBe('claude');
      expect(response.choices[0]!.message.content).toEqual(expect.any(String));
      expect(attempts).toHaveLength(2);
      expect(attempts[0]).toMatchObject({
        target: { id: 'gpt' },
        outcome: 'error',
        error: { kind },
        next: 'next_target',
        failoverReason: `${kind}: next target`,
        chosenBecause: 'priority 0',
      });
      expect(attempts[1]).toMatchObject({ target: { id: 'claude' }, outcome: 'success', hedge: false });
      expect(attempts[1]!.chosenBecause).toBe(`failover from gpt (${kind}); priority 1`);
      expect(seen).toEqual(attempts);

      const log = generations(sim);
      expect(log.map((e) => [e.provider, e.model])).toEqual([
        ['openai', 'gpt-4o-mini'],
        ['anthropic', 'claude-haiku-4-5'],
      ]);
      await expect.poll(() => generations(sim)[0]!.outcome).toBe(outcome);
    });
  }
});

describe('no failover on kinds another target would repeat', () => {
  const cases: {
    name: string;
    fault: Parameters<typeof openaiFault>[0];
    kind: string;
    /** What the upstream answered. */
    status: number;
    /** What the gateway's client is told. */
    gatewayStatus: number;
    /** Whether the upstream's own message is passed on to the client. */
    exposed: boolean;
  }[] = [
    {
      name: 'bad_request',
      fault: {
        kind: 'error',
        status: 400,
        errorCode: 'invalid_value',
        param: 'temperature',
        message: 'temperature is out of range',
      },
      kind: 'bad_request',
      status: 400,
      gatewayStatus: 400,
      exposed: true,
    },
    {
      name: 'content_filter',
      fault: {
        kind: 'error',
        status: 400,
        errorCode: 'content_filter',
        message: 'flagged by the content filter',
      },
      kind: 'content_filter',
      status: 400,
      gatewayStatus: 400,
      exposed: true,
    },
    {
      // The upstream refused the gateway's own credentials: a gateway failure, not the client's 401.
      name: 'auth',
      fault: { kind: 'error', status: 401, errorCode: 'invalid_api_key', message: 'bad key sk-test-openai' },
      kind: 'auth',
      status: 401,
      gatewayStatus: 502,
      exposed: false,
    },
  ];

  for (const { name, fault, kind, status, gatewayStatus, exposed } of cases) {
    it(`${name} stops at the first target`, async () => {
      sim.setScenario(openaiFault({ ...fault, count: 1 }));
      const router = fastRouter({ retry: { maxRetries: 2 } });
      const error = await router.chat(hello('fast')).catch((e: unknown) => e);

      expect(RoutingError.isInstance(error)).toBe(true);
      const routing = error as RoutingError;
      expect(routing.code).toBe('LLM_EDGE_REQUEST_REJECTED');
      expect(routing.status).toBe(gatewayStatus);
      expect(routing.publicMessage).toBe(exposed ? fault.message : undefined);
      expect(routing.param).toBe(exposed ? fault.param : undefined);
      expect(routing.retryable).toBe(false);
      expect(ProviderError.isInstance(routing.cause)).toBe(true);
      expect((routing.cause as ProviderError).kind).toBe(kind);
      expect(routing.attempts).toHaveLength(1);
      expect(routing.attempts[0]).toMatchObject({ outcome: 'error', next: 'stop', error: { kind, status } });
      expect(generations(sim).map((e) => e.provider)).toEqual(['openai']);
    });
  }

  it('not_found (a model the upstream does not serve) stops at the first target', async () => {
    const router = new Router({
      providers: { openai: providers.openai(), anthropic: providers.anthropic() },
      targets: [
        { id: 'gone', provider: 'openai', model: 'gpt-retired-model' },
        { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 1 },
      ],
      aliases: [{ name: 'fast', targets: ['gone', 'claude'] }],
    });
    const error = (await router.chat(hello('fast')).catch((e: unknown) => e)) as RoutingError;
    expect(error.code).toBe('LLM_EDGE_REQUEST_REJECTED');
    expect(error.status).toBe(404);
    expect((error.cause as ProviderError).kind).toBe('not_found');
    expect(error.publicMessage).toContain('gpt-retired-model');
    expect(generations(sim).map((e) => e.provider)).toEqual(['openai']);
  });

  it('auth with a key the upstream really refuses', async () => {
    const guarded = await startSimulator({ seed: 3, apiKeys: ['sk-right', 'sk-ant-right'] });
    const local = new SimulatorProviders(guarded);
    try {
      const router = new Router({
        providers: {
          openai: local.openai({ apiKey: 'sk-wrong' }),
          anthropic: local.anthropic({ apiKey: 'sk-ant-right' }),
        },
        targets: [
          { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' },
          { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 1 },
        ],
        aliases: [{ name: 'fast', targets: ['gpt', 'claude'] }],
      });
      const error = (await router.chat(hello('fast')).catch((e: unknown) => e)) as RoutingError;
      expect(error.code).toBe('LLM_EDGE_REQUEST_REJECTED');
      expect(error.status).toBe(502);
      expect(error.publicMessage).toBeUndefined();
      expect((error.cause as ProviderError).kind).toBe('auth');
      expect(generations(guarded).map((e) => [e.provider, e.status])).toEqual([['openai', 401]]);
    } finally {
      await local.closeAll();
      await guarded.close();
    }
  });
});

describe('context_length', () => {
  it('fails over only to a target with a larger context window', async () => {
    sim.setScenario(
      openaiFault({
        kind: 'error',
        status: 400,
        errorCode: 'context_length_exceeded',
        param: 'messages',
        count: 1,
      }),
    );
    const router = new Router({
      providers: { openai: providers.openai(), anthropic: providers.anthropic() },
      targets: [
        { id: 'mini', provider: 'openai', model: 'gpt-4o-mini' }, // 128k
        { id: '4o', provider: 'openai', model: 'gpt-4o', priority: 1 }, // 128k: no larger
        { id: 'haiku', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 2 }, // 200k
      ],
      aliases: [{ name: 'long', targets: ['mini', '4o', 'haiku'] }],
    });
    const { target, attempts } = await router.chat(hello('long'));
    expect(target.id).toBe('haiku');
    expect(attempts.map((a) => [a.target.id, a.outcome, a.next])).toEqual([
      ['mini', 'error', 'larger_context'],
      ['haiku', 'success', undefined],
    ]);
    expect(generations(sim).map((e) => e.model)).toEqual(['gpt-4o-mini', 'claude-haiku-4-5']);
  });

  it('gives up when no larger window is configured, without a retry pass', async () => {
    sim.setScenario(
      openaiFault({
        kind: 'error',
        status: 400,
        errorCode: 'context_length_exceeded',
        param: 'messages',
        message: 'too many tokens for this model',
      }),
    );
    const router = new Router({
      providers: { openai: providers.openai() },
      targets: [
        { id: 'mini', provider: 'openai', model: 'gpt-4o-mini' },
        { id: '4o', provider: 'openai', model: 'gpt-4o', priority: 1 },
      ],
      aliases: [{ name: 'long', targets: ['mini', '4o'] }],
      retry: { maxRetries: 3 },
    });
    const error = (await router.chat(hello('long')).catch((e: unknown) => e)) as RoutingError;
    expect(error.code).toBe('LLM_EDGE_ALL_TARGETS_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('4o (context window not larger)');
    // The request itself is too long for every target: the client's error, with the upstream's words.
    expect(error).toMatchObject({
      status: 400,
      publicMessage: 'too many tokens for this model',
      param: 'messages',
    });
    expect(generations(sim)).toHaveLength(1);
  });
});

describe('retries and the shared budget', () => {
  it('runs another pass after every target failed, honouring Retry-After', async () => {
    sim.setScenario(openaiFault({ kind: 'rate_limit', count: 1, retryAfterMs: 60 }));
    const router = new Router({
      providers: { openai: providers.openai() },
      targets: [{ id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' }],
      retry: { maxRetries: 1 },
    });
    const { target, attempts } = await router.chat(hello('openai/gpt-4o-mini'));
    expect(target.id).toBe('gpt');
    expect(attempts.map((a) => [a.pass, a.outcome])).toEqual([
      [1, 'error'],
      [2, 'success'],
    ]);
    expect(attempts[0]!.error).toMatchObject({ kind: 'rate_limit', retryAfterMs: 60 });
    expect(attempts[1]!.chosenBecause).toBe('retry pass 2; priority 0');
    // The second pass waited for the cooldown the upstream asked for (timers never fire early).
    const log = generations(sim);
    expect(log[1]!.startedAt - log[0]!.endedAt!).toBeGreaterThanOrEqual(59);
  });

  it('stops retrying when the shared budget is spent', async () => {
    sim.setScenario(openaiFault({ kind: 'server_error' }));
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0 });
    const router = new Router({
      providers: { openai: providers.openai() },
      targets: [{ id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' }],
      retry: { maxRetries: 5, budget },
    });
    const error = (await router.chat(hello('gpt')).catch((e: unknown) => e)) as RoutingError;
    expect(error.code).toBe('LLM_EDGE_ALL_TARGETS_FAILED');
    // The upstream's 500 is a failed upstream to the gateway's client, not the gateway's own 500.
    expect(error.status).toBe(502);
    expect(error.retryable).toBe(true);
    expect(generations(sim)).toHaveLength(1);
    expect(budget.snapshot()).toMatchObject({ requests: 1, retries: 0 });
  });

  it('with retries off, counts every request in the shared budget and fails as with retries', async () => {
    const budget = new RetryBudget();
    const router = new Router({
      providers: { openai: providers.openai() },
      targets: [{ id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' }],
      retry: { maxRetries: 0, budget },
    });
    await router.chat(hello('gpt'));
    sim.setScenario(openaiFault({ kind: 'server_error' }));
    const error = (await router.chat(hello('gpt')).catch((e: unknown) => e)) as RoutingError;
    expect(error.code).toBe('LLM_EDGE_ALL_TARGETS_FAILED');
    expect(error.status).toBe(502);
    expect(error.retryable).toBe(true);
    expect(error.attempts.map((a) => [a.pass, a.outcome])).toEqual([[1, 'error']]);
    expect(budget.snapshot()).toMatchObject({ requests: 2, retries: 0 });
  });

  it('with retries off, a caller that aborts mid-call gets LLM_EDGE_ROUTING_ABORTED and the upstream call stops', async () => {
    sim.setScenario(openaiFault({ kind: 'hang' }));
    const router = new Router({
      providers: { openai: providers.openai() },
      targets: [{ id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' }],
      retry: { maxRetries: 0 },
    });
    const attempts: AttemptEvent[] = [];
    router.on('attempt', (event) => attempts.push(event));
    const controller = new AbortController();
    const pending = router.chat(hello('gpt'), { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(new Error('client left')), 50);
    const error = (await pending) as RoutingError;
    expect(error.code).toBe('LLM_EDGE_ROUTING_ABORTED');
    expect(attempts.map((a) => a.outcome)).toEqual(['aborted']);
  });
});

describe('cheapest strategy', () => {
  it('orders by catalogue price and fails over to the next cheapest', async () => {
    sim.setScenario(openaiFault({ kind: 'server_error', count: 1 }));
    const router = new Router({
      providers: { openai: providers.openai(), anthropic: providers.anthropic() },
      targets: [
        { id: '4o', provider: 'openai', model: 'gpt-4o' }, // 2.5 + 10
        { id: 'haiku', provider: 'anthropic', model: 'claude-haiku-4-5' }, // 1 + 5
        { id: 'mini', provider: 'openai', model: 'gpt-4o-mini' }, // 0.15 + 0.6
      ],
      aliases: [{ name: 'cheap', targets: ['4o', 'haiku', 'mini'], strategy: 'cheapest' }],
    });
    const { target, attempts } = await router.chat(hello('cheap'));
    expect(target.id).toBe('haiku');
    expect(attempts[0]).toMatchObject({ target: { id: 'mini' }, chosenBecause: 'cheapest ($0.75/M tokens)' });
  });
});

describe("status when every target failed: the gateway's view, not the last upstream status", () => {
  const bothFail = (openai: Omit<FaultInput, 'match'>, anthropic: Omit<FaultInput, 'match'>) => ({
    faults: [
      { ...openai, match: { provider: 'openai' as const, model: 'gpt-4o-mini' } },
      { ...anthropic, match: { provider: 'anthropic' as const, model: 'claude-haiku-4-5' } },
    ],
  });

  async function failure(scenario: ReturnType<typeof bothFail>, firstByteMs?: number): Promise<RoutingError> {
    sim.setScenario(scenario);
    const timeouts = firstByteMs === undefined ? {} : { timeouts: { firstByteMs } };
    const router = new Router({
      providers: { openai: providers.openai(timeouts), anthropic: providers.anthropic(timeouts) },
      targets: [
        { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' },
        { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 1 },
      ],
      aliases: [{ name: 'fast', targets: ['gpt', 'claude'] }],
      retry: { maxRetries: 0 },
    });
    const error = await router.chat(hello('fast')).catch((e: unknown) => e);
    expect(RoutingError.isInstance(error)).toBe(true);
    expect((error as RoutingError).code).toBe('LLM_EDGE_ALL_TARGETS_FAILED');
    expect((error as RoutingError).attempts).toHaveLength(2);
    return error as RoutingError;
  }

  it('503 with when to come back when every target was rate limited or overloaded', async () => {
    const error = await failure(
      bothFail({ kind: 'rate_limit', retryAfterSeconds: 5 }, { kind: 'overloaded', retryAfterSeconds: 7 }),
    );
    expect(error.status).toBe(503);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(5000);
    expect(error.publicMessage).toBeUndefined();
  });

  it('504 when every target timed out', async () => {
    const error = await failure(bothFail({ kind: 'hang' }, { kind: 'hang' }), 250);
    expect(error.status).toBe(504);
    expect(error.attempts.map((a) => a.error?.kind)).toEqual(['timeout', 'timeout']);
  });

  it("502 when the failures were upstream errors (a provider 500 is not the gateway's 500)", async () => {
    const error = await failure(bothFail({ kind: 'server_error' }, { kind: 'server_error' }));
    expect(error.status).toBe(502);
    expect((error.cause as ProviderError).status).toBe(500);
  });

  it('502 when the failures were of mixed kinds', async () => {
    const error = await failure(bothFail({ kind: 'rate_limit' }, { kind: 'reset' }));
    expect(error.status).toBe(502);
  });
});

describe('routing errors', () => {
  it('LLM_EDGE_NO_ROUTE for an unknown model, naming model as the field at fault', async () => {
    const router = fastRouter();
    const error = (await router.chat(hello('nope')).catch((e: unknown) => e)) as RoutingError;
    expect(error.code).toBe('LLM_EDGE_NO_ROUTE');
    expect(error.status).toBe(404);
    expect(error.param).toBe('model');
    expect(generations(sim)).toHaveLength(0);
  });
});
