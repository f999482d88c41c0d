import { APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import { priceUsage } from '@llm-edge/providers';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { counter, latencyScenario, stackConfig, startStack, type TestStack } from './stack';

const TPM = 1_000_000;
const TPM_KEY = 'sk-edge-tpm-key-0123456789abcdef01234';
const BUDGET_KEY = 'sk-edge-budget-key-0123456789abcdef012';

function remainingTokens(response: Response): number {
  const value = response.headers.get('x-ratelimit-remaining-tokens');
  expect(value).toMatch(/^\d+$/);
  return Number(value);
}

describe('token limits and budgets, end to end', () => {
  let stack: TestStack;
  let tpm: OpenAI;
  beforeAll(async () => {
    stack = await startStack({
      sim: { timeScale: 1, scenario: latencyScenario() },
      config: (simUrl) =>
        stackConfig(simUrl, {
          security: {
            keys: [
              { name: 'tpm', key: TPM_KEY, tpm: TPM },
              // Less than any one answer costs: the first request spends it, the next is refused.
              { name: 'budget', key: BUDGET_KEY, budgetUsd: 0.000001, budgetPeriod: 'day' },
            ],
          },
          telemetry: { logLevel: 'silent' },
        }),
    });
    tpm = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TPM_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => {
    stack.sim.setScenario(latencyScenario());
    stack.sim.reset();
  });

  it('tpm: the estimate is reserved, then reconciled with the provider usage; hits and coalesced callers cost nothing', async () => {
    const messages = [{ role: 'user' as const, content: 'count my tokens precisely' }];
    const bypass = { headers: { 'cache-control': 'no-cache' } };
    const ask = (options?: typeof bypass) =>
      tpm.chat.completions.create({ model: 'gpt-4o-mini', messages }, options).withResponse();

    // 1. MISS: the header shows the estimate reserved (prompt + output allowance).
    const first = await ask();
    const estimate = TPM - remainingTokens(first.response);
    const used1 = first.data.usage!.total_tokens;
    expect(estimate).toBeGreaterThan(used1);

    // 2. The next request sees request 1 charged at its actual usage, not at the estimate.
    const second = await ask(bypass);
    expect(second.response.headers.get('x-llm-edge-cache')).toBe('BYPASS');
    expect(remainingTokens(second.response)).toBe(TPM - used1 - estimate);
    const used2 = second.data.usage!.total_tokens;

    // 3. A cache HIT reserves the estimate while it is admitted…
    const hit = await ask();
    expect(hit.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    expect(remainingTokens(hit.response)).toBe(TPM - used1 - used2 - estimate);
    // …and is refunded whole: the next request sees no charge for it.
    const fourth = await ask(bypass);
    expect(remainingTokens(fourth.response)).toBe(TPM - used1 - used2 - estimate);
    const used4 = fourth.data.usage!.total_tokens;
    expect(stack.sim.requestLog()).toHaveLength(3);

    // 4. Two identical concurrent requests share one upstream call; only the one that made it pays.
    stack.sim.setScenario(latencyScenario({ 'gpt-4o-mini': 300 }));
    const shared = [{ role: 'user' as const, content: 'one upstream call for two callers' }];
    const [a, b] = await Promise.all(
      [0, 1].map(() => tpm.chat.completions.create({ model: 'gpt-4o-mini', messages: shared })),
    );
    expect(stack.sim.requestLog().filter((e) => e.model === 'gpt-4o-mini')).toHaveLength(4);
    expect(b?.usage).toEqual(a?.usage);
    const usedShared = a!.usage!.total_tokens;
    stack.sim.setScenario(latencyScenario());
    const after = await ask(bypass);
    expect(remainingTokens(after.response)).toBe(TPM - used1 - used2 - used4 - usedShared - estimate);
    const used5 = after.data.usage!.total_tokens;

    // 5. A stream is reconciled with the usage of its last chunk.
    const stream = await tpm.chat.completions.create(
      { model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } },
      bypass,
    );
    let used6 = 0;
    for await (const chunk of stream) if (chunk.usage) used6 = chunk.usage.total_tokens;
    expect(used6).toBeGreaterThan(0);
    const last = await ask(bypass);
    expect(remainingTokens(last.response)).toBe(
      TPM - used1 - used2 - used4 - usedShared - used5 - used6 - estimate,
    );
  });

  it('budget: spend is recorded from the priced usage; past the budget, 429 in the client shape with retry-after', async () => {
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: BUDGET_KEY, maxRetries: 0 });
    const before = await stack.metrics();
    const first = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'spend my budget' }],
    });
    const price = priceUsage('gpt-4o-mini', first.usage!);
    expect(price?.totalUsd).toBeGreaterThan(0.000001);
    const after = await stack.metrics();
    const cost = (text: string) => counter(text, 'llm_edge_cost_usd_total', { key: 'budget' });
    expect(cost(after) - cost(before)).toBeCloseTo(price!.totalUsd, 12);

    const refused = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one more' }] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(APIError);
    const error = refused as APIError;
    expect(error.status).toBe(429);
    expect(error.code).toBe('LLM_EDGE_BUDGET_EXCEEDED');
    expect(error.type).toBe('insufficient_quota');
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const anthropic = await stack.anthropic
      .withOptions({ apiKey: BUDGET_KEY })
      .messages.create({
        model: 'gpt-4o-mini',
        max_tokens: 32,
        messages: [{ role: 'user', content: 'and in the other shape' }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(anthropic).toBeInstanceOf(AnthropicAPIError);
    const anthropicError = anthropic as AnthropicAPIError;
    expect(anthropicError.status).toBe(429);
    expect(anthropicError.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(Number(anthropicError.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // Only the first request reached the upstream, and both refusals were counted.
    expect(stack.sim.requestLog()).toHaveLength(1);
    const final = await stack.metrics();
    expect(
      counter(final, 'llm_edge_rate_limited_total', { key: 'budget', limit: 'budget' }) -
        counter(before, 'llm_edge_rate_limited_total', { key: 'budget', limit: 'budget' }),
    ).toBe(2);
  });
});
