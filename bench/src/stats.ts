// Pure helpers of the suite: latency summaries, direct-vs-gateway comparisons and the
// aggregation of a V8 CPU profile. No I/O here, so they are unit-tested.

/** Percentiles and mean of a latency sample, in milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (`p` in 0..100); NaN for an empty array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Summarises a sample of latencies (any order; the input is not modified). */
export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

/** One side of a comparison: throughput and latency of a run. */
export interface RunFigures {
  rps: number;
  latency: LatencySummary;
}

/** Gateway relative to direct: throughput ratio and added latency per percentile (ms). */
export interface Comparison {
  rpsRatio: number;
  addedP50: number;
  addedP90: number;
  addedP99: number;
}

/** Compares a gateway run with the direct run measured next to it. */
export function compare(direct: RunFigures, gateway: RunFigures): Comparison {
  return {
    rpsRatio: direct.rps > 0 ? gateway.rps / direct.rps : Number.NaN,
    addedP50: gateway.latency.p50 - direct.latency.p50,
    addedP90: gateway.latency.p90 - direct.latency.p90,
    addedP99: gateway.latency.p99 - direct.latency.p99,
  };
}

/** The median of a few repeated figures (the value reported when runs are combined). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Whether a measured value meets a target, and by how much it misses. */
export interface TargetCheck {
  met: boolean;
  /** How far from the bound, in the figure's unit (positive = missed by that much). */
  gap: number;
}

/** Checks `value <= bound` (kind 'max') or `value >= bound` (kind 'min'). */
export function checkTarget(value: number, bound: number, kind: 'max' | 'min'): TargetCheck {
  const gap = kind === 'max' ? value - bound : bound - value;
  return { met: Number.isFinite(value) && gap <= 0, gap: Math.max(0, gap) };
}

/** A node of a V8 `.cpuprofile`. */
export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  hitCount?: number;
  children?: number[];
}

/** A V8 `.cpuprofile` document (the fields the suite reads). */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * The profile's nodes with `hitCount` recounted from the samples taken at least `fromMs` after
 * the profile started, so start-up and warm-up do not blur the steady state.
 */
export function nodesAfter(profile: CpuProfile, fromMs: number): CpuProfileNode[] {
  const { samples, timeDeltas } = profile;
  if (samples === undefined || timeDeltas === undefined) return profile.nodes;
  const hits = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] ?? 0;
    if (t / 1000 < fromMs) continue;
    hits.set(samples[i]!, (hits.get(samples[i]!) ?? 0) + 1);
  }
  return profile.nodes.map((node) => ({ ...node, hitCount: hits.get(node.id) ?? 0 }));
}

/** One aggregated frame of a CPU profile. */
export interface ProfileFrame {
  name: string;
  location: string;
  selfPercent: number;
}

/** Which part of the stack a script belongs to, for the per-component breakdown. */
export function componentOf(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return 'node core';
  const ws = /\/packages\/([^/]+)\/dist\//.exec(url);
  if (ws) return `@llm-edge/${ws[1]!.replace(/^(edge|infra)-/, '')}`;
  const pkgs = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (pkgs.length > 0) return pkgs[pkgs.length - 1]![1]!;
  return 'other';
}

function shortLocation(url: string, line: number): string {
  if (url === '') return '';
  const trimmed = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/^.*\/(packages\/[^/]+\/)/, '$1');
  return `${trimmed}:${line + 1}`;
}

/**
 * Self time per frame (function + script + line) and per component, as percentages of all
 * samples, highest first. `(idle)` and `(program)` stay in the totals, so the figures add up.
 */
export function aggregateProfile(
  nodes: readonly CpuProfileNode[],
  top = 25,
): { frames: ProfileFrame[]; components: { component: string; selfPercent: number }[]; samples: number } {
  let total = 0;
  const byFrame = new Map<string, { name: string; location: string; hits: number }>();
  const byComponent = new Map<string, number>();
  for (const node of nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName === '' ? '(anonymous)' : functionName;
    const location = shortLocation(url, lineNumber);
    const key = `${name}\u0000${location}`;
    const entry = byFrame.get(key);
    if (entry) entry.hits += hits;
    else byFrame.set(key, { name, location, hits });
    const component = name.startsWith('(') && url === '' ? name : componentOf(url);
    byComponent.set(component, (byComponent.get(component) ?? 0) + hits);
  }
  const pct = (hits: number) => (total === 0 ? 0 : (100 * hits) / total);
  const frames = [...byFrame.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map((f) => ({ name: f.name, location: f.location, selfPercent: pct(f.hits) }));
  const components = [...byComponent.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([component, hits]) => ({ component, selfPercent: pct(hits) }));
  return { frames, components, samples: total };
}
