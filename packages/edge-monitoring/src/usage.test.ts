import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics';
import { normalizeUsage, type TokenUsage, toOpenAIUsage } from './usage';
import { type CostBreakdown, createUsageAccumulator } from './usage-accumulator';

describe('normalizeUsage', () => {
  it('reads the OpenAI shape with cached and reasoning details', () => {
    expect(
      normalizeUsage({
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        prompt_tokens_details: { cached_tokens: 64 },
        completion_tokens_details: { reasoning_tokens: 5 },
      }),
    ).toEqual({ inputTokens: 100, outputTokens: 20, cachedInputTokens: 64, reasoningTokens: 5 });
  });

  it('adds Anthropic cache reads and writes to the input total', () => {
    expect(
      normalizeUsage({
        input_tokens: 12,
        output_tokens: 4,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 50,
      }),
    ).toEqual({ inputTokens: 162, outputTokens: 4, cachedInputTokens: 100, cacheWriteInputTokens: 50 });
  });

  it('reads the Gemini shape, counting thoughts as output', () => {
    expect(
      normalizeUsage({
        promptTokenCount: 5,
        candidatesTokenCount: 2,
        thoughtsTokenCount: 3,
        cachedContentTokenCount: 1,
      }),
    ).toEqual({ inputTokens: 5, outputTokens: 5, cachedInputTokens: 1, reasoningTokens: 3 });
  });

  it('passes TokenUsage through and rejects anything else', () => {
    expect(normalizeUsage({ inputTokens: 1, outputTokens: 2 })).toEqual({ inputTokens: 1, outputTokens: 2 });
    expect(normalizeUsage(null)).toBeUndefined();
    expect(normalizeUsage({ tokens: 3 })).toBeUndefined();
    expect(normalizeUsage({ prompt_tokens: -1, completion_tokens: 'x' })).toBeUndefined();
  });

  it('converts back to the OpenAI shape', () => {
    expect(toOpenAIUsage({ inputTokens: 10, outputTokens: 5, cachedInputTokens: 4 })).toEqual({
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 4 },
    });
  });
});

// $1 per 1M input, $0.5 per 1M cached input, $2 per 1M output; 'free-model' has no price.
function price(model: string, usage: TokenUsage): CostBreakdown | undefined {
  if (model === 'free-model') return undefined;
  const cached = usage.cachedInputTokens ?? 0;
  const inputUsd = ((usage.inputTokens - cached) * 1) / 1e6;
  const cachedInputUsd = (cached * 0.5) / 1e6;
  const outputUsd = (usage.outputTokens * 2) / 1e6;
  return { inputUsd, cachedInputUsd, outputUsd, totalUsd: inputUsd + cachedInputUsd + outputUsd };
}

describe('createUsageAccumulator', () => {
  it('totals tokens and cost per key and per model', () => {
    const usage = createUsageAccumulator({ price });
    const charge = usage.record({
      key: 'team-a',
      model: 'm1',
      usage: { inputTokens: 1_000_000, outputTokens: 500_000, cachedInputTokens: 200_000 },
    });
    expect(charge.cost).toEqual({ inputUsd: 0.8, cachedInputUsd: 0.1, outputUsd: 1, totalUsd: 1.9 });
    usage.record({ key: 'team-a', model: 'm2', usage: { inputTokens: 1_000_000, outputTokens: 0 } });
    usage.record({ key: 'team-b', model: 'free-model', usage: { inputTokens: 10, outputTokens: 10 } });
    usage.record({ model: 'm1', usage: { inputTokens: 0, outputTokens: 1_000_000 } });

    expect(usage.forKey('team-a')).toEqual({
      requests: 2,
      inputTokens: 2_000_000,
      outputTokens: 500_000,
      cachedInputTokens: 200_000,
      costUsd: 2.9,
      unpricedRequests: 0,
      pricingFailures: 0,
    });
    expect(usage.forKey('team-b')).toMatchObject({ requests: 1, costUsd: 0, unpricedRequests: 1 });
    expect(usage.forModel('m1')).toMatchObject({ requests: 2, costUsd: 3.9 });
    expect(usage.totals()).toMatchObject({ requests: 4, costUsd: 4.9, unpricedRequests: 1 });
    expect([...usage.byKey().keys()]).toEqual(['team-a', 'team-b']);
    expect([...usage.byModel().keys()]).toEqual(['m1', 'm2', 'free-model']);
  });

  it('returns copies, so callers cannot change the totals', () => {
    const usage = createUsageAccumulator({ price });
    usage.record({ key: 'k', model: 'm', usage: { inputTokens: 1, outputTokens: 1 } });
    usage.forKey('k')!.requests = 99;
    usage.byKey().get('k')!.requests = 99;
    expect(usage.forKey('k')!.requests).toBe(1);
    usage.reset();
    expect(usage.totals().requests).toBe(0);
    expect(usage.forKey('k')).toBeUndefined();
  });

  it('counts pricing failures and invalid prices without throwing', async () => {
    const metrics = createMetrics();
    const usage = createUsageAccumulator({
      metrics,
      price: (model) => {
        if (model === 'throws') throw new Error('price table broken');
        return { inputUsd: -1, cachedInputUsd: 0, outputUsd: 0, totalUsd: -1 };
      },
    });
    expect(
      usage.record({ model: 'throws', usage: { inputTokens: 1, outputTokens: 1 } }).cost,
    ).toBeUndefined();
    expect(
      usage.record({ model: 'negative', usage: { inputTokens: 1, outputTokens: 1 } }).cost,
    ).toBeUndefined();
    expect(usage.totals()).toMatchObject({ requests: 2, pricingFailures: 2, costUsd: 0 });
    expect(await metrics.render()).toContain('llm_edge_telemetry_failures_total{component="pricing"} 2');
  });

  it('feeds token and cost metrics when given them', async () => {
    const metrics = createMetrics();
    const usage = createUsageAccumulator({ price, metrics });
    usage.record({
      key: 'team-a',
      provider: 'openai',
      model: 'm1',
      usage: { inputTokens: 1_000_000, outputTokens: 0 },
    });
    const text = await metrics.render();
    expect(text).toContain('llm_edge_tokens_total{provider="openai",model="m1",kind="input"} 1000000');
    expect(text).toContain('llm_edge_cost_usd_total{provider="openai",model="m1",key="team-a"} 1');
  });

  it('bounds the number of tracked keys', () => {
    const usage = createUsageAccumulator({ maxEntries: 2 });
    for (const key of ['a', 'b', 'c', 'd'])
      usage.record({ key, model: 'm', usage: { inputTokens: 1, outputTokens: 0 } });
    expect([...usage.byKey().keys()]).toEqual(['a', 'b', '_other']);
    expect(usage.forKey('_other')!.requests).toBe(2);
  });

  it('ignores negative or non-numeric token counts', () => {
    const usage = createUsageAccumulator();
    const charge = usage.record({ model: 'm', usage: { inputTokens: -5, outputTokens: Number.NaN } });
    expect(charge.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it('validates options naming the bad field', () => {
    expect(() => createUsageAccumulator({ price: 'cheap' as never })).toThrowError(/"price"/);
    expect(() => createUsageAccumulator({ maxEntries: 0 })).toThrowError(/"maxEntries"/);
  });
});
