import { describe, expect, it } from 'vitest';
import { deferred, FakeClock, settle } from '../test/fake-clock';
import { type CacheOptions, createCache } from './cache';
import { CacheClosedError, InvalidCacheOptionError, ValueNotJsonError } from './errors';
import type { CacheEventMap } from './events';

function memoryCache(options: CacheOptions = {}) {
  const clock = new FakeClock();
  const cache = createCache({ clock, ...options });
  return { cache, clock };
}

/** A JSON value whose serialized form is exactly `bytes` bytes long. */
function valueOfBytes(bytes: number): string {
  return 'x'.repeat(bytes - 2);
}

describe('L1 TTL', () => {
  it('serves an entry until its TTL passes, then misses and counts the expiry', async () => {
    const { cache, clock } = memoryCache({ ttlMs: 1000 });
    const evictions: CacheEventMap['evict'][] = [];
    cache.on('evict', (event) => evictions.push(event));
    await cache.set('k', { a: 1 });
    clock.advance(999);
    expect(await cache.get('k')).toEqual({ a: 1 });
    clock.advance(2);
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().l1).toMatchObject({ hits: 1, misses: 1, expirations: 1, entries: 0 });
    expect(evictions).toEqual([{ layer: 'l1', key: 'k', reason: 'expired' }]);
  });

  it('uses the per-call TTL over the default, capped by l1.maxTtlMs', async () => {
    const { cache, clock } = memoryCache({ ttlMs: 1000, l1: { maxTtlMs: 5000 } });
    await cache.set('short', 1, { ttlMs: 100 });
    await cache.set('long', 2, { ttlMs: 60_000 });
    await cache.set('default', 3);
    clock.advance(101);
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('default')).toBe(3);
    clock.advance(1000);
    expect(await cache.get('default')).toBeUndefined();
    expect(await cache.get('long')).toBe(2);
    clock.advance(4000);
    expect(await cache.get('long')).toBeUndefined();
  });

  it('gives getOrSet values the requested TTL', async () => {
    const { cache, clock } = memoryCache({ ttlMs: 10_000 });
    await cache.getOrSet('k', async () => 'v', { ttlMs: 50 });
    clock.advance(51);
    let calls = 0;
    expect(await cache.getOrSet('k', async () => `v${++calls}`)).toBe('v1');
  });
});

describe('L1 bounds', () => {
  it('evicts the least recently used entries when the byte budget is exceeded', async () => {
    // Each entry weighs 300 bytes of JSON + a 2-character key.
    const { cache } = memoryCache({ l1: { maxBytes: 1000, maxEntries: 100 } });
    const evicted: string[] = [];
    cache.on('evict', ({ key, reason }) => {
      if (reason === 'capacity') evicted.push(key);
    });
    await cache.set('k1', valueOfBytes(300));
    await cache.set('k2', valueOfBytes(300));
    await cache.set('k3', valueOfBytes(300));
    expect(cache.stats().l1?.bytes).toBe(906);
    await cache.get('k1'); // k1 becomes the most recently used; k2 is now the oldest
    await cache.set('k4', valueOfBytes(300));
    expect(evicted).toEqual(['k2']);
    expect(await cache.get('k2')).toBeUndefined();
    expect(await cache.get('k1')).toBe(valueOfBytes(300));
    const l1 = cache.stats().l1;
    expect(l1).toMatchObject({ evictions: 1, entries: 3, bytes: 906, maxBytes: 1000 });
  });

  it('evicts by entry count', async () => {
    const { cache } = memoryCache({ l1: { maxEntries: 2 } });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    expect(await cache.get('a')).toBeUndefined();
    expect(cache.stats().l1).toMatchObject({ entries: 2, evictions: 1 });
  });

  it('refuses an entry larger than maxEntryBytes and drops the older value under its key', async () => {
    const { cache } = memoryCache({ l1: { maxBytes: 10_000, maxEntryBytes: 500 } });
    await cache.set('k', 'small');
    await cache.set('k', valueOfBytes(600));
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().l1).toMatchObject({ rejections: 1, entries: 0 });
  });
});

describe('stats and events', () => {
  it('counts hits, misses and writes and computes the hit rate', async () => {
    const { cache } = memoryCache();
    expect(cache.stats().l1?.hitRate).toBe(0);
    await cache.set('k', 1);
    await cache.get('k');
    await cache.get('k');
    await cache.get('k');
    await cache.get('missing');
    expect(cache.stats().l1).toMatchObject({ hits: 3, misses: 1, writes: 1, errors: 0, hitRate: 0.75 });
    expect(cache.stats().l2).toBeUndefined();
    cache.resetStats();
    expect(cache.stats().l1).toMatchObject({ hits: 0, misses: 0, writes: 0, entries: 1 });
  });

  it('emits hit, miss and write events, and stops after unsubscribe', async () => {
    const { cache } = memoryCache();
    const seen: string[] = [];
    const offHit = cache.on('hit', ({ layer, key }) => seen.push(`hit:${layer}:${key}`));
    cache.on('miss', ({ layer, key }) => seen.push(`miss:${layer}:${key}`));
    cache.on('write', ({ layer, key, bytes }) => seen.push(`write:${layer}:${key}:${bytes}`));
    await cache.set('k', 'é');
    await cache.get('k');
    await cache.get('nope');
    offHit();
    await cache.get('k');
    expect(seen).toEqual(['write:l1:k:4', 'hit:l1:k', 'miss:l1:nope']);
  });

  it('counts a throwing listener and keeps working', async () => {
    const { cache } = memoryCache();
    cache.on('write', () => {
      throw new Error('metrics backend down');
    });
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    expect(cache.stats().listenerErrors).toBe(1);
  });
});

describe('getOrSet single-flight', () => {
  it('runs one loader for 100 concurrent callers and gives each its own copy', async () => {
    const { cache } = memoryCache();
    const gate = deferred<void>();
    let calls = 0;
    const loader = async () => {
      calls += 1;
      await gate.promise;
      return { answer: 42, tags: ['a'] };
    };
    const callers = Array.from({ length: 100 }, () => cache.getOrSetEntry('k', loader));
    await settle();
    expect(cache.stats().inFlight).toBe(1);
    gate.resolve();
    const entries = await Promise.all(callers);
    expect(calls).toBe(1);
    expect(entries.map((entry) => entry.source).sort()).toEqual([...Array(99).fill('coalesced'), 'loader']);
    for (const entry of entries) expect(entry.value).toEqual({ answer: 42, tags: ['a'] });
    entries[0]?.value.tags.push('mutated');
    expect(entries[1]?.value.tags).toEqual(['a']);
    expect(await cache.getOrSetEntry('k', loader)).toEqual({
      value: { answer: 42, tags: ['a'] },
      source: 'l1',
    });
    expect(cache.stats()).toMatchObject({ loads: 1, loadErrors: 0, coalesced: 99, inFlight: 0 });
  });

  it('rejects all 100 waiters with the loader error, caches nothing, and loads again next time', async () => {
    const { cache } = memoryCache();
    const gate = deferred<void>();
    const failure = new Error('upstream 503');
    let calls = 0;
    const failing = async (): Promise<string> => {
      calls += 1;
      await gate.promise;
      throw failure;
    };
    const callers = Array.from({ length: 100 }, () => cache.getOrSet('k', failing));
    gate.resolve();
    const results = await Promise.allSettled(callers);
    expect(calls).toBe(1);
    expect(results.every((result) => result.status === 'rejected' && result.reason === failure)).toBe(true);
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ loads: 1, loadErrors: 1, inFlight: 0 });
    expect(await cache.getOrSet('k', async () => 'second try')).toBe('second try');
    expect(calls).toBe(1);
  });

  it('lets one caller give up without cancelling the load for the others', async () => {
    const { cache } = memoryCache();
    const gate = deferred<void>();
    let loaderSignal: AbortSignal | undefined;
    const loader = async ({ signal }: { signal: AbortSignal }) => {
      loaderSignal = signal;
      await gate.promise;
      return 'answer';
    };
    const leaving = new AbortController();
    const first = cache.getOrSet('k', loader, { signal: leaving.signal });
    const second = cache.getOrSet('k', loader);
    await settle();
    leaving.abort(new Error('client went away'));
    await expect(first).rejects.toThrow('client went away');
    expect(loaderSignal?.aborted).toBe(false);
    gate.resolve();
    expect(await second).toBe('answer');
    expect(await cache.get('k')).toBe('answer');
  });

  it('aborts the loader once every waiting caller has gone, and starts afresh for the next one', async () => {
    const { cache } = memoryCache();
    let loaderSignal: AbortSignal | undefined;
    const hanging = ({ signal }: { signal: AbortSignal }) => {
      loaderSignal = signal;
      return new Promise<string>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    };
    const a = new AbortController();
    const b = new AbortController();
    const first = cache.getOrSet('k', hanging, { signal: a.signal });
    const second = cache.getOrSet('k', hanging, { signal: b.signal });
    await settle();
    a.abort(new Error('a left'));
    await expect(first).rejects.toThrow('a left');
    expect(loaderSignal?.aborted).toBe(false);
    b.abort(new Error('b left'));
    await expect(second).rejects.toThrow('b left');
    expect(loaderSignal?.aborted).toBe(true);
    expect(loaderSignal?.reason).toEqual(new Error('b left'));
    expect(cache.stats().inFlight).toBe(0);
    expect(await cache.getOrSet('k', async () => 'fresh')).toBe('fresh');
  });

  it('rejects at once for a caller whose signal is already aborted', async () => {
    const { cache } = memoryCache();
    let calls = 0;
    await expect(
      cache.getOrSet(
        'k',
        async () => {
          calls += 1;
          return 1;
        },
        { signal: AbortSignal.abort(new Error('gone')) },
      ),
    ).rejects.toThrow('gone');
    expect(calls).toBe(0);
  });

  it('returns but does not cache a value refused by shouldCache, or undefined', async () => {
    const { cache } = memoryCache();
    const answer = { finish_reason: 'length' };
    expect(
      await cache.getOrSet('k', async () => answer, { shouldCache: (v) => v.finish_reason === 'stop' }),
    ).toBe(answer);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getOrSet('u', async () => undefined)).toBeUndefined();
    expect(cache.stats().l1?.writes).toBe(0);
  });

  it('returns a loaded value that has no JSON form, counting and reporting it as uncacheable', async () => {
    const { cache } = memoryCache();
    const errors: string[] = [];
    cache.on('error', ({ error }) => errors.push(error.code));
    const value = { big: 10n };
    expect(await cache.getOrSet('k', async () => value)).toBe(value);
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().uncacheable).toBe(1);
    expect(errors).toEqual(['LLM_EDGE_CACHE_VALUE_NOT_JSON']);
  });

  it('emits load and coalesce events', async () => {
    const { cache, clock } = memoryCache();
    const events: string[] = [];
    cache.on('load', ({ outcome, durationMs }) => events.push(`load:${outcome}:${durationMs}`));
    cache.on('coalesce', ({ key }) => events.push(`coalesce:${key}`));
    const gate = deferred<void>();
    const loader = async () => {
      await gate.promise;
      clock.advance(1234);
      return 1;
    };
    const both = Promise.all([cache.getOrSet('k', loader), cache.getOrSet('k', loader)]);
    gate.resolve();
    await both;
    expect(events).toEqual(['coalesce:k', 'load:ok:1234']);
  });
});

describe('values', () => {
  it('refuses a value without JSON form', async () => {
    const { cache } = memoryCache();
    await expect(cache.set('k', undefined)).rejects.toSatisfy(ValueNotJsonError.isInstance);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(cache.set('k', cyclic)).rejects.toSatisfy(ValueNotJsonError.isInstance);
  });

  it('stores what JSON keeps: a Date comes back as its ISO string', async () => {
    const { cache } = memoryCache();
    await cache.set('k', { at: new Date(0), gone: undefined });
    expect(await cache.get('k')).toEqual({ at: '1970-01-01T00:00:00.000Z' });
  });

  it('deletes and clears', async () => {
    const { cache } = memoryCache();
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.delete('a');
    expect(await cache.get('a')).toBeUndefined();
    await cache.clear();
    expect(await cache.get('b')).toBeUndefined();
  });
});

describe('read-only L1 hits', () => {
  it('parse an entry once and hand every reader the same frozen value', async () => {
    const { cache } = memoryCache();
    const loader = async () => ({ answer: { text: 'hi' }, list: [1, 2] });
    const first = await cache.getOrSetEntry('k', loader, { readOnly: true });
    expect(first.source).toBe('loader');
    expect(Object.isFrozen(first.value)).toBe(false);

    const hit = await cache.getOrSetEntry('k', loader, { readOnly: true });
    const again = await cache.getOrSetEntry('k', loader, { readOnly: true });
    expect(hit).toEqual({ value: { answer: { text: 'hi' }, list: [1, 2] }, source: 'l1' });
    expect(again.value).toBe(hit.value);
    expect(Object.isFrozen(hit.value)).toBe(true);
    expect(Object.isFrozen(hit.value.answer)).toBe(true);
    expect(Object.isFrozen(hit.value.list)).toBe(true);
    expect(cache.stats().l1).toMatchObject({ hits: 2, misses: 1 });
  });

  it('leave other callers their own mutable copy', async () => {
    const { cache } = memoryCache();
    await cache.set('k', { n: 1 });
    const shared = await cache.getOrSetEntry('k', async () => ({ n: 2 }), { readOnly: true });
    const own = await cache.getOrSetEntry<{ n: number }>('k', async () => ({ n: 2 }));
    expect(own.value).not.toBe(shared.value);
    own.value.n = 3;
    expect(await cache.get('k')).toEqual({ n: 1 });
    expect(shared.value).toEqual({ n: 1 });
  });
});

describe('lifecycle and options', () => {
  it('refuses every operation after close', async () => {
    const { cache } = memoryCache();
    await cache.close();
    await cache.close();
    await expect(cache.get('k')).rejects.toSatisfy(CacheClosedError.isInstance);
    await expect(cache.set('k', 1)).rejects.toSatisfy(CacheClosedError.isInstance);
    await expect(cache.getOrSet('k', async () => 1)).rejects.toSatisfy(CacheClosedError.isInstance);
  });

  it('validates options at construction, naming the bad field', () => {
    const fieldOf = (options: unknown): string | undefined => {
      try {
        createCache(options as CacheOptions);
        return undefined;
      } catch (error) {
        return InvalidCacheOptionError.isInstance(error) ? error.field : 'not an option error';
      }
    };
    expect(fieldOf({ ttlMs: 0 })).toBe('ttlMs');
    expect(fieldOf({ ttlMs: 1.5 })).toBe('ttlMs');
    expect(fieldOf({ l1: { maxBytes: -1 } })).toBe('l1.maxBytes');
    expect(fieldOf({ l1: { maxEntries: 0 } })).toBe('l1.maxEntries');
    expect(fieldOf({ l1: { maxBytes: 100, maxEntryBytes: 200 } })).toBe('l1.maxEntryBytes');
    expect(fieldOf({ l1: { maxTtlMs: 'soon' } })).toBe('l1.maxTtlMs');
    expect(fieldOf({ l1: 'big' })).toBe('l1');
    expect(fieldOf({ l2: {} })).toBe('l2');
    expect(fieldOf({ l2TimeoutMs: -5 })).toBe('l2TimeoutMs');
    expect(fieldOf({ clock: {} })).toBe('clock');
    expect(fieldOf({ l1: { maxBytes: 100 } })).toBeUndefined();
    expect(fieldOf({ l1: false })).toBeUndefined();
  });

  it('validates a per-call TTL', async () => {
    const { cache } = memoryCache();
    await expect(cache.set('k', 1, { ttlMs: -1 })).rejects.toSatisfy(InvalidCacheOptionError.isInstance);
  });

  it('works with no layer at all as a pure single-flight', async () => {
    const cache = createCache({ l1: false });
    let calls = 0;
    const loader = async () => ++calls;
    expect(await Promise.all([cache.getOrSet('k', loader), cache.getOrSet('k', loader)])).toEqual([1, 1]);
    expect(await cache.getOrSet('k', loader)).toBe(2);
    expect(cache.stats().l1).toBeUndefined();
  });
});
