import { type L2Operation, L2OperationError } from './errors';
import type { CacheEvents } from './events';
import { type Clock, hitRate, type LayerStats } from './memory-layer';

/**
 * The part of a `Keyv` instance the cache uses as its second level. Any Keyv (5.x) satisfies it,
 * whatever its storage adapter; `createRedisStore()` from `@llm-edge/cache/redis` makes one for Redis.
 * Keyv must be created with `throwOnErrors: true`, or a failing store looks like a miss and cannot be counted.
 */
export interface L2Keyv {
  getRaw(key: string): Promise<{ value?: unknown; expires?: number | null | undefined } | undefined>;
  set(key: string, value: string, ttl?: number): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  clear(): Promise<void>;
  disconnect?(): Promise<void>;
}

/** L2 counters. */
export interface L2Stats extends LayerStats {
  /** Operations abandoned at the per-operation deadline (also counted in `errors`). */
  readonly timeouts: number;
}

/** An L2 entry: its JSON text and how long it has left to live, when the store knows. */
export interface L2Entry {
  readonly json: string;
  readonly remainingTtlMs: number | undefined;
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

const FAILED: Outcome<never> = { ok: false };

/**
 * The shared second level, behind a deadline. Every operation is raced against `timeoutMs`; a
 * failure or a timeout is counted, reported as an `error` event and answered as a miss, never
 * thrown. The timer is written here rather than taken from the store because it must hold for any
 * Keyv adapter, including the adapter's own awaits before a command reaches the network.
 */
export class RemoteLayer {
  readonly #keyv: L2Keyv;
  readonly #close: () => Promise<void>;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #events: CacheEvents;
  #hits = 0;
  #misses = 0;
  #writes = 0;
  #errors = 0;
  #timeouts = 0;

  constructor(
    keyv: L2Keyv,
    close: () => Promise<void>,
    timeoutMs: number,
    clock: Clock,
    events: CacheEvents,
  ) {
    this.#keyv = keyv;
    this.#close = close;
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
    this.#events = events;
  }

  async get(key: string): Promise<L2Entry | undefined> {
    const outcome = await this.#run('get', key, () => this.#keyv.getRaw(key));
    let entry: L2Entry | undefined;
    if (outcome.ok && outcome.value !== undefined) {
      const { value, expires } = outcome.value;
      const remainingTtlMs = typeof expires === 'number' ? expires - this.#clock.now() : undefined;
      if (typeof value === 'string' && (remainingTtlMs === undefined || remainingTtlMs > 0)) {
        entry = { json: value, remainingTtlMs };
      } else if (typeof value !== 'string') {
        this.#fail(key, new L2OperationError('LLM_EDGE_CACHE_L2_FAILED', 'get', 'L2 entry is not JSON text'));
      }
    }
    if (entry === undefined) {
      this.#misses += 1;
      this.#events.emit('miss', { layer: 'l2', key });
    } else {
      this.#hits += 1;
      this.#events.emit('hit', { layer: 'l2', key });
    }
    return entry;
  }

  async set(key: string, json: string, bytes: number, ttlMs: number): Promise<boolean> {
    const outcome = await this.#run('set', key, () => this.#keyv.set(key, json, ttlMs));
    if (!outcome.ok) return false;
    this.#writes += 1;
    this.#events.emit('write', { layer: 'l2', key, bytes });
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#run('delete', key, () => this.#keyv.delete(key))).ok;
  }

  async clear(): Promise<boolean> {
    return (await this.#run('clear', undefined, () => this.#keyv.clear())).ok;
  }

  /** Closes the store, waiting at most the operation deadline (a stalled Redis cannot hang a shutdown). */
  async close(): Promise<boolean> {
    return (await this.#run('close', undefined, this.#close)).ok;
  }

  stats(): L2Stats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      writes: this.#writes,
      errors: this.#errors,
      evictions: 0,
      hitRate: hitRate(this.#hits, this.#misses),
      timeouts: this.#timeouts,
    };
  }

  resetStats(): void {
    this.#hits = 0;
    this.#misses = 0;
    this.#writes = 0;
    this.#errors = 0;
    this.#timeouts = 0;
  }

  #fail(key: string | undefined, error: L2OperationError): void {
    this.#errors += 1;
    if (error.code === 'LLM_EDGE_CACHE_L2_TIMEOUT') this.#timeouts += 1;
    this.#events.emit('error', { layer: 'l2', key, error });
  }

  #run<T>(operation: L2Operation, key: string | undefined, action: () => Promise<T>): Promise<Outcome<T>> {
    return new Promise<Outcome<T>>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.#fail(
          key,
          new L2OperationError(
            'LLM_EDGE_CACHE_L2_TIMEOUT',
            operation,
            `L2 ${operation} did not finish within ${this.#timeoutMs} ms`,
          ),
        );
        resolve(FAILED);
      }, this.#timeoutMs);
      let pending: Promise<T>;
      try {
        pending = action();
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ ok: true, value });
        },
        (error: unknown) => {
          // After a timeout the late failure is the same incident, already counted once.
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.#fail(
            key,
            new L2OperationError('LLM_EDGE_CACHE_L2_FAILED', operation, `L2 ${operation} failed`, {
              cause: error,
            }),
          );
          resolve(FAILED);
        },
      );
    });
  }
}
