import { createAnthropicProvider } from '@llm-edge/providers';
import { describe, expect, it } from 'vitest';
import { RoutingError } from './errors';
import { type RouterOptions, resolveRouterOptions } from './options';

const provider = createAnthropicProvider({ apiKey: 'test-key', baseURL: 'http://127.0.0.1:9' });

const base = (): RouterOptions => ({
  providers: { anthropic: provider },
  targets: [
    { id: 'a', provider: 'anthropic', model: 'claude-a' },
    { id: 'b', provider: 'anthropic', model: 'claude-b', weight: 2, priority: 1 },
  ],
  aliases: [{ name: 'fast', targets: ['a', 'b'] }],
});

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (RoutingError.isInstance(error) && error.code === 'LLM_EDGE_INVALID_ROUTER_OPTIONS')
      return error.field;
    throw error;
  }
  return undefined;
}

describe('resolveRouterOptions', () => {
  it('applies defaults', () => {
    const resolved = resolveRouterOptions(base());
    expect(resolved.breaker).toMatchObject({
      consecutiveFailures: 5,
      halfOpenAfterMs: 30_000,
      halfOpenCalls: 1,
    });
    expect(resolved.retry.maxRetries).toBe(1);
    expect(resolved.hedge).toEqual({ delayMs: undefined, maxHedges: 1 });
    expect(resolved.cooldown).toEqual({ defaultMs: 1000, maxMs: 60_000 });
    expect(resolved.targets[0]).toMatchObject({ weight: 1, priority: 0 });
    expect(resolved.aliases[0]!.strategy).toBe('priority');
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('names the bad field', () => {
    expect(
      fieldOf(() =>
        resolveRouterOptions({ ...base(), targets: [{ id: 'x', provider: 'nope', model: 'm' }] }),
      ),
    ).toBe('targets.0.provider');
    expect(
      fieldOf(() =>
        resolveRouterOptions({
          ...base(),
          targets: [...base().targets, { id: 'a', provider: 'anthropic', model: 'm' }],
        }),
      ),
    ).toBe('targets.2.id');
    expect(
      fieldOf(() => resolveRouterOptions({ ...base(), aliases: [{ name: 'x', targets: ['a', 'zz'] }] })),
    ).toBe('aliases.0.targets.1');
    expect(
      fieldOf(() =>
        resolveRouterOptions({
          ...base(),
          aliases: [{ name: 'x', targets: ['a'], strategy: 'fastest' as never }],
        }),
      ),
    ).toBe('aliases.0.strategy');
    expect(fieldOf(() => resolveRouterOptions({ ...base(), breaker: { halfOpenAfterMs: -1 } }))).toBe(
      'breaker.halfOpenAfterMs',
    );
    expect(
      fieldOf(() =>
        resolveRouterOptions({ ...base(), breaker: { failureRatio: { threshold: 1, windowSize: 10 } } }),
      ),
    ).toBe('breaker.failureRatio.threshold');
    expect(fieldOf(() => resolveRouterOptions({ ...base(), hedge: { maxHedges: 0 } }))).toBe(
      'hedge.maxHedges',
    );
    expect(fieldOf(() => resolveRouterOptions({ ...base(), retry: { maxRetries: 1.5 } }))).toBe(
      'retry.maxRetries',
    );
    expect(fieldOf(() => resolveRouterOptions({ ...base(), latencyAlpha: 0 }))).toBe('latencyAlpha');
    expect(fieldOf(() => resolveRouterOptions({ ...base(), clock: {} as never }))).toBe('clock');
    expect(
      fieldOf(() =>
        resolveRouterOptions({
          ...base(),
          targets: [{ id: 'a', provider: 'anthropic', model: 'm', weight: -1 }],
        }),
      ),
    ).toBe('targets.0.weight');
  });

  it('refuses a breaker that can never open', () => {
    expect(fieldOf(() => resolveRouterOptions({ ...base(), breaker: { consecutiveFailures: 0 } }))).toBe(
      'breaker.consecutiveFailures',
    );
  });
});
