import { describe, expect, it } from 'vitest';
import { deferred, FakeClock, settle } from '../test/fake-clock';
import { PushSource } from '../test/push-source';
import { createCache } from './cache';
import { recordStream, replayStream } from './stream-recording';

interface Chunk {
  readonly delta: string;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** Reads `count` chunks from an iterator that stays open. */
async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const chunks: T[] = [];
  for (let index = 0; index < count; index += 1) {
    const result = await iterator.next();
    if (result.done === true) break;
    chunks.push(result.value);
  }
  return chunks;
}

function newCache() {
  return createCache({ clock: new FakeClock() });
}

describe('recordStream / replayStream', () => {
  it('passes chunks through and reports the full sequence once the source ends', async () => {
    const recorded: Chunk[][] = [];
    const source = replayStream<Chunk>([{ delta: 'a' }, { delta: 'b' }]);
    expect(await collect(recordStream(source, (chunks) => void recorded.push(chunks)))).toEqual([
      { delta: 'a' },
      { delta: 'b' },
    ]);
    expect(recorded).toEqual([[{ delta: 'a' }, { delta: 'b' }]]);
  });

  it('reports nothing for a stream stopped early or failing', async () => {
    const recorded: Chunk[][] = [];
    for await (const _chunk of recordStream(
      replayStream<Chunk>([{ delta: 'a' }, { delta: 'b' }]),
      (c) => void recorded.push(c),
    )) {
      break;
    }
    const failing = (async function* () {
      yield { delta: 'a' };
      throw new Error('cut');
    })();
    await expect(collect(recordStream(failing, (c) => void recorded.push(c)))).rejects.toThrow('cut');
    expect(recorded).toEqual([]);
  });

  it('replays a recording any number of times', async () => {
    const replay = replayStream([1, 2, 3]);
    expect(await collect(replay)).toEqual([1, 2, 3]);
    expect(await collect(replay)).toEqual([1, 2, 3]);
  });
});

describe('getOrSetStream', () => {
  it('streams live to the first caller, lets a late joiner catch up, then caches the recording', async () => {
    const cache = newCache();
    const source = new PushSource<Chunk>();
    let calls = 0;
    const loader = async () => {
      calls += 1;
      return source;
    };
    const first = await cache.getOrSetStream('k', loader);
    expect(first.source).toBe('loader');
    const firstReader = first.stream[Symbol.asyncIterator]();
    source.push({ delta: 'Hel' });
    expect(await take(firstReader, 1)).toEqual([{ delta: 'Hel' }]);
    source.push({ delta: 'lo' });
    await settle();

    const late = await cache.getOrSetStream('k', loader);
    expect(late.source).toBe('coalesced');
    const lateReader = late.stream[Symbol.asyncIterator]();
    expect(await take(lateReader, 2)).toEqual([{ delta: 'Hel' }, { delta: 'lo' }]);

    source.push({ delta: '!' });
    source.end();
    expect(await take(firstReader, 5)).toEqual([{ delta: 'lo' }, { delta: '!' }]);
    expect(await take(lateReader, 5)).toEqual([{ delta: '!' }]);
    expect(calls).toBe(1);

    const cached = await cache.getOrSetStream('k', loader);
    expect(cached.source).toBe('l1');
    expect(await collect(cached.stream)).toEqual([{ delta: 'Hel' }, { delta: 'lo' }, { delta: '!' }]);
    expect(await cache.get('k')).toEqual([{ delta: 'Hel' }, { delta: 'lo' }, { delta: '!' }]);
    expect(calls).toBe(1);
    expect(cache.stats()).toMatchObject({ loads: 1, loadErrors: 0, coalesced: 1, inFlight: 0 });
  });

  it('shares one loader among 100 concurrent callers, each receiving the whole stream', async () => {
    const cache = newCache();
    const gate = deferred<void>();
    let calls = 0;
    const loader = async () => {
      calls += 1;
      await gate.promise;
      return replayStream<Chunk>([{ delta: 'a' }, { delta: 'b' }, { delta: 'c' }]);
    };
    const opened = Array.from({ length: 100 }, () => cache.getOrSetStream('k', loader));
    gate.resolve();
    const streams = await Promise.all(opened);
    const results = await Promise.all(streams.map(({ stream }) => collect(stream)));
    expect(calls).toBe(1);
    for (const chunks of results) expect(chunks).toEqual([{ delta: 'a' }, { delta: 'b' }, { delta: 'c' }]);
  });

  it('gives every reader the mid-stream failure after the chunks before it, and caches nothing', async () => {
    const cache = newCache();
    const source = new PushSource<Chunk>();
    const loader = async () => source;
    const [a, b] = await Promise.all([cache.getOrSetStream('k', loader), cache.getOrSetStream('k', loader)]);
    source.push({ delta: 'partial' });
    source.fail(new Error('upstream reset'));
    for (const { stream } of [a, b]) {
      const seen: Chunk[] = [];
      await expect(
        (async () => {
          for await (const chunk of stream!) seen.push(chunk);
        })(),
      ).rejects.toThrow('upstream reset');
      expect(seen).toEqual([{ delta: 'partial' }]);
    }
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ loads: 1, loadErrors: 1, inFlight: 0 });
  });

  it('rejects every caller when the loader fails before the first chunk', async () => {
    const cache = newCache();
    const gate = deferred<void>();
    const failure = new Error('429');
    const loader = async (): Promise<AsyncIterable<Chunk>> => {
      await gate.promise;
      throw failure;
    };
    const opened = [cache.getOrSetStream('k', loader), cache.getOrSetStream('k', loader)];
    gate.resolve();
    for (const result of await Promise.allSettled(opened)) {
      expect(result).toEqual({ status: 'rejected', reason: failure });
    }
    expect(cache.stats()).toMatchObject({ loads: 1, loadErrors: 1, inFlight: 0 });
  });

  it('keeps streaming to the others when one reader stops early, and still caches', async () => {
    const cache = newCache();
    const source = new PushSource<Chunk>();
    const loader = async () => source;
    const [quitter, stayer] = await Promise.all([
      cache.getOrSetStream('k', loader),
      cache.getOrSetStream('k', loader),
    ]);
    source.push({ delta: 'a' });
    for await (const _chunk of quitter!.stream) break;
    source.push({ delta: 'b' });
    source.end();
    expect(await collect(stayer!.stream)).toEqual([{ delta: 'a' }, { delta: 'b' }]);
    expect(source.returned).toBe(false);
    expect(await cache.get('k')).toEqual([{ delta: 'a' }, { delta: 'b' }]);
  });

  it('cancels the upstream when every reader has gone, caches nothing, and loads afresh next time', async () => {
    const cache = newCache();
    const source = new PushSource<Chunk>();
    let loaderSignal: AbortSignal | undefined;
    const { stream } = await cache.getOrSetStream('k', async ({ signal }) => {
      loaderSignal = signal;
      return source;
    });
    const leaving = new AbortController();
    const other = await cache.getOrSetStream('k', async () => source, { signal: leaving.signal });
    source.push({ delta: 'a' });
    for await (const _chunk of stream) break;
    expect(loaderSignal?.aborted).toBe(false);
    leaving.abort(new Error('client closed'));
    await expect(collect(other.stream)).rejects.toThrow('client closed');
    expect(loaderSignal?.aborted).toBe(true);
    source.push({ delta: 'b' });
    await settle();
    expect(source.returned).toBe(true);
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().inFlight).toBe(0);
    const fresh = await cache.getOrSetStream('k', async () => replayStream([{ delta: 'new' }]));
    expect(fresh.source).toBe('loader');
    expect(await collect(fresh.stream)).toEqual([{ delta: 'new' }]);
  });

  it('stores what toCached returns and replays it through fromCached', async () => {
    const cache = newCache();
    const options = {
      toCached: (chunks: readonly Chunk[]) => ({ text: chunks.map((chunk) => chunk.delta).join('') }),
      fromCached: (value: unknown) =>
        typeof value === 'object' && value !== null && 'text' in value
          ? [{ delta: String((value as { text: unknown }).text) }]
          : undefined,
    };
    const live = await cache.getOrSetStream(
      'k',
      async () => replayStream([{ delta: 'Hel' }, { delta: 'lo' }]),
      options,
    );
    await collect(live.stream);
    expect(await cache.get('k')).toEqual({ text: 'Hello' });
    const replay = await cache.getOrSetStream('k', async () => replayStream<Chunk>([]), options);
    expect(replay.source).toBe('l1');
    expect(await collect(replay.stream)).toEqual([{ delta: 'Hello' }]);
  });

  it('treats a cached value that is not a recording as a miss and replaces it', async () => {
    const cache = newCache();
    await cache.set('k', { not: 'an array' });
    const { stream, source } = await cache.getOrSetStream('k', async () => replayStream([{ delta: 'x' }]));
    expect(source).toBe('loader');
    await collect(stream);
    expect(await cache.get('k')).toEqual([{ delta: 'x' }]);
  });

  it('does not cache a recording refused by shouldCache', async () => {
    const cache = newCache();
    const { stream } = await cache.getOrSetStream('k', async () => replayStream([{ delta: 'x' }]), {
      shouldCache: () => false,
    });
    expect(await collect(stream)).toEqual([{ delta: 'x' }]);
    expect(await cache.get('k')).toBeUndefined();
  });
});
