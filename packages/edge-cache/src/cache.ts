import { CacheClosedError, InvalidCacheOptionError, ValueNotJsonError } from './errors';
import { type CacheEventListener, type CacheEventName, CacheEvents, type CacheSource } from './events';
import { type Clock, type L1Stats, MemoryLayer, type MemoryLayerConfig } from './memory-layer';
import { type L2Keyv, type L2Stats, RemoteLayer } from './remote-layer';
import { Flight, untilAborted } from './single-flight';
import { replayStream, StreamBroadcast } from './stream-recording';
import { describeValue, isRecord, objectOption, optionalPositiveInteger, positiveInteger } from './validate';

/** Limits of the in-process first level (L1). */
export interface L1Options {
  /**
   * Most entries held at once; the least recently used go first.
   * @default 1000
   */
  readonly maxEntries?: number | undefined;
  /**
   * Most bytes held at once (UTF-8 size of each value's JSON plus its key); LRU entries go first.
   * @default 67108864 (64 MiB)
   */
  readonly maxBytes?: number | undefined;
  /**
   * Largest single entry L1 accepts; larger values go to L2 only, so one huge response cannot
   * flush the whole L1. Clamped to `maxBytes`.
   * @default 4194304 (4 MiB)
   */
  readonly maxEntryBytes?: number | undefined;
  /**
   * Upper bound of an entry's life in L1, whatever its TTL: a shorter L1 life lets an instance
   * notice a `delete()` made by another instance in L2 sooner.
   * @default undefined (the entry's own TTL)
   */
  readonly maxTtlMs?: number | undefined;
}

/**
 * A second level: any Keyv 5 instance, or an object holding one and how to close it (like the
 * result of `createRedisStore()`). The cache owns it: `cache.close()` closes it.
 */
export type L2Option = L2Keyv | { readonly keyv: L2Keyv; close?(): Promise<void> };

/** Options of {@link createCache}. */
export interface CacheOptions {
  /**
   * Time to live of an entry, in both layers, unless a call gives its own.
   * @default 300000 (5 minutes)
   */
  readonly ttlMs?: number | undefined;
  /**
   * The in-process level, or `false` for none (every lookup then goes to L2).
   * @default DEFAULT_L1_OPTIONS
   */
  readonly l1?: L1Options | false | undefined;
  /**
   * The shared level. Without it the cache is in-process only.
   * @default undefined
   */
  readonly l2?: L2Option | undefined;
  /**
   * Deadline of each L2 operation. Past it the operation counts as a timeout and the caller is
   * answered as on a miss; a slow L2 never holds a request longer than this.
   * @default 250
   */
  readonly l2TimeoutMs?: number | undefined;
  /**
   * Time source (ms since the epoch) for TTLs; inject one in tests.
   * @default Date
   */
  readonly clock?: Clock | undefined;
}

/** Defaults of {@link L1Options}. */
export const DEFAULT_L1_OPTIONS: Readonly<{
  maxEntries: number;
  maxBytes: number;
  maxEntryBytes: number;
  maxTtlMs: undefined;
}> = Object.freeze({
  maxEntries: 1000,
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 4 * 1024 * 1024,
  maxTtlMs: undefined,
});

/** Defaults of {@link CacheOptions}. */
export const DEFAULT_CACHE_OPTIONS: Readonly<{
  ttlMs: number;
  l1: typeof DEFAULT_L1_OPTIONS;
  l2: undefined;
  l2TimeoutMs: number;
  clock: Clock;
}> = Object.freeze({
  ttlMs: 5 * 60 * 1000,
  l1: DEFAULT_L1_OPTIONS,
  l2: undefined,
  l2TimeoutMs: 250,
  clock: Date,
});

/** Options of `set()`. */
export interface SetOptions {
  /** This entry's time to live. @default the cache's `ttlMs` */
  readonly ttlMs?: number | undefined;
}

/** What a loader is given. */
export interface LoaderContext {
  /** The cache key being loaded. */
  readonly key: string;
  /**
   * Aborted when every caller waiting for this load has gone (each through its own `signal`);
   * pass it on to the upstream call so that nobody pays for an answer nobody waits for.
   */
  readonly signal: AbortSignal;
}

/** Produces the value of a missing key. */
export type Loader<T> = (context: LoaderContext) => Promise<T>;

/** Options of `getOrSet()` / `getOrSetEntry()`. */
export interface GetOrSetOptions<T> {
  /** TTL of the loaded value. @default the cache's `ttlMs` */
  readonly ttlMs?: number | undefined;
  /** This caller stops waiting when it aborts; the shared load goes on for the other callers. */
  readonly signal?: AbortSignal | undefined;
  /** Return false to hand the loaded value to the waiting callers without caching it. @default () => true */
  readonly shouldCache?: ((value: T) => boolean) | undefined;
  /**
   * For callers that only read the value: an L1 hit then answers with one deeply frozen value
   * parsed once per cached entry, instead of parsing the entry's JSON again on every hit. Values
   * from L2, the loader or a joined load are still each caller's own copy.
   * @default false
   */
  readonly readOnly?: boolean | undefined;
}

/** A `getOrSetEntry()` answer: the value and where it came from. */
export interface CacheEntry<T> {
  readonly value: T;
  readonly source: CacheSource;
}

/** Opens a stream for a missing key; resolve once the upstream has answered, reject before that to fail fast. */
export type StreamLoader<C> = (context: LoaderContext) => Promise<AsyncIterable<C>>;

/** Options of `getOrSetStream()`. */
export interface GetOrSetStreamOptions<C> {
  /** TTL of the recorded stream. @default the cache's `ttlMs` */
  readonly ttlMs?: number | undefined;
  /** This caller's stream ends (throwing the abort reason) when it aborts; the others go on. */
  readonly signal?: AbortSignal | undefined;
  /** Return false to not cache a completed recording. @default () => true */
  readonly shouldCache?: ((chunks: readonly C[]) => boolean) | undefined;
  /**
   * What to store for a completed recording.
   * @default the chunk array itself
   */
  readonly toCached?: ((chunks: readonly C[]) => unknown) | undefined;
  /**
   * Turns a cached value back into chunks to replay; return undefined when the value is not a
   * recording (it is then treated as a miss and overwritten by a fresh load).
   * @default the value when it is an array, else undefined
   */
  readonly fromCached?: ((value: unknown) => readonly C[] | undefined) | undefined;
}

/** A `getOrSetStream()` answer: the chunks to send and where they came from. */
export interface CachedStream<C> {
  readonly stream: AsyncIterable<C>;
  readonly source: CacheSource;
}

/** Counters of a cache, per layer and for its loads. */
export interface CacheStats {
  /** Undefined when the cache has no L1. */
  readonly l1: L1Stats | undefined;
  /** Undefined when the cache has no L2. */
  readonly l2: L2Stats | undefined;
  /** Loader calls started. */
  readonly loads: number;
  /** Loader calls that rejected (or streams that failed). */
  readonly loadErrors: number;
  /** Callers that joined a load in flight instead of starting their own. */
  readonly coalesced: number;
  /** Loads in flight now. */
  readonly inFlight: number;
  /** Loaded values that could not be cached (not JSON); they were still returned. */
  readonly uncacheable: number;
  /** Exceptions thrown by event listeners (they never reach the caller). */
  readonly listenerErrors: number;
}

interface ResolvedConfig {
  readonly ttlMs: number;
  readonly l1: MemoryLayerConfig | undefined;
  readonly l2: { readonly keyv: L2Keyv; readonly close: () => Promise<void> } | undefined;
  readonly l2TimeoutMs: number;
  readonly clock: Clock;
  readonly customClock: boolean;
}

interface FlightResult {
  readonly json: string | undefined;
  readonly value: unknown;
  readonly from: 'l2' | 'loader';
}

type StreamFlightResult<C> =
  | { readonly kind: 'replay'; readonly chunks: readonly C[] }
  | { readonly kind: 'live'; readonly broadcast: StreamBroadcast<C> };

interface StreamFlight<C> {
  readonly flight: Flight;
  readonly started: Promise<StreamFlightResult<C>>;
}

function isKeyv(value: unknown): value is L2Keyv {
  return (
    isRecord(value) &&
    typeof value.getRaw === 'function' &&
    typeof value.set === 'function' &&
    typeof value.delete === 'function' &&
    typeof value.clear === 'function'
  );
}

function isClock(value: unknown): value is Clock {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { now?: unknown }).now === 'function'
  );
}

function resolveL2(value: unknown): ResolvedConfig['l2'] {
  if (value === undefined) return undefined;
  if (isKeyv(value)) {
    return { keyv: value, close: async () => value.disconnect?.() };
  }
  if (isRecord(value) && isKeyv(value.keyv)) {
    const keyv = value.keyv;
    const close = value.close;
    if (close !== undefined && typeof close !== 'function') {
      throw new InvalidCacheOptionError('l2.close', 'expected a function');
    }
    return {
      keyv,
      close: typeof close === 'function' ? async () => close.call(value) : async () => keyv.disconnect?.(),
    };
  }
  throw new InvalidCacheOptionError(
    'l2',
    `expected a Keyv instance or { keyv }, got ${describeValue(value)}`,
  );
}

function resolveL1(value: unknown): MemoryLayerConfig | undefined {
  if (value === false) return undefined;
  const l1 = objectOption('l1', value);
  const maxEntries = positiveInteger('l1.maxEntries', l1.maxEntries ?? DEFAULT_L1_OPTIONS.maxEntries);
  const maxBytes = positiveInteger('l1.maxBytes', l1.maxBytes ?? DEFAULT_L1_OPTIONS.maxBytes);
  const maxEntryBytes = positiveInteger(
    'l1.maxEntryBytes',
    l1.maxEntryBytes ?? Math.min(DEFAULT_L1_OPTIONS.maxEntryBytes, maxBytes),
  );
  if (maxEntryBytes > maxBytes) {
    throw new InvalidCacheOptionError('l1.maxEntryBytes', `must not exceed l1.maxBytes (${maxBytes})`);
  }
  const maxTtlMs = optionalPositiveInteger('l1.maxTtlMs', l1.maxTtlMs);
  return Object.freeze({ maxEntries, maxBytes, maxEntryBytes, maxTtlMs });
}

function resolveConfig(options: CacheOptions | undefined): ResolvedConfig {
  const raw = objectOption('options', options);
  const clock: unknown = raw.clock ?? DEFAULT_CACHE_OPTIONS.clock;
  if (!isClock(clock)) {
    throw new InvalidCacheOptionError('clock', `expected an object with now(), got ${describeValue(clock)}`);
  }
  return Object.freeze({
    ttlMs: positiveInteger('ttlMs', raw.ttlMs ?? DEFAULT_CACHE_OPTIONS.ttlMs),
    l1: resolveL1(raw.l1),
    l2: resolveL2(raw.l2),
    l2TimeoutMs: positiveInteger('l2TimeoutMs', raw.l2TimeoutMs ?? DEFAULT_CACHE_OPTIONS.l2TimeoutMs),
    clock,
    customClock: raw.clock !== undefined,
  });
}

function defaultFromCached<C>(value: unknown): readonly C[] | undefined {
  return Array.isArray(value) ? (value as C[]) : undefined;
}

function parseJson(json: string): unknown {
  return JSON.parse(json) as unknown;
}

/**
 * A two-level JSON cache: L1 in process memory (lru-cache), L2 shared (any Keyv store, e.g. Redis).
 * Reads try L1 then L2 (an L2 hit refills L1); writes go to both; `getOrSet` coalesces concurrent
 * loads of one key. L2 failures never reach the caller: they count as misses and errors.
 * Create one with {@link createCache}.
 */
export class Cache {
  readonly #config: ResolvedConfig;
  readonly #events = new CacheEvents();
  readonly #l1: MemoryLayer | undefined;
  readonly #l2: RemoteLayer | undefined;
  readonly #flights = new Map<string, { flight: Flight; promise: Promise<FlightResult> }>();
  readonly #streamFlights = new Map<string, StreamFlight<unknown>>();
  readonly #pendingWrites = new Set<Promise<unknown>>();
  #loads = 0;
  #loadErrors = 0;
  #coalesced = 0;
  #uncacheable = 0;
  #closed = false;

  constructor(options?: CacheOptions) {
    this.#config = resolveConfig(options);
    const { l1, l2, clock, customClock, l2TimeoutMs } = this.#config;
    this.#l1 =
      l1 === undefined ? undefined : new MemoryLayer(l1, customClock ? clock : undefined, this.#events);
    this.#l2 =
      l2 === undefined ? undefined : new RemoteLayer(l2.keyv, l2.close, l2TimeoutMs, clock, this.#events);
  }

  /** The value under `key` (L1, else L2, which then refills L1), or undefined. Never throws for an L2 failure. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    this.#assertOpen();
    const json = await this.#lookup(key);
    return json === undefined ? undefined : (parseJson(json) as T);
  }

  /**
   * Stores `value` (as JSON) in L1 and L2. Resolves once L2 has answered or its deadline passed;
   * an L2 failure is counted, not thrown.
   * @throws {ValueNotJsonError} when `value` has no JSON form (undefined, bigint, a cycle).
   */
  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    this.#assertOpen();
    const ttlMs = this.#ttl(options?.ttlMs);
    const json = this.#toJson(value);
    await this.#write(key, json, ttlMs);
  }

  /** Removes `key` from both layers. */
  async delete(key: string): Promise<void> {
    this.#assertOpen();
    this.#l1?.delete(key);
    await this.#l2?.delete(key);
  }

  /**
   * Empties L1 and deletes this cache's entries from L2 (for Redis: the keys under its prefix,
   * found with SCAN; slow on a large keyspace, not meant for request paths).
   */
  async clear(): Promise<void> {
    this.#assertOpen();
    this.#l1?.clear();
    await this.#l2?.clear();
  }

  /**
   * The cached value of `key`, or the loader's. Concurrent callers for one missing key share one
   * L2 lookup and one loader call (single-flight); if the loader rejects, every waiting caller
   * rejects with that same error and nothing is cached. Every caller gets its own copy (parsed
   * from the cached JSON), so a returned value looks the same whether it was loaded or cached; a
   * value that is not cached (`shouldCache`, no JSON form) is handed to every caller as is.
   *
   * @example
   * ```ts
   * const response = await cache.getOrSet(keyOf(request), ({ signal }) => callModel(request, { signal }), {
   *   signal: clientRequest.signal,
   * });
   * ```
   */
  async getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T> {
    return (await this.getOrSetEntry(key, loader, options)).value;
  }

  /** Like {@link Cache.getOrSet}, also telling where the value came from (e.g. for an `x-cache` header). */
  async getOrSetEntry<T>(
    key: string,
    loader: Loader<T>,
    options?: GetOrSetOptions<T>,
  ): Promise<CacheEntry<T>> {
    this.#assertOpen();
    const ttlMs = this.#ttl(options?.ttlMs);
    const signal = options?.signal;
    signal?.throwIfAborted();
    if (options?.readOnly === true) {
      const shared = this.#l1?.getFrozen(key);
      if (shared !== undefined) return { value: shared as T, source: 'l1' };
    } else {
      const cached = this.#l1?.get(key);
      if (cached !== undefined) return { value: parseJson(cached) as T, source: 'l1' };
    }

    let entry = this.#flights.get(key);
    const joined = entry !== undefined;
    if (entry === undefined) {
      entry = this.#startFlight(key, loader as Loader<unknown>, ttlMs, options?.shouldCache as ShouldCache);
    } else {
      this.#coalesced += 1;
      this.#events.emit('coalesce', { key });
    }
    const release = entry.flight.hold();
    try {
      const result = await untilAborted(entry.promise, signal);
      const value = (result.json === undefined ? result.value : parseJson(result.json)) as T;
      return { value, source: joined ? 'coalesced' : result.from };
    } finally {
      release(signal?.reason);
    }
  }

  /**
   * The cached recording of a stream under `key`, replayed; or a live stream from the loader,
   * recorded as it flows and cached (as its chunk array) once it completes. Concurrent callers
   * share one upstream stream: each gets every chunk from the first one, late joiners catching up
   * from the recording. A stream that fails, or that every caller abandons, is not cached.
   * Resolves once the loader has resolved, so an upstream that fails before its first byte
   * rejects here (and a router can still fail over).
   *
   * @example
   * ```ts
   * const { stream, source } = await cache.getOrSetStream(key, ({ signal }) => router.chatStream(req, { signal }).then((r) => r.stream), {
   *   signal: clientRequest.signal,
   * });
   * for await (const chunk of stream) writeSse(chunk);
   * ```
   */
  async getOrSetStream<C>(
    key: string,
    loader: StreamLoader<C>,
    options?: GetOrSetStreamOptions<C>,
  ): Promise<CachedStream<C>> {
    this.#assertOpen();
    const ttlMs = this.#ttl(options?.ttlMs);
    const signal = options?.signal;
    const fromCached = options?.fromCached ?? defaultFromCached<C>;
    signal?.throwIfAborted();
    const cached = this.#l1?.get(key);
    if (cached !== undefined) {
      const chunks = fromCached(parseJson(cached));
      if (chunks !== undefined) return { stream: replayStream(chunks), source: 'l1' };
    }

    let entry = this.#streamFlights.get(key) as StreamFlight<C> | undefined;
    const joined = entry !== undefined;
    if (entry === undefined) {
      entry = this.#startStreamFlight(key, loader, ttlMs, options ?? {}, fromCached);
    } else {
      this.#coalesced += 1;
      this.#events.emit('coalesce', { key });
    }
    const release = entry.flight.hold();
    let result: StreamFlightResult<C>;
    try {
      result = await untilAborted(entry.started, signal);
    } catch (error) {
      release(signal?.reason);
      throw error;
    }
    if (result.kind === 'replay') {
      release();
      return { stream: replayStream(result.chunks), source: joined ? 'coalesced' : 'l2' };
    }
    return { stream: result.broadcast.subscribe(signal, release), source: joined ? 'coalesced' : 'loader' };
  }

  /** Current counters, per layer and for loads. */
  stats(): CacheStats {
    return {
      l1: this.#l1?.stats(),
      l2: this.#l2?.stats(),
      loads: this.#loads,
      loadErrors: this.#loadErrors,
      coalesced: this.#coalesced,
      inFlight: this.#flights.size + this.#streamFlights.size,
      uncacheable: this.#uncacheable,
      listenerErrors: this.#events.listenerErrors,
    };
  }

  /** Sets every counter back to 0 (occupancy figures are not counters and stay). */
  resetStats(): void {
    this.#l1?.resetStats();
    this.#l2?.resetStats();
    this.#loads = 0;
    this.#loadErrors = 0;
    this.#coalesced = 0;
    this.#uncacheable = 0;
  }

  /**
   * Subscribes to an event (`hit`, `miss`, `write`, `evict`, `error`, `load`, `coalesce`); returns
   * the unsubscribe function. Listeners run synchronously and must be quick; one that throws is
   * counted in `stats().listenerErrors` and never disturbs the cache.
   *
   * @example
   * ```ts
   * cache.on('hit', ({ layer }) => hits.inc({ layer }));
   * cache.on('error', ({ error }) => logger.warn({ code: error.code }, 'cache degraded'));
   * ```
   */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  /** Removes a listener added with {@link Cache.on}. */
  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): void {
    this.#events.off(event, listener);
  }

  /** Resolves once every background L2 write started so far has finished (or timed out). */
  async idle(): Promise<void> {
    while (this.#pendingWrites.size > 0) {
      await Promise.all([...this.#pendingWrites]);
    }
  }

  /**
   * Waits for pending L2 writes, closes L2 (waiting at most `l2TimeoutMs` for it) and empties L1.
   * Every later call throws `LLM_EDGE_CACHE_CLOSED`.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.idle();
    this.#l1?.clear();
    await this.#l2?.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new CacheClosedError();
  }

  #ttl(ttlMs: number | undefined): number {
    return ttlMs === undefined ? this.#config.ttlMs : positiveInteger('ttlMs', ttlMs);
  }

  #toJson(value: unknown): string {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw new ValueNotJsonError('The value cannot be serialized as JSON', { cause: error });
    }
    if (json === undefined)
      throw new ValueNotJsonError(`A cache value must be JSON, got ${describeValue(value)}`);
    return json;
  }

  async #lookup(key: string): Promise<string | undefined> {
    const cached = this.#l1?.get(key);
    if (cached !== undefined) return cached;
    const entry = await this.#l2?.get(key);
    if (entry === undefined) return undefined;
    this.#l1?.set(
      key,
      entry.json,
      Buffer.byteLength(entry.json, 'utf8'),
      this.#fillTtl(entry.remainingTtlMs),
    );
    return entry.json;
  }

  #fillTtl(remainingTtlMs: number | undefined): number {
    return remainingTtlMs === undefined ? this.#config.ttlMs : Math.max(1, Math.ceil(remainingTtlMs));
  }

  async #write(key: string, json: string, ttlMs: number): Promise<void> {
    const bytes = Buffer.byteLength(json, 'utf8');
    this.#l1?.set(key, json, bytes, ttlMs);
    await this.#l2?.set(key, json, bytes, ttlMs);
  }

  /** Writes L1 now and L2 in the background: a cache fill never delays the answer it caches. */
  #writeBehind(key: string, json: string, ttlMs: number): void {
    const bytes = Buffer.byteLength(json, 'utf8');
    this.#l1?.set(key, json, bytes, ttlMs);
    const l2 = this.#l2;
    if (l2 === undefined) return;
    const pending = l2.set(key, json, bytes, ttlMs);
    this.#pendingWrites.add(pending);
    void pending.finally(() => this.#pendingWrites.delete(pending));
  }

  /** JSON of a loaded value to cache, or undefined (counted and reported) when it has none. */
  #loadedJson(key: string, value: unknown): string | undefined {
    try {
      return this.#toJson(value);
    } catch (error) {
      this.#uncacheable += 1;
      if (ValueNotJsonError.isInstance(error)) {
        this.#events.emit('error', { layer: undefined, key, error });
      }
      return undefined;
    }
  }

  async #load<T>(key: string, run: () => Promise<T>): Promise<T> {
    this.#loads += 1;
    const startedAt = this.#config.clock.now();
    try {
      const value = await run();
      this.#events.emit('load', { key, outcome: 'ok', durationMs: this.#config.clock.now() - startedAt });
      return value;
    } catch (error) {
      this.#loadErrors += 1;
      this.#events.emit('load', { key, outcome: 'error', durationMs: this.#config.clock.now() - startedAt });
      throw error;
    }
  }

  #startFlight(
    key: string,
    loader: Loader<unknown>,
    ttlMs: number,
    shouldCache: ShouldCache | undefined,
  ): { flight: Flight; promise: Promise<FlightResult> } {
    const flight = new Flight(() => this.#forgetFlight(key, entry));
    const run = async (): Promise<FlightResult> => {
      try {
        const fromL2 = await this.#l2?.get(key);
        if (fromL2 !== undefined) {
          this.#l1?.set(
            key,
            fromL2.json,
            Buffer.byteLength(fromL2.json, 'utf8'),
            this.#fillTtl(fromL2.remainingTtlMs),
          );
          return { json: fromL2.json, value: undefined, from: 'l2' };
        }
        flight.signal.throwIfAborted();
        const value = await this.#load(key, () => loader({ key, signal: flight.signal }));
        if (value === undefined || (shouldCache !== undefined && !shouldCache(value))) {
          return { json: undefined, value, from: 'loader' };
        }
        const json = this.#loadedJson(key, value);
        if (json !== undefined) this.#writeBehind(key, json, ttlMs);
        return { json, value, from: 'loader' };
      } finally {
        flight.finish();
        this.#forgetFlight(key, entry);
      }
    };
    const entry = { flight, promise: run() };
    // Waiting callers observe the outcome; this keeps a load nobody awaits any more from being
    // reported as an unhandled rejection (its error was already counted as a load error).
    entry.promise.catch(() => undefined);
    this.#flights.set(key, entry);
    return entry;
  }

  #forgetFlight(key: string, entry: unknown): void {
    if (this.#flights.get(key) === entry) this.#flights.delete(key);
  }

  #startStreamFlight<C>(
    key: string,
    loader: StreamLoader<C>,
    ttlMs: number,
    options: GetOrSetStreamOptions<C>,
    fromCached: (value: unknown) => readonly C[] | undefined,
  ): StreamFlight<C> {
    const forget = (): void => {
      if (this.#streamFlights.get(key) === (entry as StreamFlight<unknown>)) this.#streamFlights.delete(key);
    };
    const flight = new Flight(forget);
    const start = async (): Promise<StreamFlightResult<C>> => {
      const fromL2 = await this.#l2?.get(key);
      if (fromL2 !== undefined) {
        const chunks = fromCached(parseJson(fromL2.json));
        if (chunks !== undefined) {
          this.#l1?.set(
            key,
            fromL2.json,
            Buffer.byteLength(fromL2.json, 'utf8'),
            this.#fillTtl(fromL2.remainingTtlMs),
          );
          return { kind: 'replay', chunks };
        }
      }
      flight.signal.throwIfAborted();
      this.#loads += 1;
      const startedAt = this.#config.clock.now();
      let source: AsyncIterable<C>;
      try {
        source = await loader({ key, signal: flight.signal });
      } catch (error) {
        this.#loadErrors += 1;
        this.#events.emit('load', {
          key,
          outcome: 'error',
          durationMs: this.#config.clock.now() - startedAt,
        });
        throw error;
      }
      const broadcast = new StreamBroadcast<C>(source, {
        isAbandoned: () => flight.signal.aborted,
        onDone: (chunks) => {
          flight.finish();
          this.#events.emit('load', { key, outcome: 'ok', durationMs: this.#config.clock.now() - startedAt });
          if (options.shouldCache !== undefined && !options.shouldCache(chunks)) return;
          const json = this.#loadedJson(key, (options.toCached ?? ((all) => all))(chunks));
          if (json !== undefined) this.#writeBehind(key, json, ttlMs);
        },
        onEnd: (outcome) => {
          flight.finish();
          forget();
          if (outcome !== 'done') {
            this.#loadErrors += 1;
            this.#events.emit('load', {
              key,
              outcome: 'error',
              durationMs: this.#config.clock.now() - startedAt,
            });
          }
        },
      });
      return { kind: 'live', broadcast };
    };
    const started = start();
    const entry: StreamFlight<C> = { flight, started };
    started.then(
      (result) => {
        if (result.kind === 'replay') {
          flight.finish();
          forget();
        }
      },
      () => {
        flight.finish();
        forget();
      },
    );
    this.#streamFlights.set(key, entry as StreamFlight<unknown>);
    return entry;
  }
}

type ShouldCache = (value: unknown) => boolean;

/**
 * Creates a two-level cache. Options are validated once (an invalid one throws
 * `LLM_EDGE_CACHE_INVALID_OPTION` naming the field).
 *
 * @example
 * ```ts
 * import { createCache, createKeyGenerator } from '@llm-edge/cache';
 * import { createRedisStore } from '@llm-edge/cache/redis';
 *
 * const cache = createCache({ ttlMs: 600_000, l2: createRedisStore({ url: process.env.REDIS_URL }) });
 * const keyOf = createKeyGenerator();
 * const answer = await cache.getOrSet(keyOf(request), () => callModel(request));
 * ```
 */
export function createCache(options?: CacheOptions): Cache {
  return new Cache(options);
}
