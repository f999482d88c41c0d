import { describe, expect, it } from 'vitest';
import { findModel, modelCatalogue, priceUsage } from './model-catalogue';

describe('model catalogue', () => {
  it('has consistent entries', () => {
    const ids = new Set<string>();
    for (const entry of modelCatalogue) {
      expect(ids.has(entry.id)).toBe(false);
      ids.add(entry.id);
      // An ISO 8601 date, to the month when the sources give no day.
      expect(entry.pricesReadOn).toMatch(/^\d{4}-\d{2}(-\d{2})?$/);
      expect(entry.source).not.toBe('');
      expect(entry.prices.cachedInput).toBeLessThanOrEqual(entry.prices.input);
      expect(entry.contextWindow).toBeGreaterThan(0);
    }
  });

  it('dates third-party price quotes by their sources, not by the day they were copied', () => {
    const dates = (provider: string) =>
      new Set(modelCatalogue.filter((e) => e.provider === provider).map((e) => e.pricesReadOn));
    expect(dates('openai')).toEqual(new Set(['2026-06']));
    expect(dates('gemini')).toEqual(new Set(['2026-03']));
    expect(findModel('gpt-4o')?.source).toMatch(/sources dated March to June 2026/);
  });

  it('claims json_schema for the Anthropic models whose structured outputs the adapter maps', () => {
    expect(findModel('claude-haiku-4-5')?.capabilities.jsonSchema).toBe(true);
    expect(findModel('claude-sonnet-4-6')?.capabilities.jsonSchema).toBe(true);
    expect(findModel('claude-3-5-haiku-latest')?.capabilities.jsonSchema).toBe(false);
  });

  it('finds by id, dated alias, provider/model and dated OpenAI snapshot', () => {
    expect(findModel('gpt-4o-mini')?.contextWindow).toBe(128_000);
    expect(findModel('claude-haiku-4-5-20251001')?.id).toBe('claude-haiku-4-5');
    expect(findModel('openai/gpt-4.1')?.id).toBe('gpt-4.1');
    expect(findModel('gpt-4o-mini-2024-07-18')?.id).toBe('gpt-4o-mini');
    expect(findModel('no-such-model')).toBeUndefined();
  });
});

describe('priceUsage', () => {
  it('prices fresh input, cached input and output separately', () => {
    const price = priceUsage('gpt-4o-mini', {
      prompt_tokens: 2_000_000,
      completion_tokens: 1_000_000,
      total_tokens: 3_000_000,
      prompt_tokens_details: { cached_tokens: 1_000_000 },
    });
    expect(price).toEqual({
      inputUsd: 0.15,
      cachedInputUsd: 0.075,
      cacheWriteUsd: 0,
      outputUsd: 0.6,
      totalUsd: 0.825,
    });
  });

  it('prices Anthropic cache writes at 1.25x input', () => {
    const price = priceUsage('claude-sonnet-4-5', {
      prompt_tokens: 1_000_000,
      completion_tokens: 0,
      total_tokens: 1_000_000,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 1_000_000 },
    });
    expect(price?.cacheWriteUsd).toBeCloseTo(3.75, 10);
    expect(price?.inputUsd).toBe(0);
  });

  it('switches to the long-context tier above its threshold', () => {
    const usage = { prompt_tokens: 300_000, completion_tokens: 0, total_tokens: 300_000 };
    expect(priceUsage('gemini-2.5-pro', usage)?.inputUsd).toBeCloseTo(0.75, 10);
    expect(priceUsage('gemini-2.5-pro', { ...usage, prompt_tokens: 100_000 })?.inputUsd).toBeCloseTo(
      0.125,
      10,
    );
  });

  it('returns undefined for an unknown model', () => {
    expect(
      priceUsage('mystery', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }),
    ).toBeUndefined();
  });
});
