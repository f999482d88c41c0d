/**
 * Passes `source` through unchanged while recording its chunks; `onComplete` receives the whole
 * sequence only when the source ends normally. A stream that fails, or that the consumer stops
 * early, is incomplete and is never reported (so it is never cached).
 *
 * @example
 * ```ts
 * const live = recordStream(upstreamChunks, (chunks) => cache.set(key, chunks));
 * for await (const chunk of live) send(chunk);
 * ```
 */
export function recordStream<C>(
  source: AsyncIterable<C>,
  onComplete: (chunks: C[]) => void | Promise<void>,
): AsyncIterable<C> {
  return {
    async *[Symbol.asyncIterator]() {
      const chunks: C[] = [];
      for await (const chunk of source) {
        chunks.push(chunk);
        yield chunk;
      }
      await onComplete(chunks);
    },
  };
}

/** Replays a recorded chunk sequence as an async iterable (each iteration starts from the first chunk). */
export function replayStream<C>(chunks: readonly C[]): AsyncIterable<C> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  };
}

/** How a shared recording ended. */
export type BroadcastOutcome = 'done' | 'failed' | 'abandoned';

interface BroadcastHooks<C> {
  /** Called synchronously when the source ends normally, before any subscriber sees the end. */
  onDone(chunks: readonly C[]): void;
  /** Called once with the final outcome. */
  onEnd(outcome: BroadcastOutcome, error: unknown): void;
  /** True once nobody listens any more; the pump then stops reading. */
  isAbandoned(): boolean;
}

/**
 * One upstream stream read once and replayed to any number of subscribers, each from the first
 * chunk: late joiners catch up from the recording, then follow live. The chunks are kept anyway
 * (they are what gets cached), so subscribers share one buffer and a slow subscriber never slows
 * the others or the upstream. Chunks are shared, not copied: subscribers must not mutate them.
 */
export class StreamBroadcast<C> {
  readonly #chunks: C[] = [];
  #state: 'open' | BroadcastOutcome = 'open';
  #error: unknown;
  readonly #wakers = new Set<() => void>();
  readonly #hooks: BroadcastHooks<C>;

  constructor(source: AsyncIterable<C>, hooks: BroadcastHooks<C>) {
    this.#hooks = hooks;
    void this.#pump(source);
  }

  async #pump(source: AsyncIterable<C>): Promise<void> {
    const iterator = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (this.#hooks.isAbandoned()) {
          this.#state = 'abandoned';
          await iterator.return?.();
          break;
        }
        const result = await iterator.next();
        if (result.done === true) {
          this.#state = 'done';
          this.#hooks.onDone(this.#chunks);
          break;
        }
        this.#chunks.push(result.value);
        this.#wake();
      }
    } catch (error) {
      this.#state = this.#hooks.isAbandoned() ? 'abandoned' : 'failed';
      this.#error = error;
    }
    this.#wake();
    this.#hooks.onEnd(this.#state as BroadcastOutcome, this.#error);
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }

  /**
   * A new reader of the whole sequence. `release` is called once when this reader is finished
   * (iterated to the end, stopped early with `break`/`return()`, failed, or aborted by `signal`).
   */
  subscribe(signal: AbortSignal | undefined, release: (reason?: unknown) => void): AsyncIterable<C> {
    let index = 0;
    let finished = false;
    const finish = (reason?: unknown): void => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      release(reason);
    };
    const onAbort = (): void => {
      finish(signal?.reason);
      this.#wake();
    };
    if (signal?.aborted === true) finish(signal.reason);
    else signal?.addEventListener('abort', onAbort, { once: true });

    let closed = false;
    const next = async (): Promise<IteratorResult<C>> => {
      while (!closed) {
        if (signal?.aborted === true) {
          closed = true;
          finish(signal.reason);
          throw signal.reason;
        }
        if (index < this.#chunks.length) {
          const value = this.#chunks[index] as C;
          index += 1;
          return { done: false, value };
        }
        if (this.#state === 'done') {
          closed = true;
          finish();
          break;
        }
        if (this.#state !== 'open') {
          closed = true;
          finish();
          throw this.#error ?? new DOMException('The shared stream was abandoned', 'AbortError');
        }
        await new Promise<void>((resolve) => this.#wakers.add(resolve));
      }
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<C> = {
      next,
      return: async (): Promise<IteratorResult<C>> => {
        closed = true;
        finish();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
