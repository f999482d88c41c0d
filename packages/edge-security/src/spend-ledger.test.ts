import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BudgetExceededError, SecurityOptionsError } from './errors';
import { type BudgetSubject, SpendLedger } from './spend-ledger';
import { connectRedis, deleteKeys, RedisOutage, type TestRedisClient, uniquePrefix } from './test-redis';

describe('SpendLedger in process', () => {
  it('records spend exactly and refuses once the budget is used up', async () => {
    const ledger = new SpendLedger();
    const key: BudgetSubject = { id: 'key:a', name: 'a', budgetUsd: 0.3 };
    await ledger.record(key, 0.1);
    await ledger.record(key, 0.1);
    expect(await ledger.check(key)).toMatchObject({ spentUsd: 0.2, budgetUsd: 0.3, degraded: false });
    expect((await ledger.record(key, 0.1)).remainingUsd).toBe(0);
    const error = await ledger.check(key).catch((e: unknown) => e);
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      status: 429,
      code: 'LLM_EDGE_BUDGET_EXCEEDED',
      type: 'insufficient_quota',
    });
    expect((error as BudgetExceededError).spentUsd).toBeCloseTo(0.3, 9);
    // A monthly budget says when it is back, in headers a proxy copies onto the 429.
    const { resetMs, headers } = error as BudgetExceededError;
    expect(resetMs).toBeGreaterThan(0);
    expect(headers).toEqual({
      'retry-after': String(Math.max(1, Math.ceil(resetMs! / 1000))),
      'retry-after-ms': String(Math.ceil(resetMs!)),
    });
    await ledger.reset(key);
    expect((await ledger.check(key)).spentUsd).toBe(0);
  });

  it('keys without a budget only accumulate', async () => {
    const ledger = new SpendLedger();
    const state = await ledger.record({ id: 'key:free' }, 12.5);
    expect(state).toEqual({ period: 'month', spentUsd: 12.5, resetMs: expect.any(Number), degraded: false });
    await expect(ledger.check({ id: 'key:free' })).resolves.toBeDefined();
    await expect(ledger.record({ id: 'key:free' }, Number.NaN)).rejects.toThrow(SecurityOptionsError);
  });

  it('starts a new period on the UTC calendar', async () => {
    let now = Date.UTC(2026, 0, 31, 23, 59, 0);
    const ledger = new SpendLedger({ now: () => now });
    const daily: BudgetSubject = { id: 'key:d', budgetUsd: 1, budgetPeriod: 'day' };
    const monthly: BudgetSubject = { id: 'key:m', budgetUsd: 1, budgetPeriod: 'month' };
    const lifetime: BudgetSubject = { id: 'key:t', budgetUsd: 1, budgetPeriod: 'total' };
    for (const s of [daily, monthly, lifetime]) await ledger.record(s, 1);
    expect((await ledger.get(daily)).resetMs).toBe(60_000);
    expect((await ledger.get(monthly)).resetMs).toBe(60_000);
    expect((await ledger.get(lifetime)).resetMs).toBeUndefined();
    now += 120_000; // 2026-02-01 00:01
    await expect(ledger.check(daily)).resolves.toMatchObject({ spentUsd: 0 });
    await expect(ledger.check(monthly)).resolves.toMatchObject({ spentUsd: 0 });
    const lifetimeError = (await ledger.check(lifetime).catch((e: unknown) => e)) as BudgetExceededError;
    expect(BudgetExceededError.isInstance(lifetimeError)).toBe(true);
    // A lifetime budget never comes back: no retry-after.
    expect(lifetimeError.headers).toEqual({});
    now = Date.UTC(2026, 1, 2, 0, 0, 0);
    await ledger.record(monthly, 0.5);
    expect((await ledger.get(monthly)).spentUsd).toBe(0.5);
    expect((await ledger.get(monthly)).resetMs).toBe(Date.UTC(2026, 2, 1) - now);
  });
});

describe('SpendLedger with Redis', () => {
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
      admin.destroy();
    }
  });

  async function client(url?: string): Promise<TestRedisClient> {
    const c = await connectRedis(url);
    clients.push(c);
    return c;
  }

  it('shares spend between instances and expires the period key', async () => {
    const now = () => Date.UTC(2026, 4, 10, 12, 0, 0);
    const a = new SpendLedger({ redis: await client(), keyPrefix: prefix, now });
    const b = new SpendLedger({ redis: await client(), keyPrefix: prefix, now });
    const key: BudgetSubject = { id: 'key:shared', name: 'shared', budgetUsd: 1 };
    await a.record(key, 0.6);
    await b.record(key, 0.4);
    await expect(a.check(key)).rejects.toThrow(BudgetExceededError);
    expect(await admin.get(`${prefix}:key:shared:m2026-05`)).toBe('1000000');
    const ttl = await admin.ttl(`${prefix}:key:shared:m2026-05`);
    // Until 2026-06-01 plus one day of grace.
    expect(ttl).toBeGreaterThan(21 * 86_400);
    expect(ttl).toBeLessThanOrEqual(22 * 86_400 + 43_200);
    await b.reset(key);
    expect(await admin.exists(`${prefix}:key:shared:m2026-05`)).toBe(0);
  });

  it('falls back to the in-process ledger while Redis is down and counts it', async () => {
    await outage.up();
    const redis = await client(outage.url);
    const events: string[] = [];
    const ledger = new SpendLedger({
      redis,
      keyPrefix: `${prefix}:o`,
      onFallback: (e) => events.push(e.operation),
    });
    const key: BudgetSubject = { id: 'key:o', budgetUsd: 1 };
    expect((await ledger.record(key, 0.25)).degraded).toBe(false);
    await outage.down();
    await vi.waitFor(() => expect(redis.isReady).toBe(false));
    const during = await ledger.record(key, 0.5);
    expect(during).toMatchObject({ degraded: true, spentUsd: 0.5 });
    expect(ledger.fallbacks).toBe(1);
    expect(events).toEqual(['record']);
    await outage.up();
    await vi.waitFor(() => expect(redis.isReady).toBe(true), { timeout: 5_000, interval: 20 });
    expect(await ledger.get(key)).toMatchObject({ degraded: false, spentUsd: 0.25 });
  });
});
