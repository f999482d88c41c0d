import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { RateLimitError, SecurityOptionsError } from './errors';
import type { FallbackEvent, FallbackScope, RedisClientLike } from './redis-client';

/** Who is limited: an API key record satisfies this; {@link RateLimiter.ipSubject} builds one for an IP. */
export interface RateLimitSubject {
  /** Counter identity, e.g. `key:team-a` or `ip:203.0.113.7`. Never the raw API key. */
  readonly id: string;
  /** Requests per window; absent = unlimited. */
  readonly rpm?: number;
  /** Tokens per window; absent = unlimited. */
  readonly tpm?: number;
}

/** One limit's standing after an operation, for `x-ratelimit-*` headers. */
export interface RateLimitState {
  /** The limit per window. */
  readonly limit: number;
  /** What is left in the current window. */
  readonly remaining: number;
  /** Milliseconds until the window resets. */
  readonly resetMs: number;
  /** Epoch milliseconds at which the window resets. */
  readonly resetAt: number;
}

/** What {@link RateLimiter.reserve} admitted; hand it back to {@link RateLimiter.reconcile} after the call. */
export interface RateLimitReservation {
  readonly subjectId: string;
  /** Tokens reserved against the tokens limit (0 when the subject has none). */
  readonly estimatedTokens: number;
  /** Requests limit after this request; absent when unlimited. */
  readonly requests?: RateLimitState;
  /** Tokens limit after the reservation; absent when unlimited. */
  readonly tokens?: RateLimitState;
  /** True when Redis was unavailable and in-process counters admitted this request. */
  readonly degraded: boolean;
}

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /**
   * Connected node-redis client: limits are then shared by every gateway instance using the same
   * Redis and `keyPrefix`. While it is not ready (or a command fails) in-process limiters take over
   * (rate-limiter-flexible's `insuranceLimiter`) and each such use is counted.
   * @default undefined (in-process limits only)
   */
  redis?: RedisClientLike;
  /**
   * Prefix of the Redis keys.
   * @default 'llm-edge:rl'
   */
  keyPrefix?: string;
  /**
   * Window length in seconds; `rpm`/`tpm` are per window.
   * @default 60
   */
  windowSeconds?: number;
  /**
   * Limits for unauthenticated callers, applied per client IP by {@link RateLimiter.ipSubject}.
   * @default { rpm: 60 }
   */
  anonymous?: { readonly rpm?: number; readonly tpm?: number };
  /**
   * Clock in epoch milliseconds (rate-limiter-flexible's in-process counters read `Date.now`).
   * @default Date.now
   */
  now?: () => number;
  /**
   * Called each time an operation used the in-process fallback because Redis was unavailable.
   * @default undefined
   */
  onFallback?: (event: FallbackEvent) => void;
}

/** Default {@link RateLimiterOptions}. */
export const DEFAULT_RATE_LIMITER_OPTIONS = Object.freeze({
  keyPrefix: 'llm-edge:rl',
  windowSeconds: 60,
  anonymous: Object.freeze({ rpm: 60 }) as { readonly rpm?: number; readonly tpm?: number },
  now: (): number => Date.now(),
});

/** Fallback counts of a {@link RateLimiter}. */
export interface RateLimiterStats {
  /** Operations answered by in-process counters because Redis was unavailable. */
  readonly fallbacks: number;
  readonly fallbacksByScope: Readonly<Record<'requests' | 'tokens', number>>;
}

// Results produced by an insurance limiter, so a reservation can say it was degraded.
const fromInsurance = new WeakSet<object>();

type Options = { [key: string]: unknown };

/** The in-process stand-in used while Redis is unavailable; it reports every use. */
class InsuranceLimiter extends RateLimiterMemory {
  readonly #report: (operation: string) => void;

  constructor(opts: ConstructorParameters<typeof RateLimiterMemory>[0], report: (operation: string) => void) {
    super(opts);
    this.#report = report;
  }

  #mark(operation: string, result: Promise<RateLimiterRes>): Promise<RateLimiterRes> {
    this.#report(operation);
    return result.then(
      (res) => {
        fromInsurance.add(res);
        return res;
      },
      (rejection: unknown) => {
        if (rejection instanceof RateLimiterRes) fromInsurance.add(rejection);
        throw rejection;
      },
    );
  }

  override consume(key: string | number, points?: number, options?: Options): Promise<RateLimiterRes> {
    return this.#mark('consume', super.consume(key, points, options));
  }

  override penalty(key: string | number, points?: number, options?: Options): Promise<RateLimiterRes> {
    return this.#mark('penalty', super.penalty(key, points, options));
  }

  override reward(key: string | number, points?: number, options?: Options): Promise<RateLimiterRes> {
    return this.#mark('reward', super.reward(key, points, options));
  }

  override get(key: string | number, options?: Options): Promise<RateLimiterRes | null> {
    this.#report('get');
    return super.get(key, options);
  }
}

function checkLimit(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new SecurityOptionsError(field, 'must be a positive integer');
  }
  return value;
}

function insuranceOf(limiter: RateLimiterAbstract): RateLimiterAbstract | undefined {
  return (limiter as RateLimiterAbstract & { insuranceLimiter?: RateLimiterAbstract }).insuranceLimiter;
}

function isLimiterResult(value: unknown): value is RateLimiterRes {
  return value instanceof RateLimiterRes;
}

/** Reduces an IPv6 address to its /64 network, which is what one client usually controls. */
function ipKey(ip: string): string {
  const trimmed = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(trimmed);
  if (mapped) return mapped[1]!;
  if (!trimmed.includes(':')) return trimmed;
  const noZone = trimmed.split('%')[0]!;
  const [head = '', tail] = noZone.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headParts.length - tailParts.length;
  const groups =
    tail === undefined ? headParts : [...headParts, ...Array(Math.max(0, missing)).fill('0'), ...tailParts];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Requests-per-minute and tokens-per-minute limits per API key (or client IP), built on
 * rate-limiter-flexible: `RateLimiterRedis` over node-redis when a client is given, with an
 * in-process `insuranceLimiter` while Redis is down; `RateLimiterMemory` otherwise.
 *
 * Tokens are reserved before the call from an estimate and reconciled with the provider's usage
 * after it: the difference is charged or refunded.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ redis });                    // or new RateLimiter() for in-process
 * const reservation = await limiter.reserve(key, estimate.totalTokens); // throws RateLimitError (429)
 * const response = await router.chat(request);
 * await limiter.reconcile(reservation, usageTotalTokens(response.usage));
 * ```
 */
export class RateLimiter {
  readonly #redis: RedisClientLike | undefined;
  readonly #prefix: string;
  readonly #windowSeconds: number;
  readonly #anonymous: { readonly rpm?: number; readonly tpm?: number };
  readonly #now: () => number;
  readonly #onFallback: ((event: FallbackEvent) => void) | undefined;
  readonly #limiters = new Map<string, RateLimiterAbstract>();
  readonly #settled = new WeakSet<RateLimitReservation>();
  // Reservations whose tokens were counted in process, to be settled there even if Redis is back.
  readonly #reservedInProcess = new WeakSet<RateLimitReservation>();
  readonly #fallbacks = { requests: 0, tokens: 0 };

  constructor(options: RateLimiterOptions = {}) {
    const redis = options.redis;
    if (redis !== undefined && (typeof redis !== 'object' || redis === null || !('isReady' in redis))) {
      throw new SecurityOptionsError('redis', 'must be a node-redis client (createClient() from "redis")');
    }
    const prefix = options.keyPrefix ?? DEFAULT_RATE_LIMITER_OPTIONS.keyPrefix;
    if (typeof prefix !== 'string' || prefix === '') {
      throw new SecurityOptionsError('keyPrefix', 'must be a non-empty string');
    }
    const windowSeconds = checkLimit(
      options.windowSeconds ?? DEFAULT_RATE_LIMITER_OPTIONS.windowSeconds,
      'windowSeconds',
    )!;
    const anonymous = options.anonymous ?? DEFAULT_RATE_LIMITER_OPTIONS.anonymous;
    const anonRpm = checkLimit(anonymous.rpm, 'anonymous.rpm');
    const anonTpm = checkLimit(anonymous.tpm, 'anonymous.tpm');
    this.#redis = redis;
    this.#prefix = prefix;
    this.#windowSeconds = windowSeconds;
    this.#anonymous = Object.freeze({
      ...(anonRpm !== undefined ? { rpm: anonRpm } : {}),
      ...(anonTpm !== undefined ? { tpm: anonTpm } : {}),
    });
    this.#now = options.now ?? DEFAULT_RATE_LIMITER_OPTIONS.now;
    this.#onFallback = options.onFallback;
  }

  /** Fallback counts since construction. */
  stats(): RateLimiterStats {
    return {
      fallbacks: this.#fallbacks.requests + this.#fallbacks.tokens,
      fallbacksByScope: { ...this.#fallbacks },
    };
  }

  /** The subject for an unauthenticated caller: `ip:<address>` (IPv6 by /64) with the anonymous limits. */
  ipSubject(ip: string): RateLimitSubject {
    return { id: `ip:${ipKey(ip)}`, ...this.#anonymous };
  }

  /**
   * Admits one request and reserves `estimatedTokens` against the subject's limits. Pass a function
   * to estimate only when the subject has a tokens limit (the estimate tokenizes the whole prompt).
   *
   * @throws RateLimitError `LLM_EDGE_RATE_LIMITED` (429, with `retryAfterMs`) when a limit is used
   *   up, or `LLM_EDGE_REQUEST_EXCEEDS_TOKEN_LIMIT` when the estimate alone exceeds the tokens limit.
   *   A refused request leaves no trace in the tokens counter.
   */
  async reserve(
    subject: RateLimitSubject,
    estimatedTokens: number | (() => number) = 0,
  ): Promise<RateLimitReservation> {
    const rpm = checkLimit(subject.rpm, 'subject.rpm');
    const tpm = checkLimit(subject.tpm, 'subject.tpm');
    const tokensWanted =
      tpm === undefined
        ? 0
        : Math.max(1, Math.ceil(typeof estimatedTokens === 'function' ? estimatedTokens() : estimatedTokens));
    let degraded = false;
    let requests: RateLimitState | undefined;

    if (rpm !== undefined) {
      const limiter = this.#limiter('requests', rpm);
      try {
        const res = await limiter.consume(subject.id, 1);
        degraded ||= fromInsurance.has(res);
        requests = this.#state(rpm, res.remainingPoints, res.msBeforeNext);
      } catch (rejection) {
        if (!isLimiterResult(rejection)) throw rejection;
        throw new RateLimitError({
          code: 'LLM_EDGE_RATE_LIMITED',
          limitType: 'requests',
          limit: rpm,
          remaining: 0,
          resetMs: Math.max(0, rejection.msBeforeNext),
          retryAfterMs: Math.max(1, rejection.msBeforeNext),
        });
      }
    }

    let tokens: RateLimitState | undefined;
    let tokensInProcess = false;
    if (tpm !== undefined) {
      const limiter = this.#limiter('tokens', tpm);
      if (tokensWanted > tpm) {
        await this.#refundRequest(subject.id, rpm);
        const current = await limiter.get(subject.id);
        throw new RateLimitError({
          code: 'LLM_EDGE_REQUEST_EXCEEDS_TOKEN_LIMIT',
          limitType: 'tokens',
          limit: tpm,
          remaining: Math.max(0, tpm - (current?.consumedPoints ?? 0)),
          resetMs: Math.max(0, current?.msBeforeNext ?? 0),
          requested: tokensWanted,
        });
      }
      try {
        const res = await limiter.consume(subject.id, tokensWanted);
        tokensInProcess = fromInsurance.has(res);
        degraded ||= tokensInProcess;
        tokens = this.#state(tpm, res.remainingPoints, res.msBeforeNext);
      } catch (rejection) {
        if (!isLimiterResult(rejection)) throw rejection;
        // Undo this request's share so that a smaller request can still fit in the window.
        await limiter.reward(subject.id, tokensWanted);
        await this.#refundRequest(subject.id, rpm);
        throw new RateLimitError({
          code: 'LLM_EDGE_RATE_LIMITED',
          limitType: 'tokens',
          limit: tpm,
          remaining: Math.max(0, tpm - (rejection.consumedPoints - tokensWanted)),
          resetMs: Math.max(0, rejection.msBeforeNext),
          retryAfterMs: Math.max(1, rejection.msBeforeNext),
          requested: tokensWanted,
        });
      }
    }

    const reservation: RateLimitReservation = {
      subjectId: subject.id,
      estimatedTokens: tokensWanted,
      ...(requests ? { requests } : {}),
      ...(tokens ? { tokens } : {}),
      degraded,
    };
    if (tokensInProcess) this.#reservedInProcess.add(reservation);
    return reservation;
  }

  /**
   * Replaces the reservation's estimate by the tokens actually used: charges the excess or refunds
   * the rest. Pass 0 when the call failed before using any tokens. A refund is skipped once the
   * reservation's window has ended (the tokens it held are gone with it); a charge always applies.
   * Settling a reservation twice does nothing the second time.
   *
   * @returns the tokens limit's state after settling, or `undefined` without a tokens limit.
   */
  async reconcile(
    reservation: RateLimitReservation,
    actualTokens: number,
  ): Promise<RateLimitState | undefined> {
    if (!Number.isFinite(actualTokens) || actualTokens < 0) {
      throw new SecurityOptionsError('actualTokens', 'must be a finite number >= 0');
    }
    const tokens = reservation.tokens;
    if (tokens === undefined || this.#settled.has(reservation)) return undefined;
    this.#settled.add(reservation);
    const diff = Math.ceil(actualTokens) - reservation.estimatedTokens;
    if (diff === 0) return tokens;
    let limiter = this.#limiter('tokens', tokens.limit);
    if (this.#reservedInProcess.has(reservation)) limiter = insuranceOf(limiter) ?? limiter;
    const windowOver = this.#now() >= tokens.resetAt;
    if (diff < 0 && windowOver) return undefined;
    const res =
      diff > 0
        ? await limiter.penalty(reservation.subjectId, diff)
        : await limiter.reward(reservation.subjectId, -diff);
    return this.#state(tokens.limit, res.remainingPoints, res.msBeforeNext);
  }

  /** Current standing of a subject's limits without consuming anything. */
  async peek(subject: RateLimitSubject): Promise<{ requests?: RateLimitState; tokens?: RateLimitState }> {
    const out: { requests?: RateLimitState; tokens?: RateLimitState } = {};
    const rpm = checkLimit(subject.rpm, 'subject.rpm');
    const tpm = checkLimit(subject.tpm, 'subject.tpm');
    if (rpm !== undefined) out.requests = await this.#peekOne('requests', rpm, subject.id);
    if (tpm !== undefined) out.tokens = await this.#peekOne('tokens', tpm, subject.id);
    return out;
  }

  /** Forgets a subject's counters (in Redis and in process), e.g. after raising its limits. */
  async resetSubject(subject: RateLimitSubject): Promise<void> {
    for (const [name, limiter] of this.#limiters) {
      if (name.startsWith('requests:') || name.startsWith('tokens:')) {
        await limiter.delete(subject.id);
        await insuranceOf(limiter)?.delete(subject.id);
      }
    }
  }

  async #peekOne(scope: 'requests' | 'tokens', limit: number, id: string): Promise<RateLimitState> {
    const res = await this.#limiter(scope, limit).get(id);
    if (res === null) return this.#state(limit, limit, this.#windowSeconds * 1000);
    return this.#state(limit, Math.max(0, limit - res.consumedPoints), res.msBeforeNext);
  }

  async #refundRequest(id: string, rpm: number | undefined): Promise<void> {
    if (rpm !== undefined) await this.#limiter('requests', rpm).reward(id, 1);
  }

  #state(limit: number, remaining: number, msBeforeNext: number): RateLimitState {
    const resetMs = msBeforeNext >= 0 ? msBeforeNext : this.#windowSeconds * 1000;
    return { limit, remaining: Math.max(0, remaining), resetMs, resetAt: this.#now() + resetMs };
  }

  #limiter(scope: 'requests' | 'tokens', points: number): RateLimiterAbstract {
    const name = `${scope}:${points}`;
    let limiter = this.#limiters.get(name);
    if (limiter) return limiter;
    const base = { points, duration: this.#windowSeconds, keyPrefix: `${this.#prefix}:${scope}` };
    if (this.#redis === undefined) {
      limiter = new RateLimiterMemory(base);
    } else {
      limiter = new RateLimiterRedis({
        ...base,
        storeClient: this.#redis,
        useRedisPackage: true,
        // node-redis queues commands while disconnected; failing over at once keeps requests moving.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new InsuranceLimiter(base, (operation) => this.#reportFallback(scope, operation)),
      });
    }
    this.#limiters.set(name, limiter);
    return limiter;
  }

  #reportFallback(scope: FallbackScope & ('requests' | 'tokens'), operation: string): void {
    this.#fallbacks[scope] += 1;
    try {
      this.#onFallback?.({ scope, operation });
    } catch {
      // A metrics hook must never break the request path; the fallback is already counted above.
    }
  }
}
