import type { Provider } from '@llm-edge/providers';
import { type Backoff, exponentialJitterBackoff, type RetryBudgetLike } from '@llm-edge/retry';
import { RoutingError } from './errors';
import { STRATEGY_NAMES, type StrategyName } from './strategies';
import type { AliasConfig, Clock, TargetConfig } from './types';

/** Circuit breaker settings, applied to every target separately. */
export interface BreakerOptions {
  /**
   * Open after this many failures in a row (server, overloaded, timeout, network); 0 turns this rule off.
   * @default 5
   */
  consecutiveFailures: number;
  /**
   * Also open when more than `threshold` (0..1, exclusive) of the last `windowSize` calls failed,
   * once at least `minimumCalls` calls were seen.
   * @default undefined (off)
   */
  failureRatio?: { threshold: number; windowSize: number; minimumCalls?: number } | undefined;
  /**
   * How long an opened breaker refuses calls before letting a probe through, ms.
   * @default 30000
   */
  halfOpenAfterMs: number;
  /**
   * Each failed probe doubles the wait, up to this, ms.
   * @default 300000
   */
  maxHalfOpenAfterMs: number;
  /**
   * Probe calls a half-open breaker lets through; all must succeed to close it.
   * @default 1
   */
  halfOpenCalls: number;
}

/** Hedging settings: a second target races the first when the first is slow to start. */
export interface HedgeOptions {
  /**
   * Start the next target when no first token arrived after this many ms. Unset = no hedging
   * (an alias's `hedgeDelayMs` turns it on for that alias).
   * @default undefined
   */
  delayMs?: number | undefined;
  /**
   * How many extra targets may race at once.
   * @default 1
   */
  maxHedges: number;
}

/** Cooldown of a target that answered 429 or 529. */
export interface CooldownOptions {
  /**
   * Cooldown when the target sent no Retry-After, ms.
   * @default 1000
   */
  defaultMs: number;
  /**
   * Longest cooldown, whatever the Retry-After says, ms.
   * @default 60000
   */
  maxMs: number;
}

/** Whole-route retries: another pass over the targets once every candidate failed. */
export interface RouterRetryOptions {
  /**
   * Extra passes after the first; 0 = fail as soon as every target failed once.
   * @default 1
   */
  maxRetries: number;
  /**
   * Wait before each pass (its maxDelayMs also caps a Retry-After or a cooldown wait).
   * @default exponentialJitterBackoff({ baseDelayMs: 100, maxDelayMs: 2000 })
   */
  backoff: Backoff;
  /**
   * Budget shared by every request of this router (pass one to share it wider); when it refuses,
   * the request fails at once instead of adding load to a struggling upstream.
   * @default a RetryBudget with @llm-edge/retry's defaults (20% of requests + 1/s)
   */
  budget?: RetryBudgetLike | undefined;
}

/** Options of {@link Router}. */
export interface RouterOptions {
  /** Provider instances by key; targets name them. */
  providers: Record<string, Provider>;
  /** Every target the router may use. */
  targets: TargetConfig[];
  /**
   * Model aliases clients may send.
   * @default []
   */
  aliases?: AliasConfig[];
  /**
   * Strategy for routes that are not aliases (a target id, `provider/model`, or a bare model name).
   * @default 'priority'
   */
  defaultStrategy?: StrategyName;
  /**
   * Accept `provider/model` for models that no target configures (they get their own breaker).
   * @default true
   */
  allowDirect?: boolean;
  /**
   * Most unconfigured `provider/model` targets kept at once (oldest forgotten first).
   * @default 256
   */
  maxDirectTargets?: number;
  /** @default DEFAULT_ROUTER_OPTIONS.retry */
  retry?: Partial<RouterRetryOptions>;
  /** @default DEFAULT_ROUTER_OPTIONS.hedge */
  hedge?: Partial<HedgeOptions>;
  /** @default DEFAULT_ROUTER_OPTIONS.breaker */
  breaker?: Partial<BreakerOptions>;
  /** @default DEFAULT_ROUTER_OPTIONS.cooldown */
  cooldown?: Partial<CooldownOptions>;
  /**
   * Weight of the newest sample in the latency moving averages (0..1].
   * @default 0.3
   */
  latencyAlpha?: number;
  /**
   * Uniform random source in [0, 1), for the weighted strategy and retry jitter; seed it in tests.
   * @default Math.random
   */
  random?: () => number;
  /**
   * Clock in epoch ms for cooldowns, breakers and latencies; inject one in tests.
   * @default { now: Date.now }
   */
  clock?: Clock;
}

/** Defaults of the optional parts of {@link RouterOptions}. */
export const DEFAULT_ROUTER_OPTIONS = Object.freeze({
  aliases: [] as readonly AliasConfig[],
  defaultStrategy: 'priority' as StrategyName,
  allowDirect: true,
  maxDirectTargets: 256,
  retry: Object.freeze({
    maxRetries: 1,
    backoff: exponentialJitterBackoff({ baseDelayMs: 100, maxDelayMs: 2000 }),
  }) as Readonly<Omit<RouterRetryOptions, 'budget'>>,
  hedge: Object.freeze({ delayMs: undefined, maxHedges: 1 }) as Readonly<HedgeOptions>,
  breaker: Object.freeze({
    consecutiveFailures: 5,
    failureRatio: undefined,
    halfOpenAfterMs: 30_000,
    maxHalfOpenAfterMs: 300_000,
    halfOpenCalls: 1,
  }) as Readonly<BreakerOptions>,
  cooldown: Object.freeze({ defaultMs: 1000, maxMs: 60_000 }) as Readonly<CooldownOptions>,
  latencyAlpha: 0.3,
});

/** RouterOptions after defaults and validation. */
export interface ResolvedRouterOptions {
  providers: Readonly<Record<string, Provider>>;
  targets: readonly Readonly<TargetConfig>[];
  aliases: readonly Readonly<AliasConfig>[];
  defaultStrategy: StrategyName;
  allowDirect: boolean;
  maxDirectTargets: number;
  retry: Readonly<RouterRetryOptions>;
  hedge: Readonly<HedgeOptions>;
  breaker: Readonly<BreakerOptions>;
  cooldown: Readonly<CooldownOptions>;
  latencyAlpha: number;
  random: () => number;
  clock: Clock;
}

function invalid(field: string, expectation: string): RoutingError {
  return new RoutingError(
    'LLM_EDGE_INVALID_ROUTER_OPTIONS',
    `Invalid router option ${field}: ${expectation}`,
    {
      field,
    },
  );
}

function checkNumber(
  field: string,
  value: unknown,
  {
    min,
    max,
    integer = false,
    exclusiveMin = false,
  }: { min: number; max?: number; integer?: boolean; exclusiveMin?: boolean },
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (exclusiveMin ? value > min : value >= min) &&
    (max === undefined || value <= max) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const range = `${exclusiveMin ? '>' : '>='} ${min}${max === undefined ? '' : ` and <= ${max}`}`;
    throw invalid(field, `expected ${integer ? 'an integer' : 'a number'} ${range}, got ${String(value)}`);
  }
  return value as number;
}

function checkString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'expected a non-empty string');
  return value;
}

function checkStrategy(field: string, value: unknown): StrategyName {
  if (!STRATEGY_NAMES.includes(value as StrategyName)) {
    throw invalid(field, `expected one of ${STRATEGY_NAMES.join(', ')}, got ${String(value)}`);
  }
  return value as StrategyName;
}

const MAX_DELAY_MS = 2_147_483_647;

/** Applies defaults and validates; throws RoutingError LLM_EDGE_INVALID_ROUTER_OPTIONS naming the field. */
export function resolveRouterOptions(options: RouterOptions): ResolvedRouterOptions {
  if (typeof options !== 'object' || options === null) throw invalid('(root)', 'expected an options object');
  const providers = options.providers;
  if (typeof providers !== 'object' || providers === null) throw invalid('providers', 'expected an object');
  for (const [key, provider] of Object.entries(providers)) {
    if (
      typeof provider !== 'object' ||
      provider === null ||
      typeof provider.chat !== 'function' ||
      typeof provider.chatStream !== 'function' ||
      typeof provider.embeddings !== 'function'
    ) {
      throw invalid(`providers.${key}`, 'expected a Provider (chat, chatStream, embeddings)');
    }
  }
  if (!Array.isArray(options.targets)) throw invalid('targets', 'expected an array');
  const targetIds = new Set<string>();
  const targets = options.targets.map((t, i) => {
    const at = `targets.${i}`;
    if (typeof t !== 'object' || t === null) throw invalid(at, 'expected an object');
    const id = checkString(`${at}.id`, t.id);
    if (targetIds.has(id)) throw invalid(`${at}.id`, `duplicate target id "${id}"`);
    targetIds.add(id);
    const provider = checkString(`${at}.provider`, t.provider);
    if (!Object.hasOwn(providers, provider))
      throw invalid(`${at}.provider`, `no provider named "${provider}"`);
    const target: TargetConfig = {
      id,
      provider,
      model: checkString(`${at}.model`, t.model),
      weight: checkNumber(`${at}.weight`, t.weight ?? 1, { min: 0 }),
      priority: checkNumber(`${at}.priority`, t.priority ?? 0, { min: -1e9, max: 1e9 }),
    };
    if (t.contextWindow !== undefined) {
      target.contextWindow = checkNumber(`${at}.contextWindow`, t.contextWindow, { min: 1, integer: true });
    }
    if (t.usdPerMTok !== undefined)
      target.usdPerMTok = checkNumber(`${at}.usdPerMTok`, t.usdPerMTok, { min: 0 });
    return Object.freeze(target);
  });

  const aliasInput = options.aliases ?? DEFAULT_ROUTER_OPTIONS.aliases;
  if (!Array.isArray(aliasInput)) throw invalid('aliases', 'expected an array');
  const aliasNames = new Set<string>();
  const aliases = aliasInput.map((a, i) => {
    const at = `aliases.${i}`;
    if (typeof a !== 'object' || a === null) throw invalid(at, 'expected an object');
    const name = checkString(`${at}.name`, a.name);
    if (aliasNames.has(name)) throw invalid(`${at}.name`, `duplicate alias "${name}"`);
    aliasNames.add(name);
    if (!Array.isArray(a.targets) || a.targets.length === 0) {
      throw invalid(`${at}.targets`, 'expected a non-empty array of target ids');
    }
    a.targets.forEach((id: string, j: number) => {
      if (!targetIds.has(id)) throw invalid(`${at}.targets.${j}`, `no target with id "${String(id)}"`);
    });
    if (new Set(a.targets).size !== a.targets.length) throw invalid(`${at}.targets`, 'lists a target twice');
    const alias: AliasConfig = {
      name,
      targets: [...a.targets],
      strategy: checkStrategy(`${at}.strategy`, a.strategy ?? 'priority'),
    };
    if (a.hedgeDelayMs !== undefined) {
      alias.hedgeDelayMs = checkNumber(`${at}.hedgeDelayMs`, a.hedgeDelayMs, { min: 0, max: MAX_DELAY_MS });
    }
    return Object.freeze(alias);
  });

  const r = { ...DEFAULT_ROUTER_OPTIONS.retry, ...options.retry };
  if (typeof r.backoff !== 'object' || r.backoff === null || typeof r.backoff.delay !== 'function') {
    throw invalid('retry.backoff', 'expected a Backoff from @llm-edge/retry');
  }
  if (
    r.budget !== undefined &&
    (typeof r.budget.recordRequest !== 'function' || typeof r.budget.tryRetry !== 'function')
  ) {
    throw invalid('retry.budget', 'expected a RetryBudget (recordRequest, tryRetry)');
  }
  const retry: RouterRetryOptions = {
    maxRetries: checkNumber('retry.maxRetries', r.maxRetries, { min: 0, max: 100, integer: true }),
    backoff: r.backoff,
    budget: r.budget,
  };

  const h = { ...DEFAULT_ROUTER_OPTIONS.hedge, ...options.hedge };
  const hedge: HedgeOptions = {
    delayMs:
      h.delayMs === undefined
        ? undefined
        : checkNumber('hedge.delayMs', h.delayMs, { min: 0, max: MAX_DELAY_MS }),
    maxHedges: checkNumber('hedge.maxHedges', h.maxHedges, { min: 1, max: 16, integer: true }),
  };

  const b = { ...DEFAULT_ROUTER_OPTIONS.breaker, ...options.breaker };
  const breaker: BreakerOptions = {
    consecutiveFailures: checkNumber('breaker.consecutiveFailures', b.consecutiveFailures, {
      min: 0,
      max: 1e6,
      integer: true,
    }),
    failureRatio: undefined,
    halfOpenAfterMs: checkNumber('breaker.halfOpenAfterMs', b.halfOpenAfterMs, { min: 0, max: MAX_DELAY_MS }),
    maxHalfOpenAfterMs: checkNumber('breaker.maxHalfOpenAfterMs', b.maxHalfOpenAfterMs, {
      min: 0,
      max: MAX_DELAY_MS,
    }),
    halfOpenCalls: checkNumber('breaker.halfOpenCalls', b.halfOpenCalls, {
      min: 1,
      max: 1000,
      integer: true,
    }),
  };
  if (breaker.maxHalfOpenAfterMs < breaker.halfOpenAfterMs) {
    throw invalid(
      'breaker.maxHalfOpenAfterMs',
      `expected >= breaker.halfOpenAfterMs (${breaker.halfOpenAfterMs})`,
    );
  }
  if (b.failureRatio !== undefined) {
    const f = b.failureRatio;
    if (typeof f !== 'object' || f === null) throw invalid('breaker.failureRatio', 'expected an object');
    const windowSize = checkNumber('breaker.failureRatio.windowSize', f.windowSize, {
      min: 1,
      max: 1e6,
      integer: true,
    });
    breaker.failureRatio = {
      threshold: checkNumber('breaker.failureRatio.threshold', f.threshold, {
        min: 0,
        max: 0.999999,
        exclusiveMin: true,
      }),
      windowSize,
      minimumCalls: checkNumber('breaker.failureRatio.minimumCalls', f.minimumCalls ?? windowSize, {
        min: 1,
        max: windowSize,
        integer: true,
      }),
    };
  }
  if (breaker.consecutiveFailures === 0 && breaker.failureRatio === undefined) {
    throw invalid('breaker.consecutiveFailures', 'expected > 0 when breaker.failureRatio is not set');
  }

  const c = { ...DEFAULT_ROUTER_OPTIONS.cooldown, ...options.cooldown };
  const cooldown: CooldownOptions = {
    defaultMs: checkNumber('cooldown.defaultMs', c.defaultMs, { min: 0, max: MAX_DELAY_MS }),
    maxMs: checkNumber('cooldown.maxMs', c.maxMs, { min: 0, max: MAX_DELAY_MS }),
  };

  const random = options.random ?? Math.random;
  if (typeof random !== 'function') throw invalid('random', 'expected a function returning [0, 1)');
  const clock = options.clock ?? { now: Date.now };
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw invalid('clock', 'expected { now(): number }');
  }
  const allowDirect = options.allowDirect ?? DEFAULT_ROUTER_OPTIONS.allowDirect;
  if (typeof allowDirect !== 'boolean') throw invalid('allowDirect', 'expected a boolean');

  return Object.freeze({
    providers: Object.freeze({ ...providers }),
    targets: Object.freeze(targets),
    aliases: Object.freeze(aliases),
    defaultStrategy: checkStrategy(
      'defaultStrategy',
      options.defaultStrategy ?? DEFAULT_ROUTER_OPTIONS.defaultStrategy,
    ),
    allowDirect,
    maxDirectTargets: checkNumber(
      'maxDirectTargets',
      options.maxDirectTargets ?? DEFAULT_ROUTER_OPTIONS.maxDirectTargets,
      {
        min: 0,
        max: 1e6,
        integer: true,
      },
    ),
    retry: Object.freeze(retry),
    hedge: Object.freeze(hedge),
    breaker: Object.freeze(breaker),
    cooldown: Object.freeze(cooldown),
    latencyAlpha: checkNumber('latencyAlpha', options.latencyAlpha ?? DEFAULT_ROUTER_OPTIONS.latencyAlpha, {
      min: 0,
      max: 1,
      exclusiveMin: true,
    }),
    random,
    clock,
  });
}
