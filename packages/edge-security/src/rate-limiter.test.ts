import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RateLimitError, SecurityOptionsError } from './errors';
import { rateLimitHeaders } from './rate-limit-headers';
import { RateLimiter, type RateLimitSubject } from './rate-limiter';
import type { FallbackEvent } from './redis-client';
import { connectRedis, deleteKeys, RedisOutage, type TestRedisClient, uniquePrefix } from './test-redis';

async function refusal(promise: Promise<unknown>): Promise<RateLimitError> {
  try {
    await promise;
  } catch (error) {
    if (RateLimitError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a RateLimitError');
}

describe('RateLimiter in process', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('admits rpm requests per window, then answers 429 with header values', async () => {
    const limiter = new RateLimiter();
    const subject: RateLimitSubject = { id: 'key:a', rpm: 3 };
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) remaining.push((await limiter.reserve(subject)).requests!.remaining);
    expect(remaining).toEqual([2, 1, 0]);
    const error = await refusal(limiter.reserve(subject));
    expect(error).toMatchObject({
      status: 429,
      code: 'LLM_EDGE_RATE_LIMITED',
      type: 'rate_limit_error',
      limitType: 'requests',
      limit: 3,
      remaining: 0,
      retryable: true,
    });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
    const headers = rateLimitHeaders(error);
    expect(headers['x-ratelimit-limit-requests']).toBe('3');
    expect(headers['x-ratelimit-remaining-requests']).toBe('0');
    expect(Number(headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The error carries the same headers itself, for a proxy that copies an error's `headers`.
    expect(error.headers).toEqual(headers);
    expect(error.headers['retry-after-ms']).toBe(String(Math.ceil(error.retryAfterMs!)));
    expect(Object.isFrozen(error.headers)).toBe(true);
    // Another subject is unaffected.
    await expect(limiter.reserve({ id: 'key:b', rpm: 3 })).resolves.toMatchObject({ degraded: false });
  });

  it('opens a new window after it resets', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const limiter = new RateLimiter({ windowSeconds: 60 });
    const subject = { id: 'key:w', rpm: 1 };
    await limiter.reserve(subject);
    expect((await refusal(limiter.reserve(subject))).retryAfterMs).toBe(60_000);
    vi.advanceTimersByTime(30_000);
    expect((await refusal(limiter.reserve(subject))).retryAfterMs).toBe(30_000);
    vi.advanceTimersByTime(30_001);
    await expect(limiter.reserve(subject)).resolves.toMatchObject({ requests: { remaining: 0 } });
  });

  it('reserves estimated tokens and refuses what does not fit, leaving no trace', async () => {
    const limiter = new RateLimiter();
    const subject = { id: 'key:t', rpm: 100, tpm: 1000 };
    const first = await limiter.reserve(subject, 700);
    expect(first.tokens).toMatchObject({ limit: 1000, remaining: 300 });
    expect(first.estimatedTokens).toBe(700);
    const refused = await refusal(limiter.reserve(subject, 400));
    expect(refused).toMatchObject({
      code: 'LLM_EDGE_RATE_LIMITED',
      limitType: 'tokens',
      remaining: 300,
      requested: 400,
    });
    // The refused 400 were given back: 300 still fit, and the refused request was not counted.
    const second = await limiter.reserve(subject, 300);
    expect(second.tokens!.remaining).toBe(0);
    expect(second.requests!.remaining).toBe(98);
  });

  it('takes a lazy estimate and computes it only for a subject with a tokens limit', async () => {
    const limiter = new RateLimiter();
    const estimate = vi.fn(() => 42.2);
    const free = await limiter.reserve({ id: 'key:lazy-free', rpm: 5 }, estimate);
    expect(estimate).not.toHaveBeenCalled();
    expect(free.estimatedTokens).toBe(0);
    const limited = await limiter.reserve({ id: 'key:lazy-tpm', tpm: 100 }, estimate);
    expect(estimate).toHaveBeenCalledTimes(1);
    expect(limited).toMatchObject({ estimatedTokens: 43, tokens: { remaining: 57 } });
  });

  it('refuses a request larger than the whole tokens limit as not retryable', async () => {
    const limiter = new RateLimiter();
    const error = await refusal(limiter.reserve({ id: 'key:big', rpm: 10, tpm: 500 }, 501));
    expect(error).toMatchObject({
      code: 'LLM_EDGE_REQUEST_EXCEEDS_TOKEN_LIMIT',
      status: 429,
      retryable: false,
      limit: 500,
      requested: 501,
    });
    expect(error.retryAfterMs).toBeUndefined();
    expect(rateLimitHeaders(error)['retry-after']).toBeUndefined();
    expect(error.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '500' });
    expect(error.headers['retry-after']).toBeUndefined();
    expect((await limiter.peek({ id: 'key:big', rpm: 10 })).requests!.remaining).toBe(10);
  });

  it('reconciles with actual usage: refunds the rest, charges the excess, once', async () => {
    const limiter = new RateLimiter();
    const subject = { id: 'key:r', tpm: 1000 };
    const over = await limiter.reserve(subject, 600);
    expect(await limiter.reconcile(over, 200)).toMatchObject({ remaining: 800 });
    expect(await limiter.reconcile(over, 0)).toBeUndefined();
    const under = await limiter.reserve(subject, 100);
    expect(under.tokens!.remaining).toBe(700);
    expect(await limiter.reconcile(under, 450)).toMatchObject({ remaining: 350 });
    expect((await limiter.peek(subject)).tokens!.remaining).toBe(350);
    const exact = await limiter.reserve(subject, 50);
    expect(await limiter.reconcile(exact, 50)).toEqual(exact.tokens);
    await expect(limiter.reconcile(exact, -1)).rejects.toThrow(SecurityOptionsError);
  });

  it('does not refund into a new window once the reservation window ended', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const limiter = new RateLimiter();
    const subject = { id: 'key:late', tpm: 1000 };
    const reservation = await limiter.reserve(subject, 900);
    vi.advanceTimersByTime(61_000);
    expect(await limiter.reconcile(reservation, 100)).toBeUndefined();
    expect((await limiter.peek(subject)).tokens!.remaining).toBe(1000);
  });

  it('limits anonymous callers per IP, IPv6 per /64', async () => {
    const limiter = new RateLimiter({ anonymous: { rpm: 2, tpm: 100 } });
    expect(limiter.ipSubject('203.0.113.7')).toEqual({ id: 'ip:203.0.113.7', rpm: 2, tpm: 100 });
    expect(limiter.ipSubject('::ffff:203.0.113.7').id).toBe('ip:203.0.113.7');
    expect(limiter.ipSubject('2001:db8:aa:bb:1::5').id).toBe('ip:2001:db8:aa:bb::/64');
    expect(limiter.ipSubject('2001:0db8:00aa:00bb:ffff:0:0:9').id).toBe('ip:2001:db8:aa:bb::/64');
    await limiter.reserve(limiter.ipSubject('2001:db8:aa:bb::1'), 10);
    await limiter.reserve(limiter.ipSubject('2001:db8:aa:bb::2'), 10);
    await expect(limiter.reserve(limiter.ipSubject('2001:db8:aa:bb::3'), 10)).rejects.toThrow(RateLimitError);
    await expect(limiter.reserve(limiter.ipSubject('2001:db8:aa:cc::1'), 10)).resolves.toBeDefined();
  });

  it('subjects without limits pass freely; headers describe what applies', async () => {
    const limiter = new RateLimiter();
    const reservation = await limiter.reserve({ id: 'key:free' }, 10_000);
    expect(reservation).toEqual({ subjectId: 'key:free', estimatedTokens: 0, degraded: false });
    expect(rateLimitHeaders(reservation)).toEqual({});
    const limited = await limiter.reserve({ id: 'key:h', rpm: 10, tpm: 100 }, 40);
    expect(rateLimitHeaders(limited)).toMatchObject({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '9',
      'x-ratelimit-limit-tokens': '100',
      'x-ratelimit-remaining-tokens': '60',
      'x-ratelimit-reset-tokens': '1m0s',
    });
  });

  it('rejects bad options and limits naming the field', async () => {
    expect(() => new RateLimiter({ windowSeconds: 0 })).toThrow(/windowSeconds/);
    expect(() => new RateLimiter({ keyPrefix: '' })).toThrow(/keyPrefix/);
    expect(() => new RateLimiter({ anonymous: { rpm: 1.5 } })).toThrow(/anonymous\.rpm/);
    await expect(new RateLimiter().reserve({ id: 'x', tpm: -1 })).rejects.toThrow(/subject\.tpm/);
  });
});

describe('RateLimiter with Redis', () => {
  const prefix = uniquePrefix();
  let admin: TestRedisClient;
  const clients: TestRedisClient[] = [];
  const outage = new RedisOutage();

  beforeAll(async () => {
    admin = await connectRedis();
  });

  afterAll(async () => {
    await outage.down();
    for (const c of clients) if (c.isOpen) c.destroy();
    if (admin) {
      await deleteKeys(admin, prefix);
      expect(await deleteKeys(admin, prefix)).toBe(0);
      admin.destroy();
    }
  });

  async function client(url?: string): Promise<TestRedisClient> {
    const c = await connectRedis(url);
    clients.push(c);
    return c;
  }

  it('two instances sharing one Redis admit N requests in total', async () => {
    const a = new RateLimiter({ redis: await client(), keyPrefix: `${prefix}:shared` });
    const b = new RateLimiter({ redis: await client(), keyPrefix: `${prefix}:shared` });
    const subject = { id: 'key:team', rpm: 5 };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).reserve(subject)),
    );
    const admitted = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(admitted).toHaveLength(5);
    expect(refused).toHaveLength(7);
    for (const r of refused)
      expect(RateLimitError.isInstance((r as PromiseRejectedResult).reason)).toBe(true);
    for (const o of admitted)
      expect((o as PromiseFulfilledResult<{ degraded: boolean }>).value.degraded).toBe(false);
    expect(a.stats().fallbacks + b.stats().fallbacks).toBe(0);
  });

  it('shares token reservations and reconciliation across instances', async () => {
    const a = new RateLimiter({ redis: await client(), keyPrefix: `${prefix}:tokens` });
    const b = new RateLimiter({ redis: await client(), keyPrefix: `${prefix}:tokens` });
    const subject = { id: 'key:tok', tpm: 1000 };
    const r1 = await a.reserve(subject, 600);
    await expect(b.reserve(subject, 500)).rejects.toThrow(RateLimitError);
    expect(await a.reconcile(r1, 100)).toMatchObject({ remaining: 900 });
    const r2 = await b.reserve(subject, 500);
    expect(r2.tokens!.remaining).toBe(400);
    expect(await admin.get(`${prefix}:tokens:tokens:key:tok`)).toBe('600');
    await a.resetSubject(subject);
    expect(await admin.exists(`${prefix}:tokens:tokens:key:tok`)).toBe(0);
  });

  it('keeps limiting in process while Redis is down, counts it, and returns to Redis', async () => {
    await outage.up();
    const redis = await client(outage.url);
    const events: FallbackEvent[] = [];
    const limiter = new RateLimiter({
      redis,
      keyPrefix: `${prefix}:outage`,
      onFallback: (e) => events.push(e),
    });
    const subject = { id: 'key:o', rpm: 3, tpm: 10_000 };
    expect((await limiter.reserve(subject, 10)).degraded).toBe(false);

    await outage.down();
    await vi.waitFor(() => expect(redis.isReady).toBe(false));
    const during = await limiter.reserve(subject, 10);
    expect(during.degraded).toBe(true);
    await limiter.reserve(subject, 10);
    await limiter.reserve(subject, 10);
    // The in-process stand-in enforces the same limit on its own count.
    await expect(limiter.reserve(subject, 10)).rejects.toThrow(RateLimitError);
    const stats = limiter.stats();
    expect(stats.fallbacksByScope.requests).toBeGreaterThanOrEqual(4);
    expect(stats.fallbacksByScope.tokens).toBeGreaterThanOrEqual(3);
    expect(events.filter((e) => e.scope === 'requests' && e.operation === 'consume').length).toBe(4);
    expect(await limiter.reconcile(during, 5)).toMatchObject({ limit: 10_000 });

    await outage.up();
    await vi.waitFor(() => expect(redis.isReady).toBe(true), { timeout: 5_000, interval: 20 });
    const fallbacksBefore = limiter.stats().fallbacks;
    const after = await limiter.reserve(subject, 10);
    expect(after.degraded).toBe(false);
    // Redis still holds its own count from before the outage: 1 request used of 3.
    expect(after.requests!.remaining).toBe(1);
    expect(limiter.stats().fallbacks).toBe(fallbacksBefore);
  });
});
