/**
 * One shared load and the callers holding on to it.
 *
 * Written here because the libraries at hand do not fit: lru-cache's `fetch()` coalesces, but one
 * caller's abort signal aborts the shared fetch for everyone, and it cannot return a value without
 * storing it. An LLM gateway needs the opposite: a client that disconnects leaves the others
 * served, and the upstream call is cancelled only when every caller has gone.
 */
export class Flight {
  readonly #controller = new AbortController();
  #holders = 0;
  #finished = false;
  #onAbandon: (() => void) | undefined;

  constructor(onAbandon?: () => void) {
    this.#onAbandon = onAbandon;
  }

  /** Aborted once every holder has released before the flight finished. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Registers one holder; the returned function releases it (calling it twice is harmless). */
  hold(): (reason?: unknown) => void {
    this.#holders += 1;
    let released = false;
    return (reason?: unknown) => {
      if (released) return;
      released = true;
      this.#holders -= 1;
      if (this.#holders === 0 && !this.#finished) {
        this.#finished = true;
        this.#onAbandon?.();
        this.#onAbandon = undefined;
        this.#controller.abort(reason);
      }
    };
  }

  /** Marks the shared work as done: later releases no longer abort it. */
  finish(): void {
    this.#finished = true;
    this.#onAbandon = undefined;
  }
}

/** Resolves or rejects like `promise`, or rejects with `signal.reason` as soon as `signal` aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
