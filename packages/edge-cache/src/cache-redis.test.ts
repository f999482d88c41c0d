import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferred, FakeClock } from '../test/fake-clock';
import {
  connectTestRedis,
  deleteByPrefix,
  REDIS_URL,
  type TestRedisClient,
  uniquePrefix,
} from '../test/redis-helpers';
import { type Cache, type CacheOptions, createCache } from './cache';
import { cacheTestSuite } from './cache-test-suite';
import { createRedisStore, type RedisStore } from './redis-store';

const prefix = uniquePrefix('l2');
let raw: TestRedisClient;
const opened: Cache[] = [];

beforeAll(async () => {
  raw = await connectTestRedis();
});

afterAll(async () => {
  for (const cache of opened) await cache.close();
  if (raw !== undefined) {
    await deleteByPrefix(raw, prefix);
    expect(await raw.keys(`${prefix}*`)).toEqual([]);
    raw.destroy();
  }
});

async function redisStore(keyPrefix = prefix): Promise<RedisStore> {
  const store = createRedisStore({ url: REDIS_URL, keyPrefix });
  await store.whenReady(AbortSignal.timeout(5000));
  return store;
}

async function redisCache(options: Omit<CacheOptions, 'l2'> = {}, keyPrefix = prefix): Promise<Cache> {
  const cache = createCache({ ...options, l2: await redisStore(keyPrefix) });
  opened.push(cache);
  return cache;
}

describe('Redis L2 (REDIS_URL)', () => {
  it('writes to both layers, under the key prefix, with the TTL set in Redis', async () => {
    const cache = await redisCache();
    await cache.set('both', { v: 1 }, { ttlMs: 60_000 });
    expect(await raw.exists(`${prefix}:both`)).toBe(1);
    const ttl = await raw.pTTL(`${prefix}:both`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(cache.stats().l1).toMatchObject({ writes: 1, entries: 1 });
    expect(cache.stats().l2).toMatchObject({ writes: 1, errors: 0 });
  });

  it('reads L1 first, then L2; an L2 hit refills L1 for the time the entry has left', async () => {
    const writer = await redisCache();
    await writer.set('refill', 'from redis', { ttlMs: 60_000 });
    // The reader's clock is 50 s ahead: the entry has about 10 s left.
    const clock = new FakeClock(Date.now() + 50_000);
    const reader = await redisCache({ clock });
    expect(await reader.get('refill')).toBe('from redis');
    expect(reader.stats().l1).toMatchObject({ hits: 0, misses: 1, writes: 1 });
    expect(reader.stats().l2).toMatchObject({ hits: 1, misses: 0 });
    expect(await reader.get('refill')).toBe('from redis');
    expect(reader.stats().l1?.hits).toBe(1);
    expect(reader.stats().l2?.hits).toBe(1);
    clock.advance(10_500);
    // Expired in L1, and from this clock's point of view in L2 too.
    expect(await reader.get('refill')).toBeUndefined();
    expect(reader.stats().l2?.misses).toBe(1);
  });

  it('expires entries in Redis itself', async () => {
    const cache = await redisCache({ l1: false });
    await cache.set('short', 'gone soon', { ttlMs: 150 });
    expect(await raw.pTTL(`${prefix}:short`)).toBeGreaterThan(0);
    for (let attempt = 0; attempt < 100 && (await raw.exists(`${prefix}:short`)) === 1; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await raw.exists(`${prefix}:short`)).toBe(0);
    expect(await cache.get('short')).toBeUndefined();
    expect(cache.stats().l2).toMatchObject({ misses: 1, errors: 0 });
  });

  it('keeps an entry in L2 after its shorter L1 life (l1.maxTtlMs) ends', async () => {
    const clock = new FakeClock(Date.now());
    const cache = await redisCache({ clock, l1: { maxTtlMs: 1000 } });
    await cache.set('l1-short', 'still in redis', { ttlMs: 60_000 });
    clock.advance(1001);
    expect(await cache.get('l1-short')).toBe('still in redis');
    expect(cache.stats().l1).toMatchObject({ misses: 1, expirations: 1 });
    expect(cache.stats().l2?.hits).toBe(1);
  });

  it('coalesces 100 concurrent getOrSet callers into one L2 lookup, one load and one L2 write', async () => {
    const cache = await redisCache();
    const gate = deferred<void>();
    let calls = 0;
    const loader = async () => {
      calls += 1;
      await gate.promise;
      return { id: 'chatcmpl-1', content: 'shared' };
    };
    const callers = Array.from({ length: 100 }, () => cache.getOrSet('flight', loader));
    gate.resolve();
    const values = await Promise.all(callers);
    await cache.idle();
    expect(calls).toBe(1);
    expect(new Set(values.map((value) => JSON.stringify(value))).size).toBe(1);
    expect(cache.stats().l2).toMatchObject({ hits: 0, misses: 1, writes: 1 });
    expect(cache.stats().coalesced).toBe(99);

    const other = await redisCache();
    expect(await other.getOrSetEntry('flight', loader)).toEqual({
      value: { id: 'chatcmpl-1', content: 'shared' },
      source: 'l2',
    });
    expect(calls).toBe(1);
  });

  it('replays a stream recorded by another instance from L2', async () => {
    const first = await redisCache();
    const live = await first.getOrSetStream('stream', async () =>
      (async function* () {
        yield { choices: [{ delta: { content: 'Hi' } }] };
        yield { choices: [], usage: { total_tokens: 3 } };
      })(),
    );
    for await (const _chunk of live.stream) {
      // drain
    }
    await first.idle();
    const second = await redisCache();
    const replay = await second.getOrSetStream('stream', async () => {
      throw new Error('must not load');
    });
    expect(replay.source).toBe('l2');
    const chunks: unknown[] = [];
    for await (const chunk of replay.stream) chunks.push(chunk);
    expect(chunks).toEqual([
      { choices: [{ delta: { content: 'Hi' } }] },
      { choices: [], usage: { total_tokens: 3 } },
    ]);
  });

  it('deletes from both layers, and clear() touches only its own prefix', async () => {
    const otherPrefix = `${prefix}-other`;
    const mine = await redisCache();
    const theirs = await redisCache({}, otherPrefix);
    try {
      await mine.set('mine-1', 1);
      await mine.set('mine-2', 2);
      await theirs.set('theirs', 3);
      await mine.delete('mine-1');
      expect(await raw.exists(`${prefix}:mine-1`)).toBe(0);
      await mine.clear();
      expect(await raw.exists(`${prefix}:mine-2`)).toBe(0);
      expect(await mine.get('mine-2')).toBeUndefined();
      expect(await raw.exists(`${otherPrefix}:theirs`)).toBe(1);
    } finally {
      await deleteByPrefix(raw, otherPrefix);
    }
  });
});

describe('conformance', () => {
  cacheTestSuite({ describe, it }, { name: 'memory only', createCache: () => createCache() });
  cacheTestSuite(
    { describe, it },
    {
      name: 'L1 + Redis L2',
      createCache: async () => createCache({ l2: await redisStore(`${prefix}:suite-both`) }),
      sharedL2: true,
    },
  );
  cacheTestSuite(
    { describe, it },
    {
      name: 'Redis only',
      createCache: async () => createCache({ l1: false, l2: await redisStore(`${prefix}:suite-l2`) }),
      sharedL2: true,
    },
  );
});
