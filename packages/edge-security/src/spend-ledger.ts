import { BudgetExceededError, SecurityOptionsError } from './errors';
import type { FallbackEvent, RedisClientLike } from './redis-client';

/** Period a spend budget applies to: the current UTC calendar day or month, or the key's lifetime. */
export type BudgetPeriod = 'day' | 'month' | 'total';

/** Who spends: an API key record satisfies this. */
export interface BudgetSubject {
  /** Counter identity, e.g. `key:team-a`. */
  readonly id: string;
  /** Shown in errors; defaults to `id`. */
  readonly name?: string;
  /** Budget per period in USD; absent = no budget (spend is still recorded). */
  readonly budgetUsd?: number;
  /** @default 'month' */
  readonly budgetPeriod?: BudgetPeriod;
}

/** Spend of one subject in the current period. */
export interface SpendState {
  readonly period: BudgetPeriod;
  readonly spentUsd: number;
  readonly budgetUsd?: number;
  /** `budgetUsd - spentUsd`, never below 0; absent without a budget. */
  readonly remainingUsd?: number;
  /** Milliseconds until the period ends; absent for `total`. */
  readonly resetMs?: number;
  /** True when Redis was unavailable and this figure counts only this process's spend. */
  readonly degraded: boolean;
}

/** Options of {@link SpendLedger}. */
export interface SpendLedgerOptions {
  /**
   * Connected node-redis client; spend is then shared by every gateway instance.
   * @default undefined (in-process only)
   */
  redis?: RedisClientLike;
  /**
   * Prefix of the Redis keys (`<prefix>:<subject id>:<period>`).
   * @default 'llm-edge:spend'
   */
  keyPrefix?: string;
  /**
   * Clock, in epoch milliseconds.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Called each time Redis was unavailable and the in-process ledger was used instead.
   * @default undefined
   */
  onFallback?: (event: FallbackEvent) => void;
}

/** Default {@link SpendLedgerOptions}. */
export const DEFAULT_SPEND_LEDGER_OPTIONS = Object.freeze({
  keyPrefix: 'llm-edge:spend',
  now: (): number => Date.now(),
});

// Amounts are kept as integer micro-dollars: INCRBY is exact where INCRBYFLOAT drifts.
const MICRO = 1_000_000;
const DAY_MS = 86_400_000;

// Increment, and give the key a TTL the first time it is written, in one round trip.
const INCR_WITH_TTL = `local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return v`;

interface PeriodWindow {
  readonly key: string;
  readonly endsAt?: number;
}

function periodWindow(period: BudgetPeriod, now: number): PeriodWindow {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (period === 'day') {
    const start = Date.UTC(y, m, d.getUTCDate());
    return { key: `d${new Date(start).toISOString().slice(0, 10)}`, endsAt: start + DAY_MS };
  }
  if (period === 'month') {
    return {
      key: `m${new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7)}`,
      endsAt: Date.UTC(y, m + 1, 1),
    };
  }
  return { key: 'total' };
}

function toNumber(reply: unknown): number {
  if (reply === null || reply === undefined) return 0;
  const n = typeof reply === 'number' ? reply : Number(String(reply));
  return Number.isFinite(n) ? n : 0;
}

/**
 * Spend per API key per budget period, in Redis when a client is given (shared by all gateway
 * instances) and in process otherwise or while Redis is down (each such use is counted).
 *
 * Budgets use calendar periods, which a fixed rate-limit window cannot express (a month is longer
 * than rate-limiter-flexible's in-memory maximum of about 24 days), hence this small ledger.
 *
 * @example
 * ```ts
 * const ledger = new SpendLedger({ redis });
 * await ledger.check(key);                 // throws BudgetExceededError (429) when used up
 * await ledger.record(key, 0.0123);        // after the call, with the priced usage
 * ```
 */
export class SpendLedger {
  readonly #redis: RedisClientLike | undefined;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #onFallback: ((event: FallbackEvent) => void) | undefined;
  // One entry per subject and period kind, holding only the current period, so it cannot grow over time.
  readonly #memory = new Map<string, { readonly window: string; readonly micro: number }>();
  #fallbacks = 0;

  constructor(options: SpendLedgerOptions = {}) {
    if (options.redis !== undefined && typeof options.redis.sendCommand !== 'function') {
      throw new SecurityOptionsError('redis', 'must be a node-redis client');
    }
    const prefix = options.keyPrefix ?? DEFAULT_SPEND_LEDGER_OPTIONS.keyPrefix;
    if (typeof prefix !== 'string' || prefix === '') {
      throw new SecurityOptionsError('keyPrefix', 'must be a non-empty string');
    }
    this.#redis = options.redis;
    this.#prefix = prefix;
    this.#now = options.now ?? DEFAULT_SPEND_LEDGER_OPTIONS.now;
    this.#onFallback = options.onFallback;
  }

  /** How many operations used the in-process ledger because Redis was unavailable. */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  /** Adds `usd` (finite, >= 0) to the subject's spend in the current period. */
  async record(subject: BudgetSubject, usd: number): Promise<SpendState> {
    if (!Number.isFinite(usd) || usd < 0) {
      throw new SecurityOptionsError('usd', 'spend must be a finite number >= 0');
    }
    const micro = Math.ceil(usd * MICRO);
    const now = this.#now();
    const period = subject.budgetPeriod ?? 'month';
    const window = periodWindow(period, now);
    const key = `${this.#prefix}:${subject.id}:${window.key}`;
    const ttlSec = window.endsAt === undefined ? 0 : Math.ceil((window.endsAt - now) / 1000) + 86_400;
    const remote = await this.#remote('record', async (redis) =>
      toNumber(await redis.sendCommand(['EVAL', INCR_WITH_TTL, '1', key, String(micro), String(ttlSec)])),
    );
    let total: number;
    if (remote === undefined) {
      total = this.#memoryGet(subject, period, window) + micro;
      this.#memory.set(`${subject.id}:${period}`, { window: window.key, micro: total });
    } else {
      total = remote;
    }
    return this.#state(
      subject,
      period,
      window,
      now,
      total,
      remote === undefined && this.#redis !== undefined,
    );
  }

  /** The subject's spend in the current period. */
  async get(subject: BudgetSubject): Promise<SpendState> {
    const now = this.#now();
    const period = subject.budgetPeriod ?? 'month';
    const window = periodWindow(period, now);
    const key = `${this.#prefix}:${subject.id}:${window.key}`;
    const remote = await this.#remote('get', async (redis) =>
      toNumber(await redis.sendCommand(['GET', key])),
    );
    const total = remote ?? this.#memoryGet(subject, period, window);
    return this.#state(
      subject,
      period,
      window,
      now,
      total,
      remote === undefined && this.#redis !== undefined,
    );
  }

  /**
   * Refuses a subject whose budget for the current period is used up. Without a budget it only
   * returns the state.
   *
   * @throws BudgetExceededError `LLM_EDGE_BUDGET_EXCEEDED` (status 429).
   */
  async check(subject: BudgetSubject): Promise<SpendState> {
    const state = await this.get(subject);
    if (state.budgetUsd !== undefined && state.spentUsd >= state.budgetUsd) {
      throw new BudgetExceededError(
        subject.name ?? subject.id,
        state.budgetUsd,
        state.spentUsd,
        state.resetMs,
      );
    }
    return state;
  }

  /** Forgets the subject's spend in the current period (in Redis and in process). */
  async reset(subject: BudgetSubject): Promise<void> {
    const period = subject.budgetPeriod ?? 'month';
    const window = periodWindow(period, this.#now());
    const key = `${this.#prefix}:${subject.id}:${window.key}`;
    this.#memory.delete(`${subject.id}:${period}`);
    await this.#remote('reset', async (redis) => toNumber(await redis.sendCommand(['DEL', key])));
  }

  #memoryGet(subject: BudgetSubject, period: BudgetPeriod, window: PeriodWindow): number {
    const entry = this.#memory.get(`${subject.id}:${period}`);
    return entry !== undefined && entry.window === window.key ? entry.micro : 0;
  }

  async #remote(
    operation: string,
    run: (redis: RedisClientLike) => Promise<number>,
  ): Promise<number | undefined> {
    const redis = this.#redis;
    if (redis === undefined) return undefined;
    if (redis.isReady) {
      try {
        return await run(redis);
      } catch {
        // Counted below; the in-process ledger keeps budgets enforced per instance meanwhile.
      }
    }
    this.#fallbacks += 1;
    try {
      this.#onFallback?.({ scope: 'spend', operation });
    } catch {
      // A metrics hook must never break the request path; the fallback is already counted above.
    }
    return undefined;
  }

  #state(
    subject: BudgetSubject,
    period: BudgetPeriod,
    window: PeriodWindow,
    now: number,
    micro: number,
    degraded: boolean,
  ): SpendState {
    const spentUsd = micro / MICRO;
    const budgetUsd = subject.budgetUsd;
    return {
      period,
      spentUsd,
      ...(budgetUsd !== undefined ? { budgetUsd, remainingUsd: Math.max(0, budgetUsd - spentUsd) } : {}),
      ...(window.endsAt !== undefined ? { resetMs: window.endsAt - now } : {}),
      degraded,
    };
  }
}
