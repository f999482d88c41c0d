/** The routing strategies an alias can use to order its healthy targets. */
export type StrategyName =
  | 'priority'
  | 'weighted'
  | 'round-robin'
  | 'least-latency'
  | 'least-busy'
  | 'cheapest';

/** Every strategy name, in the order the README documents them. */
export const STRATEGY_NAMES: readonly StrategyName[] = [
  'priority',
  'weighted',
  'round-robin',
  'least-latency',
  'least-busy',
  'cheapest',
];

/** What a strategy knows about one healthy target. */
export interface StrategyCandidate {
  /** Target id. */
  readonly id: string;
  /** Position in the route's target list; the last tie-breaker, so orders are stable. */
  readonly index: number;
  /** Lower runs first. */
  readonly priority: number;
  /** Relative share for weighted routing; 0 means "only as a fallback". */
  readonly weight: number;
  /** Requests currently running against the target. */
  readonly inFlight: number;
  /** Moving average of time to first token, ms; undefined before the first streamed answer. */
  readonly ttftMs?: number | undefined;
  /** Moving average of total latency, ms; undefined before the first answer. */
  readonly latencyMs?: number | undefined;
  /** Price in USD per million tokens (input + output) from the catalogue; undefined when unknown. */
  readonly usdPerMTok?: number | undefined;
}

/** Per-call inputs a strategy may use besides the candidates. */
export interface StrategyInput {
  /** Uniform random source in [0, 1). */
  readonly random: () => number;
  /** A counter that grows by one per request on this route (round-robin turns). */
  readonly turn: number;
  /** Which latency figure least-latency compares: time to first token for streams, total otherwise. */
  readonly latencyMetric: 'ttft' | 'latency';
}

/** One entry of a strategy's ordering: which target, and why it sits there. */
export interface StrategyChoice {
  readonly id: string;
  readonly reason: string;
}

/**
 * A strategy orders the healthy targets: the first is tried first, the rest are the failover order.
 * It is pure: the same candidates and input give the same order.
 */
export type Strategy = (candidates: readonly StrategyCandidate[], input: StrategyInput) => StrategyChoice[];

const byPriority = (a: StrategyCandidate, b: StrategyCandidate): number =>
  a.priority - b.priority || a.index - b.index;

const formatMs = (ms: number): string => `${Math.round(ms)}ms`;

/** Priority fallback: lowest `priority` first, configuration order among equals. */
export const priorityStrategy: Strategy = (candidates) =>
  [...candidates].sort(byPriority).map((c) => ({ id: c.id, reason: `priority ${c.priority}` }));

/**
 * Weighted random: the first target is drawn with probability weight / total weight, the next
 * from those left, and so on. Zero-weight targets follow in priority order as fallbacks only.
 */
export const weightedStrategy: Strategy = (candidates, { random }) => {
  const pool = [...candidates].filter((c) => c.weight > 0).sort(byPriority);
  const fallbacks = [...candidates].filter((c) => c.weight <= 0).sort(byPriority);
  const total = pool.reduce((sum, c) => sum + c.weight, 0);
  const order: StrategyChoice[] = [];
  let remaining = total;
  while (pool.length > 0) {
    let point = random() * remaining;
    let pick = pool.length - 1;
    for (let i = 0; i < pool.length; i++) {
      point -= pool[i]!.weight;
      if (point < 0) {
        pick = i;
        break;
      }
    }
    const [chosen] = pool.splice(pick, 1);
    order.push({ id: chosen!.id, reason: `weighted ${chosen!.weight}/${total}` });
    remaining -= chosen!.weight;
  }
  for (const c of fallbacks) order.push({ id: c.id, reason: 'weighted fallback (weight 0)' });
  return order;
};

/** Round-robin: the configuration order rotated by one per request. */
export const roundRobinStrategy: Strategy = (candidates, { turn }) => {
  const sorted = [...candidates].sort((a, b) => a.index - b.index);
  if (sorted.length === 0) return [];
  const start = ((turn % sorted.length) + sorted.length) % sorted.length;
  return [...sorted.slice(start), ...sorted.slice(0, start)].map((c) => ({
    id: c.id,
    reason: `round-robin turn ${turn}`,
  }));
};

/**
 * Least latency: lowest moving average first. Targets without a sample yet go first so that
 * each gets measured; among those, priority order.
 */
export const leastLatencyStrategy: Strategy = (candidates, { latencyMetric }) => {
  const figure = (c: StrategyCandidate): number | undefined =>
    latencyMetric === 'ttft' ? (c.ttftMs ?? c.latencyMs) : c.latencyMs;
  return [...candidates]
    .sort((a, b) => {
      const fa = figure(a);
      const fb = figure(b);
      if (fa === undefined || fb === undefined) {
        if (fa === fb) return byPriority(a, b);
        return fa === undefined ? -1 : 1;
      }
      return fa - fb || byPriority(a, b);
    })
    .map((c) => {
      const f = figure(c);
      return {
        id: c.id,
        reason:
          f === undefined
            ? `least-latency (no ${latencyMetric} sample yet)`
            : `least-latency (${latencyMetric} avg ${formatMs(f)})`,
      };
    });
};

/** Least busy: fewest requests in flight first, priority order among equals. */
export const leastBusyStrategy: Strategy = (candidates) =>
  [...candidates]
    .sort((a, b) => a.inFlight - b.inFlight || byPriority(a, b))
    .map((c) => ({ id: c.id, reason: `least-busy (${c.inFlight} in flight)` }));

/** Cheapest: lowest catalogue price first; targets with no known price last, in priority order. */
export const cheapestStrategy: Strategy = (candidates) =>
  [...candidates]
    .sort((a, b) => {
      if (a.usdPerMTok === undefined || b.usdPerMTok === undefined) {
        if (a.usdPerMTok === b.usdPerMTok) return byPriority(a, b);
        return a.usdPerMTok === undefined ? 1 : -1;
      }
      return a.usdPerMTok - b.usdPerMTok || byPriority(a, b);
    })
    .map((c) => ({
      id: c.id,
      reason:
        c.usdPerMTok === undefined ? 'cheapest (price unknown)' : `cheapest ($${c.usdPerMTok}/M tokens)`,
    }));

/** The strategy function for each name. */
export const STRATEGIES: Readonly<Record<StrategyName, Strategy>> = Object.freeze({
  priority: priorityStrategy,
  weighted: weightedStrategy,
  'round-robin': roundRobinStrategy,
  'least-latency': leastLatencyStrategy,
  'least-busy': leastBusyStrategy,
  cheapest: cheapestStrategy,
});
