import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Cache } from './cache';
import { ValueNotJsonError } from './errors';

/** The test-runner functions the suite registers its tests with (vitest, node:test, mocha, jest). */
export interface CacheTestSuiteRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
}

/** How the suite gets caches to test. */
export interface CacheTestSuiteOptions {
  /** Suite title. @default 'cache conformance' */
  readonly name?: string | undefined;
  /**
   * Returns a new cache. Called at least once per test; each cache is closed by the suite. Caches
   * that share a store (one Redis prefix) let the suite check that one sees the other's writes.
   */
  readonly createCache: () => Cache | Promise<Cache>;
  /** True when two caches from `createCache` share their L2. @default false */
  readonly sharedL2?: boolean | undefined;
}

const SAMPLE_VALUES: readonly unknown[] = [
  {
    id: 'chatcmpl-1',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hé 👋 "quoted" \\ \n' } }],
  },
  [1, 2.5, -0.125, 1e21, null, true, false, 'x'],
  'a plain string',
  '',
  ':starts-with-colon',
  0,
  42.42,
  true,
  false,
  null,
  { nested: { deeper: { deepest: [{}, []] } } },
];

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/**
 * Registers a conformance suite for a cache set-up (its layers, its store): round trips of JSON
 * values, misses, overwrites, deletes, TTL expiry, single-flight loads, stream recording and, for
 * shared stores, visibility across instances. Uses `node:assert`, so it runs under any runner.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { createCache } from '@llm-edge/cache';
 * import { createRedisStore } from '@llm-edge/cache/redis';
 * import { cacheTestSuite } from '@llm-edge/cache/testing';
 *
 * cacheTestSuite({ describe, it }, {
 *   createCache: () => createCache({ l2: createRedisStore({ keyPrefix: 'test:my-app' }) }),
 *   sharedL2: true,
 * });
 * ```
 */
export function cacheTestSuite(runner: CacheTestSuiteRunner, options: CacheTestSuiteOptions): void {
  const run = randomUUID();
  let counter = 0;
  const newKey = (): string => {
    counter += 1;
    return `conformance-${run}-${counter}`;
  };

  async function withCaches(count: number, body: (caches: Cache[], keys: string[]) => Promise<void>) {
    const caches: Cache[] = [];
    const keys: string[] = [];
    try {
      for (let index = 0; index < count; index += 1) caches.push(await options.createCache());
      await body(caches, keys);
    } finally {
      const [first] = caches;
      if (first !== undefined) {
        await first.idle();
        for (const key of keys) await first.delete(key);
      }
      for (const cache of caches) await cache.close();
    }
  }

  runner.describe(options.name ?? 'cache conformance', () => {
    runner.it('round-trips JSON values unchanged', async () => {
      await withCaches(1, async ([cache], keys) => {
        for (const value of SAMPLE_VALUES) {
          const key = newKey();
          keys.push(key);
          await cache!.set(key, value);
          assert.deepEqual(await cache!.get(key), value);
        }
      });
    });

    runner.it('returns copies: mutating a returned value does not change the cache', async () => {
      await withCaches(1, async ([cache], keys) => {
        const key = newKey();
        keys.push(key);
        await cache!.set(key, { list: [1] });
        const first = await cache!.get<{ list: number[] }>(key);
        first?.list.push(2);
        assert.deepEqual(await cache!.get(key), { list: [1] });
      });
    });

    runner.it('answers undefined for a missing key', async () => {
      await withCaches(1, async ([cache]) => {
        assert.equal(await cache!.get(newKey()), undefined);
      });
    });

    runner.it('overwrites and deletes', async () => {
      await withCaches(1, async ([cache], keys) => {
        const key = newKey();
        keys.push(key);
        await cache!.set(key, 'first');
        await cache!.set(key, 'second');
        assert.equal(await cache!.get(key), 'second');
        await cache!.delete(key);
        assert.equal(await cache!.get(key), undefined);
      });
    });

    runner.it('keeps similar keys apart', async () => {
      await withCaches(1, async ([cache], keys) => {
        const base = newKey();
        const variants = [base, `${base}:x`, base.toUpperCase(), `${base} `];
        keys.push(...variants);
        for (const [index, key] of variants.entries()) await cache!.set(key, index);
        for (const [index, key] of variants.entries()) assert.equal(await cache!.get(key), index);
      });
    });

    runner.it('refuses a value that has no JSON form', async () => {
      await withCaches(1, async ([cache]) => {
        await assert.rejects(cache!.set(newKey(), undefined), (error) => ValueNotJsonError.isInstance(error));
        await assert.rejects(cache!.set(newKey(), { n: 1n }), (error) => ValueNotJsonError.isInstance(error));
      });
    });

    runner.it('expires an entry after its TTL and keeps a longer-lived one', async () => {
      await withCaches(1, async ([cache], keys) => {
        const short = newKey();
        const long = newKey();
        keys.push(short, long);
        await cache!.set(short, 'short-lived', { ttlMs: 40 });
        await cache!.set(long, 'long-lived', { ttlMs: 600_000 });
        await eventually(
          async () => (await cache!.get(short)) === undefined,
          'the short-lived entry expires',
        );
        assert.equal(await cache!.get(long), 'long-lived');
      });
    });

    runner.it('getOrSet calls the loader once for concurrent callers and caches the value', async () => {
      await withCaches(1, async ([cache], keys) => {
        const key = newKey();
        keys.push(key);
        let calls = 0;
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const loader = async (): Promise<{ answer: number }> => {
          calls += 1;
          await gate;
          return { answer: 42 };
        };
        const callers = Array.from({ length: 50 }, () => cache!.getOrSet(key, loader));
        release();
        const values = await Promise.all(callers);
        assert.equal(calls, 1);
        for (const value of values) assert.deepEqual(value, { answer: 42 });
        assert.deepEqual(await cache!.getOrSet(key, loader), { answer: 42 });
        assert.equal(calls, 1);
      });
    });

    runner.it('getOrSet rejects every waiter with the loader error and caches nothing', async () => {
      await withCaches(1, async ([cache], keys) => {
        const key = newKey();
        keys.push(key);
        const failure = new Error('upstream failed');
        let calls = 0;
        const failing = async (): Promise<string> => {
          calls += 1;
          await new Promise((resolve) => setTimeout(resolve, 5));
          throw failure;
        };
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, () => cache!.getOrSet(key, failing)),
        );
        assert.equal(calls, 1);
        for (const result of results) {
          assert.equal(result.status, 'rejected');
          assert.equal((result as PromiseRejectedResult).reason, failure);
        }
        assert.equal(await cache!.get(key), undefined);
        assert.equal(await cache!.getOrSet(key, async () => 'recovered'), 'recovered');
      });
    });

    runner.it('getOrSetStream records a stream once and replays it', async () => {
      await withCaches(1, async ([cache], keys) => {
        const key = newKey();
        keys.push(key);
        let calls = 0;
        const loader = async (): Promise<AsyncIterable<{ delta: string }>> => {
          calls += 1;
          return (async function* () {
            yield { delta: 'Hel' };
            yield { delta: 'lo' };
          })();
        };
        const collect = async (stream: AsyncIterable<{ delta: string }>) => {
          const chunks: { delta: string }[] = [];
          for await (const chunk of stream) chunks.push(chunk);
          return chunks;
        };
        const live = await cache!.getOrSetStream(key, loader);
        assert.equal(live.source, 'loader');
        assert.deepEqual(await collect(live.stream), [{ delta: 'Hel' }, { delta: 'lo' }]);
        await cache!.idle();
        const replay = await cache!.getOrSetStream(key, loader);
        assert.notEqual(replay.source, 'loader');
        assert.deepEqual(await collect(replay.stream), [{ delta: 'Hel' }, { delta: 'lo' }]);
        assert.equal(calls, 1);
      });
    });

    if (options.sharedL2 === true) {
      runner.it('a write and a delete by one cache are seen by another sharing its store', async () => {
        await withCaches(2, async ([writer, reader], keys) => {
          const written = newKey();
          const deleted = newKey();
          keys.push(written, deleted);
          await writer!.set(written, { shared: true });
          assert.deepEqual(await reader!.get(written), { shared: true });
          await writer!.set(deleted, 'soon gone');
          await writer!.delete(deleted);
          assert.equal(await reader!.get(deleted), undefined);
        });
      });

      runner.it('getOrSet in one cache is a hit in another', async () => {
        await withCaches(2, async ([first, second], keys) => {
          const key = newKey();
          keys.push(key);
          await first!.getOrSet(key, async () => 'loaded once');
          await first!.idle();
          const entry = await second!.getOrSetEntry(key, async () => 'loaded twice');
          assert.deepEqual(entry, { value: 'loaded once', source: 'l2' });
        });
      });
    }
  });
}
