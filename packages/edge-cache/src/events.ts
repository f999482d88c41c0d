import type { CacheError } from './errors';

/** The cache layers: `l1` in-process memory, `l2` the shared store (Redis). */
export type CacheLayerName = 'l1' | 'l2';

/** Where a `getOrSet` answer came from. `coalesced` means it joined another caller's load. */
export type CacheSource = 'l1' | 'l2' | 'loader' | 'coalesced';

/** Payloads of the events a cache emits, by event name. */
export interface CacheEventMap {
  /** A layer had the key. */
  hit: { readonly layer: CacheLayerName; readonly key: string };
  /** A layer did not have the key (an L2 failure is also reported as a miss). */
  miss: { readonly layer: CacheLayerName; readonly key: string };
  /** A layer stored a value; `bytes` is the UTF-8 size of its JSON. */
  write: { readonly layer: CacheLayerName; readonly key: string; readonly bytes: number };
  /** L1 dropped an entry: `capacity` when the LRU made room, `expired` when its TTL ran out. */
  evict: { readonly layer: 'l1'; readonly key: string; readonly reason: 'capacity' | 'expired' };
  /** Something failed without failing the caller: an L2 operation, or a loaded value that could not be cached. */
  error: {
    readonly layer: CacheLayerName | undefined;
    readonly key: string | undefined;
    readonly error: CacheError;
  };
  /** A loader finished; `outcome` says whether it resolved. */
  load: { readonly key: string; readonly outcome: 'ok' | 'error'; readonly durationMs: number };
  /** A caller joined a load already in flight instead of starting its own. */
  coalesce: { readonly key: string };
}

/** Name of a cache event. */
export type CacheEventName = keyof CacheEventMap;

/** A listener for one cache event. */
export type CacheEventListener<E extends CacheEventName> = (event: CacheEventMap[E]) => void;

type AnyListener = (event: never) => void;

/**
 * A minimal typed emitter. Node's EventEmitter is not used because it throws when `error` has no
 * listener and lets a listener's exception escape into the operation that emitted; telemetry must
 * never break a request, so a throwing listener is counted and otherwise ignored.
 */
export class CacheEvents {
  readonly #listeners = new Map<CacheEventName, Set<AnyListener>>();
  #listenerErrors = 0;

  /** Exceptions thrown by listeners so far. */
  get listenerErrors(): number {
    return this.#listenerErrors;
  }

  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as AnyListener);
    return () => this.off(event, listener);
  }

  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): void {
    this.#listeners.get(event)?.delete(listener as AnyListener);
  }

  emit<E extends CacheEventName>(event: E, payload: CacheEventMap[E]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as CacheEventListener<E>)(payload);
      } catch {
        this.#listenerErrors += 1;
      }
    }
  }
}
