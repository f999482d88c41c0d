import { type Provider, ProviderError } from '@llm-edge/providers';
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  circuitBreaker,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IBreaker,
  type IHalfOpenAfterBackoffContext,
} from 'cockatiel';
import { isBreakerFailure } from './failover';
import { MovingAverage } from './moving-average';
import type { BreakerOptions } from './options';
import type { AttemptError, BreakerState, Clock, TargetHealth, TargetInfo } from './types';

/** Opens when any of its breakers says so: consecutive failures OR a failure ratio in a window. */
class AnyOfBreaker implements IBreaker {
  readonly #breakers: IBreaker[];

  constructor(breakers: IBreaker[]) {
    this.#breakers = breakers;
  }

  get state(): unknown {
    return this.#breakers.map((b) => b.state);
  }

  set state(value: unknown) {
    if (!Array.isArray(value)) return;
    this.#breakers.forEach((b, i) => {
      b.state = value[i];
    });
  }

  success(state: CircuitState): void {
    for (const b of this.#breakers) b.success(state);
  }

  failure(state: CircuitState): boolean {
    let open = false;
    // Every breaker must see every failure, so no short-circuit here.
    for (const b of this.#breakers) open = b.failure(state) || open;
    return open;
  }
}

/**
 * Half-open delay read from the router's clock rather than cockatiel's Date.now(): the breaker asks
 * `Date.now() - openedAt < duration`, so reporting -Infinity once the clock says the delay is over
 * (and +Infinity before) lets an injected clock decide. Each failed probe doubles the delay up to
 * the maximum.
 */
class ClockHalfOpenBackoff implements IBackoffFactory<IHalfOpenAfterBackoffContext> {
  readonly #clock: Clock;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #onOpen: (halfOpenAt: number) => void;

  constructor(clock: Clock, baseMs: number, maxMs: number, onOpen: (halfOpenAt: number) => void) {
    this.#clock = clock;
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#onOpen = onOpen;
  }

  next(context: IHalfOpenAfterBackoffContext): IBackoff<IHalfOpenAfterBackoffContext> {
    const delay = Math.min(this.#baseMs * 2 ** Math.max(0, context.attempt - 1), this.#maxMs);
    const halfOpenAt = this.#clock.now() + delay;
    this.#onOpen(halfOpenAt);
    const clock = this.#clock;
    return {
      get duration() {
        return clock.now() >= halfOpenAt ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      },
      next: (ctx) => this.next(ctx),
    };
  }
}

const BREAKER_STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

/** Static facts about a target, resolved once from its configuration and the catalogue. */
export interface TargetFacts {
  priority: number;
  weight: number;
  contextWindow: number | undefined;
  usdPerMTok: number | undefined;
}

/** Everything the router tracks about one target: breaker, cooldown, latencies, load. */
export class TargetState {
  readonly info: TargetInfo;
  readonly provider: Provider;
  readonly facts: TargetFacts;
  readonly breaker: CircuitBreakerPolicy;
  readonly ttft: MovingAverage;
  readonly latency: MovingAverage;
  inFlight = 0;
  successes = 0;
  failures = 0;
  cooldownUntil: number | undefined;
  lastError: AttemptError | undefined;
  #halfOpenAt: number | undefined;
  #halfOpenStarted = 0;
  readonly #halfOpenCalls: number;
  readonly #clock: Clock;

  constructor(
    info: TargetInfo,
    provider: Provider,
    facts: TargetFacts,
    deps: {
      clock: Clock;
      breaker: BreakerOptions;
      latencyAlpha: number;
      onBreakerChange: (state: BreakerState, halfOpenAt: number | undefined) => void;
    },
  ) {
    this.info = info;
    this.provider = provider;
    this.facts = facts;
    this.#clock = deps.clock;
    this.ttft = new MovingAverage(deps.latencyAlpha);
    this.latency = new MovingAverage(deps.latencyAlpha);
    const { breaker: opts } = deps;
    this.#halfOpenCalls = opts.halfOpenCalls;
    const breakers: IBreaker[] = [];
    if (opts.consecutiveFailures > 0) breakers.push(new ConsecutiveBreaker(opts.consecutiveFailures));
    if (opts.failureRatio) {
      breakers.push(
        new CountBreaker({
          threshold: opts.failureRatio.threshold,
          size: opts.failureRatio.windowSize,
          minimumNumberOfCalls: opts.failureRatio.minimumCalls ?? opts.failureRatio.windowSize,
        }),
      );
    }
    // A half-open probe that was aborted (hedge lost, caller left) proved nothing; cockatiel would
    // count an unhandled error as a successful probe and close the breaker, so it counts as a failure.
    const isFailure = (error: unknown): boolean =>
      isBreakerFailure(error) ||
      (this.breaker.state === CircuitState.HalfOpen &&
        ProviderError.isInstance(error) &&
        error.kind === 'aborted');
    this.breaker = circuitBreaker(handleWhen(isFailure), {
      breaker: new AnyOfBreaker(breakers),
      halfOpenAfter: new ClockHalfOpenBackoff(
        deps.clock,
        opts.halfOpenAfterMs,
        opts.maxHalfOpenAfterMs,
        (at) => {
          this.#halfOpenAt = at;
        },
      ),
      halfOpenSampling: { calls: opts.halfOpenCalls, threshold: 0 },
    });
    this.breaker.onStateChange((state) => {
      if (state === CircuitState.HalfOpen) this.#halfOpenStarted = 0;
      if (state === CircuitState.Closed) this.#halfOpenAt = undefined;
      deps.onBreakerChange(
        BREAKER_STATE_NAMES[state],
        state === CircuitState.Open ? this.#halfOpenAt : undefined,
      );
    });
  }

  /** The breaker's state by name. */
  get breakerState(): BreakerState {
    return BREAKER_STATE_NAMES[this.breaker.state];
  }

  /** Epoch ms at which an open breaker admits a probe. */
  get halfOpenAt(): number | undefined {
    return this.breaker.state === CircuitState.Open ? this.#halfOpenAt : undefined;
  }

  /** Why the target cannot take a request now, or undefined when it can. */
  unavailableBecause(now: number): string | undefined {
    if (this.cooldownUntil !== undefined && now < this.cooldownUntil) return 'cooling down';
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return undefined;
      case CircuitState.Open:
        return this.#halfOpenAt !== undefined && now >= this.#halfOpenAt ? undefined : 'breaker open';
      case CircuitState.HalfOpen:
        // Further calls would queue behind the probe inside the breaker; better to route elsewhere.
        return this.#halfOpenStarted < this.#halfOpenCalls ? undefined : 'breaker half-open, probe running';
      default:
        return 'breaker isolated';
    }
  }

  /**
   * Runs `fn` through the target's circuit breaker. While the breaker is not closed it is waiting
   * for a recovery probe, so `localRefusal` (what the adapter would refuse without any I/O) is asked
   * first: a request it refuses rejects with that error and neither uses up the probe nor closes the
   * breaker on no evidence (cockatiel counts an error it does not handle as a successful probe).
   */
  execute<T>(fn: () => Promise<T>, signal: AbortSignal, localRefusal?: () => unknown): Promise<T> {
    if (localRefusal !== undefined && this.breaker.state !== CircuitState.Closed) {
      const refusal = localRefusal();
      if (refusal !== undefined) return Promise.reject(refusal);
    }
    return this.breaker.execute(() => {
      if (this.breaker.state === CircuitState.HalfOpen) this.#halfOpenStarted++;
      return fn();
    }, signal);
  }

  /**
   * Records a failure that happened after the breaker's call returned (a stream dying midway):
   * fed through the breaker so its counters see it, only while closed so it never acts as a probe.
   */
  recordLateFailure(error: unknown): void {
    if (this.breaker.state !== CircuitState.Closed || !isBreakerFailure(error)) return;
    this.breaker
      .execute(() => Promise.reject(error))
      .catch(() => {
        // The rejection is the recorded failure itself, already counted in `failures`.
      });
  }

  /** Keeps the target out of rotation until `until` (epoch ms), never shortening a longer cooldown. */
  coolDown(until: number): void {
    if (this.cooldownUntil === undefined || until > this.cooldownUntil) this.cooldownUntil = until;
  }

  /** A health record for snapshots. */
  health(now: number): TargetHealth {
    return {
      target: this.info,
      available: this.unavailableBecause(now) === undefined,
      breaker: this.breakerState,
      halfOpenAt: this.halfOpenAt,
      cooldownUntil:
        this.cooldownUntil !== undefined && now < this.cooldownUntil ? this.cooldownUntil : undefined,
      inFlight: this.inFlight,
      ttftMs: this.ttft.value,
      latencyMs: this.latency.value,
      successes: this.successes,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  /** Current time on the router's clock. */
  now(): number {
    return this.#clock.now();
  }
}
