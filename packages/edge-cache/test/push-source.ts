/** An async iterable the test feeds by hand: push chunks, then end or fail it. */
export class PushSource<T> implements AsyncIterable<T> {
  readonly #queue: IteratorResult<T>[] = [];
  #failure: { error: unknown } | undefined;
  #waiter: (() => void) | undefined;
  /** True once the reader called `return()` (stopped early). */
  returned = false;
  /** Chunks handed out so far. */
  delivered = 0;

  push(value: T): void {
    this.#queue.push({ done: false, value });
    this.#wake();
  }

  end(): void {
    this.#queue.push({ done: true, value: undefined });
    this.#wake();
  }

  fail(error: unknown): void {
    this.#failure = { error };
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async () => {
        for (;;) {
          const item = this.#queue.shift();
          if (item !== undefined) {
            if (item.done !== true) this.delivered += 1;
            return item;
          }
          if (this.#failure !== undefined) throw this.#failure.error;
          if (this.returned) return { done: true, value: undefined };
          await new Promise<void>((resolve) => {
            this.#waiter = resolve;
          });
        }
      },
      return: async () => {
        this.returned = true;
        this.#wake();
        return { done: true, value: undefined };
      },
    };
  }
}
