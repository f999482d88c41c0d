import type { UpstreamTimer } from './handlers';

/**
 * Accumulates the wall time during which at least one upstream wait is open, so hedged or
 * parallel calls count once.
 */
export class IntervalUpstreamTimer implements UpstreamTimer {
  private active = 0;
  private since = 0;
  private total = 0;

  constructor(private readonly clock: () => number) {}

  begin(): () => void {
    if (this.active === 0) this.since = this.clock();
    this.active += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.active -= 1;
      if (this.active === 0) this.total += this.clock() - this.since;
    };
  }

  track<T>(promise: Promise<T>): Promise<T> {
    return this.settle(promise, this.begin());
  }

  private settle<T>(promise: Promise<T>, end: () => void): Promise<T> {
    return promise.then(
      (value) => {
        end();
        return value;
      },
      (error: unknown) => {
        end();
        throw error;
      },
    );
  }

  iterate<T>(iterable: AsyncIterable<T>): AsyncIterable<T> {
    const timer = this;
    return {
      [Symbol.asyncIterator](): AsyncIterator<T> {
        const iterator = iterable[Symbol.asyncIterator]();
        const wrapped: AsyncIterator<T> = {
          next: (...args: [] | [undefined]) => {
            // Start timing before calling next(): the upstream's work may begin synchronously.
            const end = timer.begin();
            try {
              return timer.settle(iterator.next(...args), end);
            } catch (error) {
              end();
              throw error;
            }
          },
        };
        if (iterator.return !== undefined) {
          const close = iterator.return.bind(iterator);
          wrapped.return = (value?: unknown) => close(value);
        }
        if (iterator.throw !== undefined) {
          const fail = iterator.throw.bind(iterator);
          wrapped.throw = (error?: unknown) => fail(error);
        }
        return wrapped;
      },
    };
  }

  add(ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.total += ms;
  }

  get waitedMs(): number {
    return this.active > 0 ? this.total + (this.clock() - this.since) : this.total;
  }
}
