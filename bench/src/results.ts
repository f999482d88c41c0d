// Reading bench/results/*.json back for the report and the plot.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Comparison, type LatencySummary, median } from './stats.ts';

/** What every results file starts with. */
export interface Meta {
  section: string;
  /** Commit measured (`+dirty`: packages differed from it); absent in older files. */
  revision?: string;
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  loadavg: number[];
  command: string;
  durationS: number;
  runs: number;
  /** Seconds of load a new gateway process got before its first measured run; absent in older files. */
  processWarmupS?: number;
}

/** One side of a paired run. */
export interface Side {
  requests: number;
  non2xx: number;
  errors: number;
  durationS: number;
  rps: number;
  latency: LatencySummary;
  peakRssBytes?: number;
  cpuUsPerRequest?: number;
  upstreamCpuUsPerRequest?: number;
  reportedOverheadMs?: { p50: number; p99: number };
}

/** A direct run and the gateway run measured next to it. */
export interface PairRun {
  run: number;
  direct: Side;
  gateway: Side;
  comparison: Comparison;
}

/** Paired runs at one concurrency. */
export interface PairGroup {
  connections: number;
  upstream?: string;
  runs: PairRun[];
}

/** Every results file found, by section name. */
export type Results = Record<string, { meta: Meta; data: unknown } | undefined>;

/** Reads every `*.json` of the results directory. */
export function loadResults(dir: string): Results {
  const out: Results = {};
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.json')) continue;
    const parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { meta: Meta; data: unknown };
    out[file.slice(0, -5)] = parsed;
  }
  return out;
}

/** The paired groups of a section, whatever the section's wrapper shape. */
export function groupsOf(results: Results, section: string): PairGroup[] {
  const data = results[section]?.data as unknown;
  if (data === undefined) return [];
  if (Array.isArray(data)) return data as PairGroup[];
  const wrapped = data as { results?: PairGroup[]; runs?: PairRun[]; rate?: number };
  if (wrapped.results) return wrapped.results;
  if (wrapped.runs) return [{ connections: wrapped.rate ?? 0, runs: wrapped.runs }];
  return [];
}

/** Median over runs of a figure of the paired runs. */
export function medianOf(runs: readonly PairRun[], pick: (run: PairRun) => number | undefined): number {
  return median(runs.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v)));
}

/** Median added p50/p99 and ratio per concurrency: a non-stream upstream, the multi-process runs or the floor proxy. */
export function addedByConcurrency(
  results: Results,
  which: 'simulator' | 'bare node:http' | 'cluster' | 'floor',
): { connections: number; addedP50: number; addedP99: number; ratio: number }[] {
  const groups =
    which === 'cluster' || which === 'floor'
      ? groupsOf(results, which)
      : groupsOf(results, 'nonstream').filter((g) => g.upstream === which);
  return groups.map((g) => ({
    connections: g.connections,
    addedP50: medianOf(g.runs, (r) => r.comparison.addedP50),
    addedP99: medianOf(g.runs, (r) => r.comparison.addedP99),
    ratio: medianOf(g.runs, (r) => r.comparison.rpsRatio),
  }));
}
