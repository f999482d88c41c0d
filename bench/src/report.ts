// Writes bench/RESULTS.md from bench/results/*.json (and bench/analysis.md, the hand-written
// reading of the figures), then prints the targets table.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixed, gapText, markdownTable, mb, ratio, rps, signed } from './format.ts';
import { addedByConcurrency, groupsOf, loadResults, type PairGroup, type Results } from './results.ts';
import { checkTarget, median, type ProfileFrame } from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const results: Results = loadResults(join(root, 'results'));

const ms = (v: number | undefined) => fixed(v, 3);
const lat = (l: { p50: number; p90: number; p99: number }) => `${ms(l.p50)} / ${ms(l.p90)} / ${ms(l.p99)}`;

function pairTable(groups: PairGroup[], label: (g: PairGroup) => string, via = 'gateway'): string {
  const rows: string[][] = [];
  for (const g of groups) {
    for (const r of g.runs) {
      const d = r.direct;
      const gw = r.gateway;
      rows.push([
        label(g),
        String(r.run),
        rps(d.rps),
        rps(gw.rps),
        ratio(r.comparison.rpsRatio),
        lat(d.latency),
        lat(gw.latency),
        `${signed(r.comparison.addedP50, 3)} / ${signed(r.comparison.addedP90, 3)} / ${signed(r.comparison.addedP99, 3)}`,
        fixed(gw.cpuUsPerRequest, 0),
        fixed(d.upstreamCpuUsPerRequest, 0),
        mb(gw.peakRssBytes),
        gw.reportedOverheadMs
          ? `≤${fixed(gw.reportedOverheadMs.p50, 2)} / ≤${fixed(gw.reportedOverheadMs.p99, 2)}`
          : '—',
        String(d.non2xx + d.errors + gw.non2xx + gw.errors),
      ]);
    }
  }
  return markdownTable(
    [
      'load',
      'run',
      'direct rps',
      `${via} rps`,
      'ratio',
      'direct p50 / p90 / p99 ms',
      `${via} p50 / p90 / p99 ms`,
      'added p50 / p90 / p99 ms',
      `${via} CPU µs/req`,
      'upstream CPU µs/req',
      `${via} peak RSS MB`,
      'gateway-reported overhead p50 / p99 ms',
      'errors',
    ],
    rows,
  );
}

function metaLine(section: string): string {
  const m = results[section]?.meta;
  if (m === undefined) return '';
  const revision = m.revision ? `, revision ${m.revision}` : '';
  return `_Measured ${m.date.replace('T', ' ').slice(0, 16)} UTC${revision}, load average at the end of the section ${m.loadavg.join(' / ')}; command: \`${m.command}\`._`;
}

function section(title: string, key: string, body: string): string {
  if (results[key] === undefined) return `## ${title}\n\nNot measured in this run (section \`${key}\`).\n`;
  return `## ${title}\n\n${metaLine(key)}\n\n${body}\n`;
}

// ---- targets --------------------------------------------------------------------------------

interface TargetRow {
  target: string;
  measured: string;
  value: number;
  bound: number;
  kind: 'max' | 'min';
  unit: string;
}

const targets: TargetRow[] = [];
const nonstream = groupsOf(results, 'nonstream');
const sim = (c: number) => nonstream.find((g) => g.upstream === 'simulator' && g.connections === c);
const bare = (c: number) => nonstream.find((g) => g.upstream === 'bare node:http' && g.connections === c);
const runsText = (values: number[], digits: number, suffix = '') =>
  `${values.map((v) => fixed(v, digits)).join(', ')}${suffix}`;

const sim64 = sim(64);
if (sim64) {
  const values = sim64.runs.map((r) => r.comparison.rpsRatio);
  targets.push({
    target: 'non-stream c=64: gateway rps ≥ 0.40 × direct (simulator upstream)',
    measured: `${runsText(values, 2, '×')} (runs)`,
    value: median(values),
    bound: 0.4,
    kind: 'min',
    unit: '×',
  });
  const b64 = bare(64);
  if (b64) {
    const bv = b64.runs.map((r) => r.comparison.rpsRatio);
    targets.push({
      target: 'non-stream c=64: gateway rps ≥ 0.40 × direct (bare node:http upstream)',
      measured: `${runsText(bv, 2, '×')} (runs)`,
      value: median(bv),
      bound: 0.4,
      kind: 'min',
      unit: '×',
    });
  }
  const peaks = sim64.runs.map((r) => (r.gateway.peakRssBytes ?? Number.NaN) / 1e6);
  targets.push({
    target: 'peak RSS ≤ 100 MB under the c=64 load',
    measured: `${runsText(peaks, 1, ' MB')} (runs)`,
    value: Math.max(...peaks),
    bound: 100,
    kind: 'max',
    unit: 'MB',
  });
}
const sim1 = sim(1);
if (sim1) {
  const p50 = sim1.runs.map((r) => r.comparison.addedP50);
  const p99 = sim1.runs.map((r) => r.comparison.addedP99);
  targets.push({
    target: 'c=1: added p50 ≤ 0.2 ms',
    measured: `${runsText(p50, 3, ' ms')} (runs)`,
    value: median(p50),
    bound: 0.2,
    kind: 'max',
    unit: 'ms',
  });
  targets.push({
    target: 'c=1: added p99 ≤ 1 ms',
    measured: `${runsText(p99, 3, ' ms')} (runs)`,
    value: median(p99),
    bound: 1,
    kind: 'max',
    unit: 'ms',
  });
}
const open = groupsOf(results, 'open')[0];
if (open) {
  const p99 = open.runs.map((r) => r.comparison.addedP99);
  targets.push({
    target: `fixed ${open.connections} req/s: added p99 ≤ 1 ms`,
    measured: `${runsText(p99, 3, ' ms')} (runs)`,
    value: median(p99),
    bound: 1,
    kind: 'max',
    unit: 'ms',
  });
}
interface StreamRun {
  run: number;
  direct: StreamSide;
  gateway: StreamSide & { peakRssBytes?: number };
  addedTtft: { p50: number; p90: number; p99: number };
  addedTtfb: { p50: number; p90: number; p99: number };
}
interface StreamSide {
  streams: number;
  errors: number;
  eventsPerStream: number;
  arrivalsPerStream: number;
  pacedArrivalsPerStream: number;
  ttfb: { p50: number; p90: number; p99: number };
  ttft: { p50: number; p90: number; p99: number };
  gap: { p50: number; p90: number; p99: number };
  streamDuration: { p50: number; p90: number; p99: number };
}
const stream = results['stream']?.data as
  | { gapMs: number; tokens: number; concurrency: number; durationS: number; runs: StreamRun[] }
  | undefined;
if (stream) {
  const p99 = stream.runs.map((r) => r.addedTtft.p99);
  targets.push({
    target: 'stream: added time to the first token p99 ≤ 1 ms',
    measured: `${runsText(p99, 3, ' ms')} (runs)`,
    value: median(p99),
    bound: 1,
    kind: 'max',
    unit: 'ms',
  });
  const b99 = stream.runs.map((r) => r.addedTtfb.p99);
  targets.push({
    target:
      'stream: added time to the first byte p99 ≤ 1 ms (a role-only chunk is held until the first token; see the streaming section)',
    measured: `${runsText(b99, 3, ' ms')} (runs)`,
    value: median(b99),
    bound: 1,
    kind: 'max',
    unit: 'ms',
  });
  const gaps = stream.runs.map((r) => r.gateway.gap.p50 - r.direct.gap.p50);
  const paced = stream.runs.map((r) => r.direct.pacedArrivalsPerStream - r.gateway.pacedArrivalsPerStream);
  targets.push({
    target: `stream: unbuffered — chunks reach the client at the upstream's ${stream.gapMs} ms pace (median gap within 1 ms of direct, no fewer paced arrivals per stream)`,
    measured: `gap p50 ${stream.runs.map((r) => `${fixed(r.direct.gap.p50, 1)}→${fixed(r.gateway.gap.p50, 1)}`).join(', ')} ms; paced arrivals/stream ${stream.runs.map((r) => `${fixed(r.direct.pacedArrivalsPerStream, 1)}→${fixed(r.gateway.pacedArrivalsPerStream, 1)}`).join(', ')}`,
    value: Math.max(Math.abs(median(gaps)), median(paced)),
    bound: 1,
    kind: 'max',
    unit: 'ms / arrivals',
  });
}
const cache = groupsOf(results, 'cache');
const cache64 = cache.find((g) => g.connections === 64);
if (cache64) {
  const v = cache64.runs.map((r) => r.comparison.rpsRatio);
  targets.push({
    target: 'cache hit (c=64): ≥ 0.8 × bare node:http rps',
    measured: `${runsText(v, 2, '×')} (runs)`,
    value: median(v),
    bound: 0.8,
    kind: 'min',
    unit: '×',
  });
}
interface StreamsData {
  streams: number;
  open: number;
  failed: number;
  failures?: Record<string, number>;
  openedInMs: number;
  idleRssBytes: number;
  openRssBytes: number;
  peakRssBytes: number;
  afterRssBytes: number;
}
const streams = results['streams']?.data as StreamsData | undefined;
if (streams) {
  targets.push({
    target: `RSS ≤ 200 MB with ${streams.streams} open streams`,
    measured: `${mb(streams.peakRssBytes)} MB peak (${streams.open} open, ${streams.failed} failed${streams.failures && streams.failed > 0 ? `: ${JSON.stringify(streams.failures)}` : ''})`,
    value: streams.peakRssBytes / 1e6,
    bound: 200,
    kind: 'max',
    unit: 'MB',
  });
}
interface SoakData {
  requests: number;
  warmupRequests: number;
  connections: number;
  served: number;
  non2xx: number;
  errors: number;
  rps: number;
  durationS: number;
  beforeRssBytes: number;
  afterRssBytes: number;
  settledRssBytes: number;
  peakRssBytes: number;
  series: { t: number; rssMB: number }[];
  /** Major GCs during the run (absent in results from before the soak traced them). */
  majorGcs?: { t: number; beforeMB: number; afterMB: number; committedMB: number }[];
}
const soak = results['soak']?.data as SoakData | undefined;

/** The heap left after the major GCs of each tenth of the soak: what is live, apart from what RSS keeps. */
function liveHeapByTenth(
  data: SoakData,
): { tenth: number; from: number; to: number; count: number; min: number; median: number; max: number }[] {
  const gcs = data.majorGcs ?? [];
  if (gcs.length === 0) return [];
  const span = data.durationS / 10;
  const out = [];
  for (let i = 0; i < 10; i++) {
    const from = i * span;
    const to = (i + 1) * span;
    const after = gcs.filter((gc) => gc.t >= from && (gc.t < to || i === 9)).map((gc) => gc.afterMB);
    if (after.length === 0) continue;
    out.push({
      tenth: i,
      from,
      to,
      count: after.length,
      min: Math.min(...after),
      median: median(after),
      max: Math.max(...after),
    });
  }
  return out;
}
const liveHeap = soak ? liveHeapByTenth(soak) : [];
// The tenth that ends halfway and the last one, as RSS is compared halfway → end.
const halfwayHeap = liveHeap.find((w) => w.tenth === 4);
const endHeap = liveHeap.length >= 2 ? liveHeap.at(-1) : undefined;
let soakTrend: { first: number; last: number; half: number; end: number } | undefined;
if (soak) {
  const q = Math.max(1, Math.floor(soak.series.length / 4));
  const at = (fraction: number) =>
    soak.series[Math.min(soak.series.length - 1, Math.round(fraction * (soak.series.length - 1)))]!.rssMB;
  soakTrend = {
    first: median(soak.series.slice(0, q).map((s) => s.rssMB)),
    last: median(soak.series.slice(-q).map((s) => s.rssMB)),
    half: at(0.5),
    end: at(1),
  };
  const growth = ((soakTrend.end - soakTrend.half) / soakTrend.half) * 100;
  targets.push({
    target: `no RSS growth over ${soak.requests.toLocaleString('en-US')} requests (RSS at the end vs halfway ≤ +2 %, i.e. no trend once V8 has sized its heap)`,
    measured:
      `halfway ${fixed(soakTrend.half, 1)} → end ${fixed(soakTrend.end, 1)} MB (${signed(growth, 1)} %); whole run: before ${mb(soak.beforeRssBytes)}, after ${mb(soak.afterRssBytes)}, 5 s later ${mb(soak.settledRssBytes)} MB` +
      (halfwayHeap !== undefined && endHeap !== undefined
        ? `; heap left after each major GC (what is live), median: halfway ${fixed(halfwayHeap.median, 1)} → last tenth ${fixed(endHeap.median, 1)} MB`
        : ''),
    value: growth,
    bound: 2,
    kind: 'max',
    unit: '%',
  });
}

const targetRows = targets.map((t) => {
  const check = checkTarget(t.value, t.bound, t.kind);
  return [t.target, t.measured, check.met ? 'met' : `missed by ${gapText(check.gap, t.unit)}`];
});

// ---- document -------------------------------------------------------------------------------

const first = Object.values(results).find((r) => r !== undefined)?.meta;
const parts: string[] = [];
parts.push('# Gateway benchmark results');
parts.push('');
parts.push(
  'Generated by `pnpm --filter @llm-edge/bench report` from `bench/results/*.json`; the analysis at the end is ' +
    'written by hand (`bench/analysis.md`). How to run: see [README.md](README.md).',
);
parts.push('');
if (first) {
  parts.push(
    `- Machine: ${first.cpus} CPUs (${first.cpuModel}), Node ${first.node}; gateway, upstream and load generator share it, each in its own process.`,
  );
  const dates = Object.values(results)
    .filter((r) => r !== undefined)
    .map((r) => r.meta.date)
    .sort();
  parts.push(
    `- Measured between ${dates[0]?.slice(0, 16).replace('T', ' ')} and ${dates[dates.length - 1]?.slice(0, 16).replace('T', ' ')} UTC.`,
  );
  const commands = [
    ...new Set(
      Object.values(results)
        .filter((r) => r !== undefined)
        .map((r) => r.meta.command),
    ),
  ];
  parts.push(`- Commands (from the repository root): ${commands.map((c) => `\`${c}\``).join('; ')}.`);
  parts.push(
    `- Each closed-loop run: ${first.durationS} s measured after a 1 s warm-up, ${first.runs} runs per configuration, direct and gateway alternating (direct first in odd runs)${first.processWarmupS ? `; a newly started gateway first gets ${first.processWarmupS} s of the same requests at 16 connections (the streaming gateway: streams through a second target on the zero-latency simulator, since the paced upstream serves too few), so that run 1 measures compiled code, not the JIT at work` : ''}.`,
  );
}
parts.push('');
parts.push('## Targets');
parts.push('');
parts.push(markdownTable(['target', 'measured', 'verdict'], targetRows));
parts.push('');
parts.push(
  '"Added" = gateway figure minus the direct figure of the same run. Ratios and added latencies are medians of the runs; every run is in the tables below. ' +
    '"gateway-reported overhead" is the gateway\'s own `llm_edge_overhead_seconds` histogram (time not spent waiting on the upstream) between the two scrapes around the run, as bucket bounds.',
);
const floorRows = addedByConcurrency(results, 'floor');
const floor64 = floorRows.find((r) => r.connections === 64);
const floor1 = floorRows.find((r) => r.connections === 1);
if (floor64 && floor1) {
  parts.push('');
  parts.push(
    `For scale, a Node proxy with no features at all (the floor section) reaches ${ratio(floor64.ratio)} of direct at c=64 and adds ${signed(floor1.addedP50, 3)} ms p50 / ${signed(floor1.addedP99, 3)} ms p99 at c=1 on the same machine.`,
  );
}
parts.push('');
const byUpstream = (name: string) => nonstream.filter((g) => g.upstream === name);
parts.push(
  section(
    'Non-stream chat, single gateway process',
    'nonstream',
    'Upstream: `@llm-edge/simulator` with `timeScale: 0` (32-token replies), and a bare `node:http` server answering the same bytes (the fastest fixed-response server). Gateway: cache off, auth off, PII off, metrics on, info-level request log lines (to /dev/null).\n\n' +
      `### Simulator upstream\n\n${pairTable(byUpstream('simulator'), (g) => `c=${g.connections}`)}\n\n### Bare node:http upstream\n\n${pairTable(byUpstream('bare node:http'), (g) => `c=${g.connections}`)}`,
  ),
);
parts.push(
  section(
    'Floor: a Node proxy with no features, same load',
    'floor',
    'The lower bound for any JSON proxy in Node on this machine: `node:http` in, an undici `Pool` out, the request and the answer each parsed and serialised once, nothing else (`src/upstream.ts`, kind `floor`). Same simulator upstream, same load, measured side by side with direct like the gateway. What the gateway costs above these figures is the price of its features (validation, routing with retries and breakers, metrics, logs, accounting).\n\n' +
      pairTable(groupsOf(results, 'floor'), (g) => `c=${g.connections}`, 'floor proxy'),
  ),
);
parts.push(
  section(
    'Fixed rate (open loop)',
    'open',
    'Own open-loop generator (`src/load.ts`, mode `open`): request i is due at start + i/rate on a pool of 64 keep-alive connections, and its latency counts from that intended time, so a stall delays every request behind it and shows in the percentiles (no coordinated omission).\n\n' +
      pairTable(groupsOf(results, 'open'), (g) => `${g.connections}/s`),
  ),
);
if (stream) {
  const rows = stream.runs.flatMap((r) =>
    (['direct', 'gateway'] as const).map((side) => {
      const s = r[side];
      const gw = side === 'gateway';
      return [
        String(r.run),
        side,
        String(s.streams),
        lat(s.ttft),
        gw
          ? `${signed(r.addedTtft.p50, 3)} / ${signed(r.addedTtft.p90, 3)} / ${signed(r.addedTtft.p99, 3)}`
          : '—',
        lat(s.ttfb),
        gw
          ? `${signed(r.addedTtfb.p50, 3)} / ${signed(r.addedTtfb.p90, 3)} / ${signed(r.addedTtfb.p99, 3)}`
          : '—',
        fixed(s.eventsPerStream, 1),
        fixed(s.pacedArrivalsPerStream, 1),
        `${fixed(s.gap.p50, 2)} / ${fixed(s.gap.p90, 2)} / ${fixed(s.gap.p99, 2)}`,
        `${fixed(s.streamDuration.p50, 1)} / ${fixed(s.streamDuration.p99, 1)}`,
        gw ? mb(r.gateway.peakRssBytes) : '—',
        String(s.errors),
      ];
    }),
  );
  parts.push(
    section(
      'Streaming chat',
      'stream',
      `Upstream: the simulator streaming ${stream.tokens} content chunks ${stream.gapMs} ms apart after a role-only first chunk sent at once, ${stream.concurrency} concurrent streams in a closed loop for ${stream.durationS} s, direct and gateway alternating. ` +
        'First token = arrival of the first chunk carrying answer text; first byte = arrival of the first body byte. "Paced arrivals" = socket reads, from the first token on, at least half the upstream gap after the previous one; "gap" = time between consecutive reads from the first token on; "duration" = first token to last event. ' +
        'A buffering gateway would show fewer paced arrivals and larger gaps than direct.\n\n' +
        'The gateway holds chunks that carry no token (the role-only first chunk) until the first token: routing commits to a target only on its first token, so that a target failing before it can still be replaced without the client seeing anything (`@llm-edge/routing`, committed stream). ' +
        `With this upstream that puts the first byte one chunk gap (${stream.gapMs} ms) later than direct, while the first token arrives as early as direct.\n\n` +
        markdownTable(
          [
            'run',
            'path',
            'streams',
            'first token p50 / p90 / p99 ms',
            'added first token p50 / p90 / p99 ms',
            'first byte p50 / p90 / p99 ms',
            'added first byte p50 / p90 / p99 ms',
            'events/stream',
            `paced arrivals/stream (gap ≥ ${stream.gapMs / 2} ms)`,
            'gap p50 / p90 / p99 ms',
            'duration p50 / p99 ms',
            'gateway peak RSS MB',
            'errors',
          ],
          rows,
        ),
    ),
  );
} else parts.push(section('Streaming chat', 'stream', ''));
const cacheData = results['cache']?.data as { responseBytes: number } | undefined;
parts.push(
  section(
    'Cache hit vs a bare node:http server',
    'cache',
    `Gateway with the L1 cache on; every request is the same, so all but the first are HITs. "Direct" here is a bare node:http server answering the same ${cacheData?.responseBytes ?? '?'} bytes the gateway serves from its cache.\n\n` +
      pairTable(cache, (g) => `c=${g.connections}`),
  ),
);
parts.push(
  section(
    'Anthropic format in, OpenAI format upstream',
    'anthropic',
    'Client: `POST /v1/messages` (Anthropic Messages); the gateway translates to OpenAI Chat Completions for the simulator and the answer back. Direct: the same prompt as an OpenAI request to the simulator.\n\n' +
      pairTable(groupsOf(results, 'anthropic'), (g) => `c=${g.connections}`),
  ),
);
parts.push(
  section(
    'Auth + rate limit + PII redaction',
    'security',
    'Gateway key required (hash lookup, constant-time compare), per-key requests/tokens-per-minute limits (in process), PII redaction on a prompt carrying an email, a phone number and a card number.\n\n' +
      pairTable(groupsOf(results, 'security'), (g) => `c=${g.connections}`),
  ),
);
parts.push(
  section(
    'Redis L2 on',
    'redis',
    'Cache on with Redis as L2 and a per-IP limit kept in Redis; every request distinct (autocannon id replacement), so each misses L1 and L2, goes upstream and is written to both. Keys under a unique prefix, deleted afterwards.\n\n' +
      pairTable(groupsOf(results, 'redis'), (g) => `c=${g.connections}`),
  ),
);
const clusterData = results['cluster']?.data as { workers: number } | undefined;
parts.push(
  section(
    'Multi-process gateway',
    'cluster',
    `${clusterData?.workers ?? '?'} gateway worker processes (node:cluster, one per core) behind one port, shared state in Redis (rate limits, L2); same pass-through config and upstream as the single-process simulator figures. RSS is the sum over the primary and the workers.\n\n` +
      pairTable(groupsOf(results, 'cluster'), (g) => `c=${g.connections}`),
  ),
);
parts.push(
  section(
    'Memory: open streams',
    'streams',
    streams
      ? markdownTable(
          [
            'streams asked',
            'open',
            'failed',
            'opened in ms',
            'RSS idle MB',
            'RSS with streams open MB',
            'peak MB',
            'after close MB',
          ],
          [
            [
              String(streams.streams),
              String(streams.open),
              String(streams.failed),
              fixed(streams.openedInMs, 0),
              mb(streams.idleRssBytes),
              mb(streams.openRssBytes),
              mb(streams.peakRssBytes),
              mb(streams.afterRssBytes),
            ],
          ],
        ) +
          '\n\nThe upstream streams 300 chunks 200 ms apart (60 s), with no concurrency gate, so every stream is still open when RSS is read; streams are opened 50 at a time (each batch once the previous one has its first events).'
      : '',
  ),
);
parts.push(
  section(
    'Memory: long run',
    'soak',
    soak
      ? `${soak.requests.toLocaleString('en-US')} non-stream requests at c=${soak.connections} after ${soak.warmupRequests.toLocaleString('en-US')} warm-up requests: ${soak.served.toLocaleString('en-US')} answered 2xx, ${soak.non2xx} non-2xx, ${soak.errors} errors, ${rps(soak.rps)} rps over ${fixed(soak.durationS, 0)} s.\n\n` +
          markdownTable(
            [
              'RSS before MB',
              'RSS after MB',
              'RSS 5 s later MB',
              'peak MB',
              'median RSS first quarter MB',
              'median RSS last quarter MB',
            ],
            [
              [
                mb(soak.beforeRssBytes),
                mb(soak.afterRssBytes),
                mb(soak.settledRssBytes),
                mb(soak.peakRssBytes),
                fixed(soakTrend?.first, 1),
                fixed(soakTrend?.last, 1),
              ],
            ],
          ) +
          '\n\nRSS every tenth of the run (MB): ' +
          Array.from(
            { length: 11 },
            (_, i) =>
              soak.series[Math.min(soak.series.length - 1, Math.round((i / 10) * (soak.series.length - 1)))],
          )
            .filter((s) => s !== undefined)
            .map((s) => `${fixed(s.t, 0)} s: ${fixed(s.rssMB, 0)}`)
            .join(' · ') +
          (liveHeap.length > 0
            ? `\n\nThe heap left after each major GC (V8's \`--trace-gc\`, ${soak.majorGcs!.length} major GCs in the run): what the gateway holds live, apart from the memory the process keeps committed. RSS that steps up while this stays flat is V8 and the allocators keeping free memory, not data piling up.\n\n` +
              markdownTable(
                ['part of the run', 'major GCs', 'heap after, min / median / max MB'],
                liveHeap.map((w) => [
                  `${fixed(w.from, 0)}–${fixed(w.to, 0)} s`,
                  String(w.count),
                  `${fixed(w.min, 1)} / ${fixed(w.median, 1)} / ${fixed(w.max, 1)}`,
                ]),
              )
            : '')
      : '',
  ),
);
const profile = results['profile']?.data as
  | {
      scenario: string;
      connections: number;
      rps: number;
      samples: number;
      frames: ProfileFrame[];
      components: { component: string; selfPercent: number }[];
    }
  | undefined;
parts.push(
  section(
    'CPU profile (non-stream)',
    'profile',
    profile
      ? `\`node --cpu-prof\` of the gateway under the non-stream load at c=${profile.connections} (${rps(profile.rps)} rps), start-up and warm-up samples dropped, ${profile.samples.toLocaleString('en-US')} samples. Self time; \`(idle)\` is time the gateway waited for work, \`(program)\` native code outside JS.\n\n` +
          `### Top frames\n\n${markdownTable(
            ['self %', 'function', 'where'],
            profile.frames.map((f) => [
              fixed(f.selfPercent, 1),
              f.name,
              f.location === '' ? '(native)' : `\`${f.location}\``,
            ]),
          )}\n\n### By component\n\n${markdownTable(
            ['self %', 'component'],
            profile.components.slice(0, 20).map((c) => [fixed(c.selfPercent, 1), c.component]),
          )}`
      : '',
  ),
);
const ablation = results['ablation']?.data as
  | {
      connections: number;
      variants: {
        variant: string;
        runs: {
          rps: number;
          cpuUsPerRequest?: number;
          latency: { p50: number; p99: number };
          peakRssBytes?: number;
        }[];
      }[];
    }
  | undefined;
parts.push(
  section(
    'Where the CPU goes: one feature off at a time',
    'ablation',
    ablation
      ? `The non-stream load (simulator upstream, c=${ablation.connections}) on gateways that differ in one setting, runs alternating between them. The difference in CPU per request is the cost of the feature.\n\n` +
          markdownTable(
            ['gateway', 'rps (runs)', 'CPU µs/req (runs)', 'median CPU µs/req', 'p50 / p99 ms (runs)'],
            ablation.variants.map((v) => [
              v.variant,
              v.runs.map((r) => rps(r.rps)).join(', '),
              v.runs.map((r) => fixed(r.cpuUsPerRequest, 0)).join(', '),
              fixed(median(v.runs.map((r) => r.cpuUsPerRequest ?? Number.NaN)), 0),
              v.runs.map((r) => `${fixed(r.latency.p50, 2)} / ${fixed(r.latency.p99, 2)}`).join(', '),
            ]),
          )
      : '',
  ),
);
const instructions = results['instructions']?.data as
  | {
      name: string;
      connections: number;
      warmup: number;
      runs: { instructionsPerRequest: number; mainThreadPerRequest?: number; requests: number }[];
      /** false for a request the floor proxy and the reference servers do not make. */
      compare?: boolean;
    }[]
  | undefined;
// Results written before the count was split by thread have only the all-threads figure.
const mainThreadOf = (r: { instructionsPerRequest: number; mainThreadPerRequest?: number }) =>
  r.mainThreadPerRequest ?? r.instructionsPerRequest;
const floorInstructions = instructions?.find((c) => c.name === 'floor proxy');
const floorMedian = floorInstructions ? median(floorInstructions.runs.map(mainThreadOf)) : Number.NaN;
// The cache-hit target's reference (rows before this column existed have no bare server).
const bareInstructions = instructions?.find((c) => c.name === 'bare node:http server');
const bareMedian = bareInstructions ? median(bareInstructions.runs.map(mainThreadOf)) : undefined;
parts.push(
  section(
    'Instructions per request (callgrind)',
    'instructions',
    instructions
      ? `Each process run under valgrind's callgrind (user-space instructions, the re-executed process followed), ${instructions[0]?.warmup.toLocaleString('en-US')} warm-up requests at c=${instructions[0]?.connections}, then instructions counted over a fixed number of requests. Unlike CPU time, the count hardly moves with the load of the machine, so revisions can be compared by it, though it still varies by a few per cent between runs (a major GC or a burst of compiling in the counted window or not); kernel time (the socket system calls) is not in it. The main thread's count holds the JavaScript, the runtime and the garbage collection the main thread runs. V8's background threads (concurrent compilation, GC helpers) are shown apart: under callgrind they compile far more than in a normal run, and the more the longer the process has run.${bareMedian === undefined ? '' : ' Two fixed-answer servers are counted as references for a cache hit: the bare node:http server the cache-hit target compares with, and Fastify answering the same bytes after parsing the JSON body (the server library the gateway is built on, with none of its work).'}\n\n` +
          markdownTable(
            [
              'process',
              'main thread per request (runs)',
              'median',
              '× floor',
              'above floor',
              ...(bareMedian === undefined ? [] : ['× bare server']),
              'all threads (runs)',
            ],
            instructions.map((c) => {
              const m = median(c.runs.map(mainThreadOf));
              const compared = c.compare !== false;
              // A row counted over another window says so (the first row's is the one in the text).
              const window =
                c.warmup === instructions[0]?.warmup
                  ? ''
                  : ` (${c.warmup.toLocaleString('en-US')} warm-up, ${c.runs[0]?.requests.toLocaleString('en-US')} counted)`;
              return [
                `${c.name}${window}`,
                c.runs.map((r) => mainThreadOf(r).toLocaleString('en-US')).join(', '),
                Math.round(m).toLocaleString('en-US'),
                compared ? `${fixed(m / floorMedian, 2)}×` : '',
                c === floorInstructions || !compared
                  ? ''
                  : Math.round(m - floorMedian).toLocaleString('en-US'),
                ...(bareMedian === undefined ? [] : [compared ? `${fixed(m / bareMedian, 2)}×` : '']),
                c.runs.map((r) => r.instructionsPerRequest.toLocaleString('en-US')).join(', '),
              ];
            }),
          )
      : '',
  ),
);
const analysis = join(root, 'analysis.md');
if (existsSync(analysis)) {
  parts.push('## Analysis');
  parts.push('');
  parts.push(readFileSync(analysis, 'utf8').trim());
  parts.push('');
}
writeFileSync(join(root, 'RESULTS.md'), `${parts.join('\n')}\n`);
process.stdout.write(
  `${markdownTable(['target', 'measured', 'verdict'], targetRows)}\n\nwrote bench/RESULTS.md\n`,
);
