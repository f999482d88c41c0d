import type { ChatChunk } from '@llm-edge/providers';

/** How a committed stream ended. */
export type StreamEnd =
  | { outcome: 'completed' | 'cancelled'; chunks: number }
  | { outcome: 'error'; chunks: number; error: unknown };

/**
 * True for a chunk that carries the answer's first token: text, a refusal, a tool-call fragment,
 * a finish reason or usage. Chunks before it (e.g. the role-only chunk an Anthropic stream yields
 * at `message_start`, before any token) do not count as an answer for hedging and commitment.
 */
export function isTokenChunk(chunk: ChatChunk): boolean {
  if (chunk.usage) return true;
  return chunk.choices.some(
    (c) =>
      (typeof c.delta.content === 'string' && c.delta.content.length > 0) ||
      (typeof c.delta.refusal === 'string' && c.delta.refusal.length > 0) ||
      (c.delta.tool_calls !== undefined && c.delta.tool_calls.length > 0) ||
      c.finish_reason !== null,
  );
}

/**
 * The stream of the target the router committed to: the chunks already read up to its first token,
 * then the rest of the same upstream iterator. Never switches targets. Ending it early (`return()`, `break` in
 * `for await`) closes the upstream; `onEnd` runs exactly once however it ends. A plain object
 * rather than an async generator so that `return()` works even before the first `next()`.
 */
export class CommittedStream implements AsyncIterableIterator<ChatChunk> {
  readonly #buffered: ChatChunk[];
  #upstreamDone: boolean;
  readonly #upstream: AsyncIterator<ChatChunk>;
  readonly #signal: AbortSignal;
  readonly #onEnd: (end: StreamEnd) => void;
  #chunks = 0;
  #ended = false;

  constructor(
    buffered: ChatChunk[],
    upstreamDone: boolean,
    upstream: AsyncIterator<ChatChunk>,
    signal: AbortSignal,
    onEnd: (end: StreamEnd) => void,
  ) {
    this.#buffered = buffered;
    this.#upstreamDone = upstreamDone;
    this.#upstream = upstream;
    this.#signal = signal;
    this.#onEnd = onEnd;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ChatChunk> {
    return this;
  }

  async next(): Promise<IteratorResult<ChatChunk>> {
    if (this.#ended) return { done: true, value: undefined };
    const buffered = this.#buffered.shift();
    if (buffered !== undefined) return this.#deliver({ done: false, value: buffered });
    if (this.#upstreamDone) return this.#deliver({ done: true, value: undefined });
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
    this.#buffered.length = 0;
    this.#onEnd(end);
  }
}
