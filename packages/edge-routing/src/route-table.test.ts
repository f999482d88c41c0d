import { createAnthropicProvider } from '@llm-edge/providers';
import { describe, expect, it } from 'vitest';
import { resolveRouterOptions } from './options';
import { RouteTable } from './route-table';

const provider = createAnthropicProvider({ apiKey: 'test-key', baseURL: 'http://127.0.0.1:9' });

const table = (allowDirect = true) =>
  new RouteTable(
    resolveRouterOptions({
      providers: { openai: provider, openrouter: provider },
      targets: [
        { id: 'mini', provider: 'openai', model: 'gpt-4o-mini' },
        { id: 'mini-2', provider: 'openrouter', model: 'gpt-4o-mini' },
        { id: 'llama', provider: 'openrouter', model: 'meta-llama/llama-3.1-8b' },
      ],
      aliases: [{ name: 'fast', targets: ['mini', 'llama'], strategy: 'weighted', hedgeDelayMs: 250 }],
      hedge: { delayMs: 800 },
      allowDirect,
    }),
  );

describe('RouteTable.resolve', () => {
  it('resolves an alias with its strategy and hedge delay', () => {
    expect(table().resolve('fast')).toEqual({
      name: 'fast',
      kind: 'alias',
      strategy: 'weighted',
      hedgeDelayMs: 250,
      targets: [
        { id: 'mini', provider: 'openai', model: 'gpt-4o-mini' },
        { id: 'llama', provider: 'openrouter', model: 'meta-llama/llama-3.1-8b' },
      ],
    });
  });

  it('resolves a target id', () => {
    expect(table().resolve('llama')).toMatchObject({
      kind: 'target',
      targets: [{ id: 'llama' }],
      hedgeDelayMs: undefined,
    });
  });

  it('resolves provider/model to the configured target, splitting at the first slash', () => {
    expect(table().resolve('openrouter/meta-llama/llama-3.1-8b')).toMatchObject({
      kind: 'direct',
      targets: [{ id: 'llama' }],
    });
  });

  it('creates an unconfigured direct target only when allowed', () => {
    expect(table().resolve('openai/gpt-4.1')).toMatchObject({
      kind: 'direct',
      strategy: 'priority',
      targets: [{ id: 'openai/gpt-4.1', provider: 'openai', model: 'gpt-4.1' }],
    });
    expect(table(false).resolve('openai/gpt-4.1')).toBeUndefined();
  });

  it('resolves a bare model name to every target serving it, with the default hedge', () => {
    expect(table().resolve('gpt-4o-mini')).toMatchObject({
      kind: 'model',
      hedgeDelayMs: 800,
      targets: [{ id: 'mini' }, { id: 'mini-2' }],
    });
  });

  it('returns undefined for unknown names and unknown providers', () => {
    expect(table().resolve('nothing')).toBeUndefined();
    expect(table().resolve('acme/model')).toBeUndefined();
    expect(table().resolve('')).toBeUndefined();
  });
});

describe('RouteTable.models', () => {
  it('lists aliases then provider/model pairs once each', () => {
    expect(table().models()).toEqual([
      { id: 'fast', ownedBy: 'llm-edge' },
      { id: 'openai/gpt-4o-mini', ownedBy: 'openai' },
      { id: 'openrouter/gpt-4o-mini', ownedBy: 'openrouter' },
      { id: 'openrouter/meta-llama/llama-3.1-8b', ownedBy: 'openrouter' },
    ]);
  });
});

describe('RouteTable.resolve memo', () => {
  it('works a name out once and hands out the same frozen route after', () => {
    const t = table();
    const first = t.resolve('gpt-4o-mini');
    expect(t.resolve('gpt-4o-mini')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first?.targets)).toBe(true);
  });

  it('keeps resolving correctly past the memo bound, and does not keep names that resolve to nothing', () => {
    const t = table();
    for (let i = 0; i < 1500; i += 1) {
      expect(t.resolve(`openai/model-${i}`)).toMatchObject({
        kind: 'direct',
        targets: [{ provider: 'openai', model: `model-${i}` }],
      });
    }
    expect(t.resolve('openai/model-1499')).toMatchObject({ targets: [{ model: 'model-1499' }] });
    expect(t.resolve('no-such-model')).toBeUndefined();
    expect(t.resolve('fast')).toMatchObject({ kind: 'alias', hedgeDelayMs: 250 });
  });
});
