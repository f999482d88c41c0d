import type { ChatChunk } from '@llm-edge/providers';

/** How a committed stream ended. */
export type StreamEnd =
  | { outcome: 'completed' | 'cancelled'; chunks: number }
  | { outcome: 'error'; chunks: number; error: unknown };

/**
 * The stream of the target the router committed to: its already-read first chunk, then the rest
 * of the same upstream iterator. Never switches targets. Ending it early (`return()`, `break` in
 * `for await`) closes the upstream; `onEnd` runs exactly once however it ends. A plain object
 * rather than an async generator so that `return()` works even before the first `next()`.
 */
export class CommittedStream implements AsyncIterableIterator<ChatChunk> {
  #first: IteratorResult<ChatChunk> | undefined;
  readonly #upstream: AsyncIterator<ChatChunk>;
  readonly #signal: AbortSignal;
  readonly #onEnd: (end: StreamEnd) => void;
  #chunks = 0;
  #ended = false;

  constructor(
    first: IteratorResult<ChatChunk>,
    upstream: AsyncIterator<ChatChunk>,
    signal: AbortSignal,
    onEnd: (end: StreamEnd) => void,
  ) {
    this.#first = first;
    this.#upstream = upstream;
    this.#signal = signal;
    this.#onEnd = onEnd;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ChatChunk> {
    return this;
  }

  async next(): Promise<IteratorResult<ChatChunk>> {
    if (this.#ended) return { done: true, value: undefined };
    const first = this.#first;
    if (first !== undefined) {
      this.#first = undefined;
      return this.#deliver(first);
    }
    let result: IteratorResult<ChatChunk>;
    try {
      result = await this.#upstream.next();
    } catch (error) {
      this.#end(
        this.#signal.aborted
          ? { outcome: 'cancelled', chunks: this.#chunks }
          : { outcome: 'error', chunks: this.#chunks, error },
      );
      throw error;
    }
    return this.#deliver(result);
  }

  async return(): Promise<IteratorResult<ChatChunk>> {
    if (!this.#ended) {
      this.#end({ outcome: 'cancelled', chunks: this.#chunks });
      await this.#upstream.return?.();
    }
    return { done: true, value: undefined };
  }

  #deliver(result: IteratorResult<ChatChunk>): IteratorResult<ChatChunk> {
    if (result.done) {
      this.#end({ outcome: 'completed', chunks: this.#chunks });
      return { done: true, value: undefined };
    }
    this.#chunks++;
    return result;
  }

  #end(end: StreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#first = undefined;
    this.#onEnd(end);
  }
}
