import type { Keyv } from 'keyv';
import { describe, expectTypeOf, it } from 'vitest';
import { type CachedStream, createCache, type L2Option } from './cache';
import type { CacheTestSuiteRunner } from './cache-test-suite';
import type { RedisStore } from './redis-store';
import type { L2Keyv } from './remote-layer';
import { replayStream } from './stream-recording';

// Checked by `tsc` (pnpm typecheck); at run time expectTypeOf does nothing.
describe('public types', () => {
  it('infers values from loaders and typed gets', () => {
    const cache = createCache();
    expectTypeOf(cache.getOrSet('k', async () => ({ a: 1 }))).resolves.toEqualTypeOf<{ a: number }>();
    expectTypeOf(cache.getOrSetEntry('k', async () => 'x')).resolves.toEqualTypeOf<{
      readonly value: string;
      readonly source: 'l1' | 'l2' | 'loader' | 'coalesced';
    }>();
    expectTypeOf(cache.getOrSetStream('k', async () => replayStream([1, 2]))).resolves.toEqualTypeOf<
      CachedStream<number>
    >();
    expectTypeOf(cache.get<{ a: number }>('k')).resolves.toEqualTypeOf<{ a: number } | undefined>();
  });

  it('types event payloads by event name', () => {
    const cache = createCache();
    cache.on('evict', (event) => expectTypeOf(event.reason).toEqualTypeOf<'capacity' | 'expired'>());
    cache.on('error', (event) => expectTypeOf(event.error.code).toBeString());
  });

  it('accepts any Keyv, or a RedisStore, as L2, and vitest as the suite runner', () => {
    expectTypeOf<Keyv>().toExtend<L2Keyv>();
    expectTypeOf<RedisStore>().toExtend<L2Option>();
    expectTypeOf<{ describe: typeof describe; it: typeof it }>().toExtend<CacheTestSuiteRunner>();
  });
});
