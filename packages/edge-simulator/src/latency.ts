import { normal, type RandomSource } from './random';
import type { LatencyProfile } from './scenario';

/** z-score of the 99th percentile of a standard normal distribution. */
const Z99 = 2.3263478740408408;

/** Log-normal parameters (of the underlying normal) fitted to a median and a 99th percentile. */
export function logNormalParameters(p50: number, p99: number): { mu: number; sigma: number } {
  if (p50 <= 0) return { mu: Number.NEGATIVE_INFINITY, sigma: 0 };
  return { mu: Math.log(p50), sigma: p99 > p50 ? Math.log(p99 / p50) / Z99 : 0 };
}

/** Draws one value (ms) from the log-normal distribution with the given median and p99. */
export function sampleLogNormal(percentiles: { p50: number; p99: number }, random: RandomSource): number {
  const { mu, sigma } = logNormalParameters(percentiles.p50, percentiles.p99);
  if (mu === Number.NEGATIVE_INFINITY) return 0;
  return Math.exp(mu + sigma * normal(random));
}

/** When each part of a reply is due: time to first token and the gap before each later piece. */
export interface LatencySchedule {
  /** Time to first token, ms (already multiplied by the time scale). */
  ttftMs: number;
  /** Gap before piece i+1, ms, for i in 0..pieces-2 (already scaled). */
  gapsMs: number[];
  /** ttft + all gaps. */
  totalMs: number;
}

/**
 * Samples the latency schedule of a reply of `pieces` pieces under `profile`, scaled by `timeScale`.
 * Pure: the same random sequence gives the same schedule, which is how the tests check it.
 */
export function sampleSchedule(
  profile: LatencyProfile,
  pieces: number,
  timeScale: number,
  random: RandomSource,
): LatencySchedule {
  if (timeScale === 0) return { ttftMs: 0, gapsMs: [], totalMs: 0 };
  const ttftMs = sampleLogNormal(profile.ttftMs, random) * timeScale;
  const gapsMs: number[] = [];
  let totalMs = ttftMs;
  for (let i = 1; i < pieces; i++) {
    const gap = sampleLogNormal(profile.itlMs, random) * timeScale;
    gapsMs.push(gap);
    totalMs += gap;
  }
  return { ttftMs, gapsMs, totalMs };
}

/** Per-model concurrency gate: at most `limit` requests run; the rest wait in FIFO order up to `maxQueue`. */
export class ConcurrencyGate {
  active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly limit: number,
    readonly maxQueue: number,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  /** Takes a slot now if one is free. */
  tryAcquire(): boolean {
    if (this.active < this.limit) {
      this.active++;
      return true;
    }
    return false;
  }

  /**
   * Waits for a slot; resolves true once held, false if the queue is full.
   * `onCancel` receives a function that drops this waiter (when the client leaves).
   */
  acquire(onCancel: (cancel: () => void) => void): Promise<boolean> {
    if (this.tryAcquire()) return Promise.resolve(true);
    if (this.waiting.length >= this.maxQueue) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter = (): void => resolve(true);
      this.waiting.push(waiter);
      onCancel(() => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) {
          this.waiting.splice(at, 1);
          resolve(false);
        }
      });
    });
  }

  /** Frees a slot, handing it to the next waiter if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
