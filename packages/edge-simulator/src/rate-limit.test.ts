import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './index';
import { goDuration, RateLimiter } from './rate-limit';

let sim: Simulator | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('RateLimiter', () => {
  it('refills continuously: a 60 RPM bucket gives one request back per second', () => {
    const limiter = new RateLimiter();
    const limits = { requestsPerMinute: 60 };
    for (let i = 0; i < 60; i++) expect(limiter.take('k', limits, 0, 0).allowed).toBe(true);
    const refused = limiter.take('k', limits, 0, 0);
    expect(refused).toMatchObject({
      allowed: false,
      exceeded: 'requests',
      remainingRequests: 0,
      retryAfterMs: 1000,
    });
    expect(limiter.take('k', limits, 0, 999).allowed).toBe(false);
    expect(limiter.take('k', limits, 0, 1000).allowed).toBe(true);
    expect(limiter.take('other', limits, 0, 1000).remainingRequests).toBe(59);
  });

  it('charges tokens and reports time until the bucket is full again', () => {
    const limiter = new RateLimiter();
    const limits = { tokensPerMinute: 1000 };
    const first = limiter.take('k', limits, 400, 0);
    expect(first).toMatchObject({ allowed: true, remainingTokens: 600, resetTokensMs: 24_000 });
    expect(limiter.take('k', limits, 700, 0)).toMatchObject({
      allowed: false,
      exceeded: 'tokens',
      retryAfterMs: 6000,
    });
  });

  it('formats OpenAI reset durations like Go', () => {
    expect(goDuration(1000)).toBe('1s');
    expect(goDuration(360_000)).toBe('6m0s');
    expect(goDuration(250)).toBe('250ms');
    expect(goDuration(61_500)).toBe('1m1.5s');
  });
});

describe('rate limits over HTTP', () => {
  it('answers the OpenAI surface with x-ratelimit-* headers and a 429 once the key is spent', async () => {
    let now = 1_700_000_000_000;
    sim = await startSimulator({
      clock: () => now,
      scenario: {
        rateLimits: {
          default: { requestsPerMinute: 2, tokensPerMinute: 100_000 },
          keys: { vip: { requestsPerMinute: 100 } },
        },
      },
    });
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-a', maxRetries: 0 });
    const first = await client.chat.completions.create(chat).withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(first.response.headers.get('x-ratelimit-reset-requests')).toBe('30s');
    expect(first.response.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
    const usage = first.data.usage!;
    expect(first.response.headers.get('x-ratelimit-remaining-tokens')).toBe(
      String(100_000 - usage.total_tokens),
    );
    await client.chat.completions.create(chat);
    const error = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const limited = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limited.type).toBe('requests');
    expect(limited.code).toBe('rate_limit_exceeded');

    const vip = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'vip', maxRetries: 0 });
    const vipResponse = await vip.chat.completions.create(chat).withResponse();
    expect(vipResponse.response.headers.get('x-ratelimit-limit-requests')).toBe('100');
    expect(vipResponse.response.headers.get('x-ratelimit-limit-tokens')).toBeNull();

    now += 30_000;
    await expect(client.chat.completions.create(chat)).resolves.toMatchObject({ object: 'chat.completion' });
    expect(sim.requestLog().map((e) => e.outcome)).toContain('rate_limited');
  });

  it('limits tokens per minute', async () => {
    sim = await startSimulator({
      clock: () => 0,
      scenario: {
        content: { length: { min: 50, max: 50 } },
        rateLimits: { default: { tokensPerMinute: 120 } },
      },
    });
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0 });
    await client.chat.completions.create(chat);
    const error = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, type: 'tokens' });
  });

  it('answers the Anthropic surface with anthropic-ratelimit-* headers and RFC 3339 resets', async () => {
    sim = await startSimulator({
      clock: () => Date.UTC(2026, 0, 1),
      scenario: { rateLimits: { default: { requestsPerMinute: 1, tokensPerMinute: 50_000 } } },
    });
    const client = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const params = {
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      messages: [{ role: 'user' as const, content: 'x' }],
    };
    const ok = await client.messages.create(params).withResponse();
    expect(ok.response.headers.get('anthropic-ratelimit-requests-limit')).toBe('1');
    expect(ok.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(ok.response.headers.get('anthropic-ratelimit-requests-reset')).toBe('2026-01-01T00:01:00Z');
    expect(ok.response.headers.get('anthropic-ratelimit-tokens-limit')).toBe('50000');
    const error = await client.messages.create(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const limited = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('answers the Gemini surface with RESOURCE_EXHAUSTED and a RetryInfo delay', async () => {
    sim = await startSimulator({
      clock: () => 0,
      scenario: { rateLimits: { default: { requestsPerMinute: 1 } } },
    });
    const post = () =>
      fetch(`${sim!.url}/v1beta/models/gemini-2.5-flash:generateContent?key=k`, {
        method: 'POST',
        body: JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }] }),
      });
    expect((await post()).status).toBe(200);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure' },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '60s' },
        ],
      },
    });
  });
});
