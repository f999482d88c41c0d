import { InvalidMonitoringOptionError } from './errors';
import type { GatewayMetrics } from './metrics';
import type { TokenUsage } from './usage';

/** Cost of one response in USD, split by token kind. */
export interface CostBreakdown {
  inputUsd: number;
  cachedInputUsd: number;
  outputUsd: number;
  totalUsd: number;
}

/**
 * Prices a response. Injected because prices belong to the provider catalogue, not to
 * monitoring; return `undefined` for a model without a known price.
 */
export type PriceFunction = (model: string, usage: TokenUsage) => CostBreakdown | undefined;

/** Options of {@link createUsageAccumulator}. */
export interface UsageAccumulatorOptions {
  /**
   * Price function; without one, tokens are counted and costs stay at zero.
   * @default undefined
   */
  price?: PriceFunction;
  /**
   * Metrics to feed: every record adds to `tokens_total` and `cost_usd_total`.
   * @default undefined
   */
  metrics?: GatewayMetrics;
  /**
   * Most distinct keys and models tracked each; further ones are added to `_other`, so the
   * accumulator's memory stays bounded whatever clients send.
   * @default 10000
   */
  maxEntries?: number;
}

/** Defaults of {@link UsageAccumulatorOptions}. */
export const DEFAULT_USAGE_ACCUMULATOR_OPTIONS = Object.freeze({ maxEntries: 10_000 });

/** One usage event to record. */
export interface UsageRecord {
  /** Gateway key name (never the key). */
  key?: string;
  /** Provider instance that served it. */
  provider?: string;
  /** Model that is priced (the upstream model). */
  model: string;
  usage: TokenUsage;
}

/** Running totals for a key, a model, or everything. */
export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number;
  /** Records whose model had no price (their cost is not in `costUsd`). */
  unpricedRequests: number;
  /** Records whose price function threw (their cost is not in `costUsd`). */
  pricingFailures: number;
}

/** What {@link UsageAccumulator.record} returns for one record. */
export interface UsageCharge {
  usage: TokenUsage;
  /** `undefined` when the model has no price or pricing failed. */
  cost?: CostBreakdown;
}

/** Token and cost totals per key and per model. */
export interface UsageAccumulator {
  /** Adds one response's usage; prices it; never throws. */
  record(record: UsageRecord): UsageCharge;
  /** Totals over everything recorded. */
  totals(): UsageTotals;
  /** Totals of one key, if any was recorded. */
  forKey(key: string): UsageTotals | undefined;
  /** Totals of one model, if any was recorded. */
  forModel(model: string): UsageTotals | undefined;
  /** Totals per key (a copy). */
  byKey(): Map<string, UsageTotals>;
  /** Totals per model (a copy). */
  byModel(): Map<string, UsageTotals>;
  /** Forgets everything. */
  reset(): void;
}

const OTHER = '_other';

function emptyTotals(): UsageTotals {
  return {
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    costUsd: 0,
    unpricedRequests: 0,
    pricingFailures: 0,
  };
}

function validCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

function validCost(cost: unknown): CostBreakdown | undefined {
  if (typeof cost !== 'object' || cost === null) return undefined;
  const c = cost as Record<string, unknown>;
  const fields = ['inputUsd', 'cachedInputUsd', 'outputUsd', 'totalUsd'] as const;
  for (const field of fields) {
    const value = c[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  }
  return {
    inputUsd: c['inputUsd'] as number,
    cachedInputUsd: c['cachedInputUsd'] as number,
    outputUsd: c['outputUsd'] as number,
    totalUsd: c['totalUsd'] as number,
  };
}

/**
 * Creates a token and cost accumulator keyed by gateway key and by model.
 *
 * @example
 * import { priceUsage } from '@llm-edge/providers';
 * const usage = createUsageAccumulator({ price: (model, u) => priceUsage(model, toOpenAIUsage(u)), metrics });
 * usage.record({ key: 'team-a', provider: 'openai', model: 'gpt-4o-mini', usage: { inputTokens: 9, outputTokens: 2 } });
 * usage.forKey('team-a'); // { requests: 1, inputTokens: 9, outputTokens: 2, costUsd: …, … }
 */
export function createUsageAccumulator(options: UsageAccumulatorOptions = {}): UsageAccumulator {
  if (options.price !== undefined && typeof options.price !== 'function') {
    throw new InvalidMonitoringOptionError(
      'price',
      'expected a function (model, usage) => CostBreakdown | undefined',
    );
  }
  const maxEntries = options.maxEntries ?? DEFAULT_USAGE_ACCUMULATOR_OPTIONS.maxEntries;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new InvalidMonitoringOptionError('maxEntries', 'expected a positive integer');
  }
  const { price, metrics } = options;
  let total = emptyTotals();
  const keys = new Map<string, UsageTotals>();
  const models = new Map<string, UsageTotals>();

  function slot(map: Map<string, UsageTotals>, name: string): UsageTotals {
    let entry = map.get(name);
    if (entry !== undefined) return entry;
    const bucket = map.size >= maxEntries ? OTHER : name;
    entry = map.get(bucket);
    if (entry === undefined) {
      entry = emptyTotals();
      map.set(bucket, entry);
    }
    return entry;
  }

  function add(
    into: UsageTotals,
    usage: TokenUsage,
    cost: CostBreakdown | undefined,
    outcome: 'priced' | 'unpriced' | 'failed',
  ) {
    into.requests += 1;
    into.inputTokens += usage.inputTokens;
    into.outputTokens += usage.outputTokens;
    into.cachedInputTokens += usage.cachedInputTokens ?? 0;
    if (cost !== undefined) into.costUsd += cost.totalUsd;
    if (outcome === 'unpriced') into.unpricedRequests += 1;
    if (outcome === 'failed') into.pricingFailures += 1;
  }

  return {
    record(record) {
      const usage: TokenUsage = {
        inputTokens: validCount(record.usage?.inputTokens),
        outputTokens: validCount(record.usage?.outputTokens),
      };
      const cached = validCount(record.usage?.cachedInputTokens);
      if (cached > 0) usage.cachedInputTokens = cached;
      const cacheWrite = validCount(record.usage?.cacheWriteInputTokens);
      if (cacheWrite > 0) usage.cacheWriteInputTokens = cacheWrite;
      const reasoning = validCount(record.usage?.reasoningTokens);
      if (reasoning > 0) usage.reasoningTokens = reasoning;

      let cost: CostBreakdown | undefined;
      let outcome: 'priced' | 'unpriced' | 'failed' = 'unpriced';
      if (price !== undefined) {
        try {
          const raw = price(record.model, usage);
          cost = raw === undefined ? undefined : validCost(raw);
          if (raw !== undefined && cost === undefined)
            throw new TypeError('price function returned an invalid cost');
          outcome = cost === undefined ? 'unpriced' : 'priced';
        } catch {
          cost = undefined;
          outcome = 'failed';
          metrics?.recordTelemetryFailure('pricing');
        }
      }

      add(total, usage, cost, outcome);
      add(slot(models, record.model), usage, cost, outcome);
      if (record.key !== undefined) add(slot(keys, record.key), usage, cost, outcome);

      if (metrics !== undefined) {
        metrics.recordTokens({
          provider: record.provider,
          model: record.model,
          inputTokens: usage.inputTokens,
          outputTokens: usage.outputTokens,
          cachedInputTokens: usage.cachedInputTokens,
        });
        if (cost !== undefined) {
          metrics.recordCost({
            provider: record.provider,
            model: record.model,
            key: record.key,
            usd: cost.totalUsd,
          });
        }
      }
      return cost === undefined ? { usage } : { usage, cost };
    },
    totals: () => ({ ...total }),
    forKey(key) {
      const entry = keys.get(key);
      return entry === undefined ? undefined : { ...entry };
    },
    forModel(model) {
      const entry = models.get(model);
      return entry === undefined ? undefined : { ...entry };
    },
    byKey: () => new Map([...keys].map(([name, entry]) => [name, { ...entry }])),
    byModel: () => new Map([...models].map(([name, entry]) => [name, { ...entry }])),
    reset() {
      total = emptyTotals();
      keys.clear();
      models.clear();
    },
  };
}
