import { LRUCache } from 'lru-cache';
import type { CacheEvents } from './events';

/** A source of the current time in milliseconds since the epoch (the default is `Date`). */
export interface Clock {
  now(): number;
}

/** Resolved L1 limits (see `L1Options`). */
export interface MemoryLayerConfig {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  readonly maxTtlMs: number | undefined;
}

/** Counters shared by both layers. */
export interface LayerStats {
  /** Lookups that found the key. */
  readonly hits: number;
  /** Lookups that did not (for L2 this includes failed and timed-out lookups). */
  readonly misses: number;
  /** Values stored. */
  readonly writes: number;
  /** Failed operations (always 0 for L1, which cannot fail). */
  readonly errors: number;
  /** Entries dropped to make room (always 0 for L2: Redis evicts on its own, unseen). */
  readonly evictions: number;
  /** `hits / (hits + misses)`, 0 before the first lookup. */
  readonly hitRate: number;
}

/** L1 counters and occupancy. */
export interface L1Stats extends LayerStats {
  /** Entries dropped because their TTL ran out (counted when noticed, i.e. on access or eviction). */
  readonly expirations: number;
  /** Values not stored because they alone exceed `maxEntryBytes`. */
  readonly rejections: number;
  /** Entries held now. */
  readonly entries: number;
  /** Bytes held now (UTF-8 size of each JSON value plus its key). */
  readonly bytes: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export function hitRate(hits: number, misses: number): number {
  const lookups = hits + misses;
  return lookups === 0 ? 0 : hits / lookups;
}

/** One L1 entry: its JSON text, and the frozen value parsed from it once a read-only caller asked. */
interface L1Entry {
  readonly json: string;
  frozen?: unknown;
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * The in-process first level: lru-cache bounded by entry count and bytes, with per-entry TTL.
 * Values are held as JSON text so that callers can never mutate a cached value through a
 * reference, an L1 hit is byte-for-byte what an L2 hit would return, and the size bound is exact.
 */
export class MemoryLayer {
  readonly #lru: LRUCache<string, L1Entry>;
  readonly #config: MemoryLayerConfig;
  readonly #events: CacheEvents;
  #hits = 0;
  #misses = 0;
  #writes = 0;
  #evictions = 0;
  #expirations = 0;
  #rejections = 0;

  constructor(config: MemoryLayerConfig, clock: Clock | undefined, events: CacheEvents) {
    this.#config = config;
    this.#events = events;
    this.#lru = new LRUCache<string, L1Entry>({
      max: config.maxEntries,
      maxSize: config.maxBytes,
      maxEntrySize: config.maxEntryBytes,
      updateAgeOnGet: false,
      // An injected clock must be read on every check; the default caches `now` for 1 ms.
      ...(clock === undefined ? {} : { perf: clock, ttlResolution: 0 }),
      dispose: (_value, key, reason) => {
        if (reason === 'evict') {
          this.#evictions += 1;
          this.#events.emit('evict', { layer: 'l1', key, reason: 'capacity' });
        } else if (reason === 'expire') {
          this.#expirations += 1;
          this.#events.emit('evict', { layer: 'l1', key, reason: 'expired' });
        }
      },
    });
  }

  /** The JSON text stored under `key`, or undefined. Counts a hit or a miss. */
  get(key: string): string | undefined {
    return this.#entry(key)?.json;
  }

  /**
   * The value stored under `key`, parsed once per entry and deeply frozen, or undefined. Counts a
   * hit or a miss like {@link MemoryLayer.get}.
   */
  getFrozen(key: string): unknown {
    const entry = this.#entry(key);
    if (entry === undefined) return undefined;
    entry.frozen ??= deepFreeze(JSON.parse(entry.json));
    return entry.frozen;
  }

  #entry(key: string): L1Entry | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined) {
      this.#misses += 1;
      this.#events.emit('miss', { layer: 'l1', key });
    } else {
      this.#hits += 1;
      this.#events.emit('hit', { layer: 'l1', key });
    }
    return entry;
  }

  /** Stores `json` for at most `ttlMs` (capped by `maxTtlMs`); false when it is too large to hold. */
  set(key: string, json: string, bytes: number, ttlMs: number): boolean {
    const size = bytes + key.length;
    const ttl = this.#config.maxTtlMs === undefined ? ttlMs : Math.min(ttlMs, this.#config.maxTtlMs);
    if (size > this.#config.maxEntryBytes) {
      // lru-cache would refuse it too, but would also drop an older value under the same key;
      // do that explicitly so a stale smaller value is never served after a refused update.
      this.#lru.delete(key);
      this.#rejections += 1;
      return false;
    }
    this.#lru.set(key, { json }, { ttl, size });
    this.#writes += 1;
    this.#events.emit('write', { layer: 'l1', key, bytes });
    return true;
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  clear(): void {
    this.#lru.clear();
  }

  stats(): L1Stats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      writes: this.#writes,
      errors: 0,
      evictions: this.#evictions,
      hitRate: hitRate(this.#hits, this.#misses),
      expirations: this.#expirations,
      rejections: this.#rejections,
      entries: this.#lru.size,
      bytes: this.#lru.calculatedSize,
      maxEntries: this.#config.maxEntries,
      maxBytes: this.#config.maxBytes,
    };
  }

  resetStats(): void {
    this.#hits = 0;
    this.#misses = 0;
    this.#writes = 0;
    this.#evictions = 0;
    this.#expirations = 0;
    this.#rejections = 0;
  }
}
