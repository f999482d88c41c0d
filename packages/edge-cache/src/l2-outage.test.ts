import { createClient } from '@keyv/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { connectTestRedis, freePort, startSilentServer, ThrowawayRedis } from '../test/redis-helpers';
import { type Cache, createCache } from './cache';
import type { CacheErrorCode } from './errors';
import { createRedisStore } from './redis-store';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function track(cache: Cache): { cache: Cache; errors: CacheErrorCode[] } {
  const errors: CacheErrorCode[] = [];
  cache.on('error', ({ error }) => errors.push(error.code));
  cleanups.push(() => cache.close());
  return { cache, errors };
}

async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met in time');
}

describe('L2 down at start (nothing listens on its port)', () => {
  it('answers from L1 and the loader, counts L2 failures, and fails fast instead of waiting for the deadline', async () => {
    const port = await freePort();
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 200 });
    // A deadline far longer than the test: a stalled call would show up as a timeout.
    const { cache, errors } = track(createCache({ l2: store, l2TimeoutMs: 30_000 }));

    await expect(cache.set('k', { v: 1 })).resolves.toBeUndefined();
    expect(await cache.get('k')).toEqual({ v: 1 });
    expect(await cache.get('missing')).toBeUndefined();
    expect(await cache.getOrSetEntry('loaded', async () => 'from loader')).toEqual({
      value: 'from loader',
      source: 'loader',
    });
    await cache.idle();

    const l2 = cache.stats().l2;
    expect(l2).toMatchObject({ hits: 0, writes: 0, timeouts: 0 });
    expect(l2?.errors).toBe(4); // set k, get missing, get loaded, write-behind of loaded
    expect(errors.every((code) => code === 'LLM_EDGE_CACHE_L2_FAILED')).toBe(true);
    expect(store.ready).toBe(false);
    await eventually(() => store.connectionErrors > 0);

    // @keyv/redis handles a failed clear() itself; the store still counts what it reported.
    const before = store.adapterErrors;
    await cache.clear();
    expect(store.adapterErrors).toBeGreaterThan(before);
  });

  it('closes promptly while still trying to connect', async () => {
    const port = await freePort();
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}` });
    const cache = createCache({ l2: store });
    await expect(cache.close()).resolves.toBeUndefined();
    expect(store.client.isOpen).toBe(false);
  });
});

describe('L2 that accepts connections and never answers', () => {
  it('with the store’s own client: never ready, every call a fast miss', async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const store = createRedisStore({ url: `redis://127.0.0.1:${silent.port}` });
    const { cache, errors } = track(createCache({ l2: store, l2TimeoutMs: 30_000 }));
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(await cache.get('other')).toBeUndefined();
    expect(errors).toEqual(['LLM_EDGE_CACHE_L2_FAILED', 'LLM_EDGE_CACHE_L2_FAILED']);
  });

  it('with a client that queues commands: each call gives up at the deadline as a counted timeout', async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const client = createClient({ url: `redis://127.0.0.1:${silent.port}` });
    const store = createRedisStore({ client });
    const { cache, errors } = track(createCache({ l2: store, l2TimeoutMs: 100 }));
    const startedAt = performance.now();
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v'); // served by L1
    expect(await cache.getOrSet('loaded', async () => 'fresh')).toBe('fresh');
    await cache.idle();
    expect(errors).toEqual([
      'LLM_EDGE_CACHE_L2_TIMEOUT',
      'LLM_EDGE_CACHE_L2_TIMEOUT',
      'LLM_EDGE_CACHE_L2_TIMEOUT',
      'LLM_EDGE_CACHE_L2_TIMEOUT',
    ]);
    expect(cache.stats().l2).toMatchObject({ errors: 4, timeouts: 4, misses: 2 });
    // Four deadlines of 100 ms, not a wait for a Redis that never answers.
    expect(performance.now() - startedAt).toBeLessThan(10_000);
    await cache.close(); // must not hang on the commands still queued
  });
});

describe('L2 killed and restarted mid-test', () => {
  it('keeps serving from L1 while Redis is gone and reconnects by itself when it is back', async () => {
    const redis = await ThrowawayRedis.start();
    cleanups.push(() => redis.kill());
    const store = createRedisStore({ url: redis.url, keyPrefix: 'restart' });
    await store.whenReady(AbortSignal.timeout(5000));
    const { cache, errors } = track(createCache({ l2: store, l2TimeoutMs: 30_000 }));
    const probe = await connectTestRedis(redis.url);

    await cache.set('before', 'written while up');
    expect(await probe.exists('restart:before')).toBe(1);
    probe.destroy();

    await redis.kill();
    await eventually(() => !store.ready);
    expect(await cache.get('before')).toBe('written while up'); // L1
    expect(await cache.get('unknown')).toBeUndefined();
    await expect(cache.set('during', 'L1 only')).resolves.toBeUndefined();
    expect(await cache.get('during')).toBe('L1 only');
    expect(errors).toEqual(['LLM_EDGE_CACHE_L2_FAILED', 'LLM_EDGE_CACHE_L2_FAILED']);

    await redis.restart();
    await store.whenReady(AbortSignal.timeout(10_000));
    await cache.set('after', 'written after the restart');
    const fresh = await connectTestRedis(redis.url);
    expect(await fresh.exists('restart:after')).toBe(1);
    fresh.destroy();
    expect(cache.stats().l2?.errors).toBe(2);

    const l2Only = track(
      createCache({ l1: false, l2: createRedisStore({ url: redis.url, keyPrefix: 'restart' }) }),
    );
    await eventually(async () => (await l2Only.cache.get('after')) === 'written after the restart');
  });
});

describe('L2 slower than its deadline', () => {
  it('abandons a stalled write at the deadline, keeps the value in L1, and recovers when Redis does', async () => {
    const redis = await ThrowawayRedis.start();
    cleanups.push(() => redis.kill());
    const store = createRedisStore({ url: redis.url, keyPrefix: 'slow' });
    await store.whenReady(AbortSignal.timeout(5000));
    const { cache, errors } = track(createCache({ l2: store, l2TimeoutMs: 100 }));
    const admin = await connectTestRedis(redis.url);
    cleanups.push(async () => admin.destroy());

    // Writes stall for 20 s; reads and CLIENT UNPAUSE still go through.
    await admin.sendCommand(['CLIENT', 'PAUSE', '20000', 'WRITE']);
    const startedAt = performance.now();
    await cache.set('k', 'kept in L1');
    expect(performance.now() - startedAt).toBeLessThan(20_000);
    expect(errors).toEqual(['LLM_EDGE_CACHE_L2_TIMEOUT']);
    expect(cache.stats().l2).toMatchObject({ timeouts: 1, writes: 0 });
    expect(await cache.get('k')).toBe('kept in L1');

    await admin.sendCommand(['CLIENT', 'UNPAUSE']);
    await cache.set('k2', 'after the stall');
    expect(await admin.get('slow:k2')).not.toBeNull();
    expect(cache.stats().l2).toMatchObject({ timeouts: 1, writes: 1 });
  });
});
