// The gateway benchmark suite: every figure measured side by side (direct to the upstream vs
// through the gateway) in the same run, each configuration several times. Writes one JSON file
// per section into results/ and prints a summary; `report.ts` turns results/ into RESULTS.md.
//
//   node src/run.ts                      # default run (bounded, a few minutes)
//   BENCH_ONLY=soak BENCH_SOAK_REQUESTS=1000000 node src/run.ts
//
// Knobs (environment): BENCH_ONLY (comma-separated sections), BENCH_DURATION_S (per measured
// closed-loop run, default 4), BENCH_RUNS (default 2), BENCH_SOAK_REQUESTS (default 50000),
// BENCH_HOLD_STREAMS (default 1000), BENCH_WORKERS (multi-process workers, default one per core),
// REDIS_URL (default redis://127.0.0.1:6379), BENCH_RESULTS_DIR (default results/),
// BENCH_CALLGRIND_WARMUP / BENCH_CALLGRIND_REQUESTS (instructions section, default 4000 / 4000),
// BENCH_PROCESS_WARMUP_S (load a new gateway gets before its first measured run, default 10).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { fixed, mb, ratio, rps, signed } from './format.ts';
import {
  EMBEDDINGS_MODEL,
  type GatewayFeatures,
  gatewayConfig,
  MODEL,
  WARM_MODEL,
} from './gateway-config.ts';
import { callgrindAvailable, startCounted } from './instructions.ts';
import type { LoadSpec } from './load.ts';
import { bucketPercentile, scrapeOverhead } from './overhead-metric.ts';
import {
  AGENT_CLI,
  freePort,
  holdStreams,
  RssSampler,
  type Running,
  runLoad,
  startGateway,
  startUpstream,
} from './processes.ts';
import { aggregateProfile, type CpuProfile, compare, type LatencySummary, nodesAfter } from './stats.ts';
import type { UpstreamSpec } from './upstream.ts';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
// BENCH_RESULTS_DIR lets an exploratory run write elsewhere than the committed results.
const RESULTS_DIR = env.BENCH_RESULTS_DIR ?? join(here, '..', 'results');
const DURATION_S = Number(env.BENCH_DURATION_S ?? 4);
const RUNS = Number(env.BENCH_RUNS ?? 2);
const SOAK_REQUESTS = Number(env.BENCH_SOAK_REQUESTS ?? 50_000);
const HOLD_STREAMS = Number(env.BENCH_HOLD_STREAMS ?? 1000);
const WORKERS = Number(env.BENCH_WORKERS ?? availableParallelism());
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const WARMUP_S = 1;
/**
 * Load a freshly started gateway (or floor proxy) gets before its first measured run. Between runs
 * of a warm process 1 s is enough, but a new process under load needs 6–8 s (some 40,000
 * requests) before its CPU per request settles (303 → 155 µs at c=64 on the 2-core machine): V8
 * compiles the request path on a background thread that competes with the load for the cores.
 * Without it, run 1 of every section measured the JIT as much as the gateway.
 */
const PROCESS_WARMUP_S = Number(env.BENCH_PROCESS_WARMUP_S ?? 10);
const warmedProcesses = new WeakSet<Running>();

/** Gives a newly started gateway {@link PROCESS_WARMUP_S} of `via` at 16 connections, once. */
async function warmProcess(gateway: Running, via: Target): Promise<void> {
  if (PROCESS_WARMUP_S <= 0 || warmedProcesses.has(gateway)) return;
  warmedProcesses.add(gateway);
  await runLoad<LoadResult>(loadSpec(via, { mode: 'closed', connections: 16 }, PROCESS_WARMUP_S, 0));
}
const SECTIONS = [
  'nonstream',
  'floor',
  'open',
  'stream',
  'cache',
  'anthropic',
  'security',
  'redis',
  'cluster',
  'streams',
  'profile',
  'ablation',
  'instructions',
  'soak',
] as const;
type Section = (typeof SECTIONS)[number];
const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
for (const name of only ?? []) {
  if (!(SECTIONS as readonly string[]).includes(name)) {
    throw new Error(`BENCH_ONLY: unknown section "${name}" (known: ${SECTIONS.join(', ')})`);
  }
}
const wanted = (s: Section) => only === undefined || only.has(s);

const work = mkdtempSync(join(tmpdir(), 'llm-edge-bench-'));
mkdirSync(RESULTS_DIR, { recursive: true });

const JSON_HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-client' };
const PROMPT = 'Write two sentences about the sea.';
const PII_PROMPT =
  'My email is jane.doe@example.com and my phone is +1 415 555 0132; card 4111 1111 1111 1111. Write two sentences about the sea.';
const anthropicTarget = (url: string): Target => ({
  url,
  path: '/v1/messages',
  headers: {
    'content-type': 'application/json',
    'x-api-key': 'sk-bench-client',
    'anthropic-version': '2023-06-01',
  },
  body: JSON.stringify({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: PROMPT }] }),
});
const chatBody = (extra: Record<string, unknown> = {}, content = PROMPT) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], ...extra });

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The commit measured, with `+dirty` when the working tree differs from it. */
function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    // Only the packages decide what is measured; the suite's own results change during a run.
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], {
      encoding: 'utf8',
      cwd: join(here, '..', '..'),
    }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}
const REVISION = revision();

function meta(section: Section) {
  return {
    section,
    revision: REVISION,
    date: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadavg: loadavg().map((l) => Number(l.toFixed(2))),
    command: only ? `BENCH_ONLY=${[...only].join(',')} ${commandLine()}` : commandLine(),
    durationS: DURATION_S,
    runs: RUNS,
    processWarmupS: PROCESS_WARMUP_S,
  };
}

function commandLine(): string {
  const knobs = [
    'BENCH_DURATION_S',
    'BENCH_RUNS',
    'BENCH_SOAK_REQUESTS',
    'BENCH_HOLD_STREAMS',
    'BENCH_WORKERS',
    'BENCH_PROCESS_WARMUP_S',
  ]
    .filter((k) => env[k] !== undefined)
    .map((k) => `${k}=${env[k]}`);
  return [...knobs, 'pnpm bench:gateway'].join(' ');
}

function save(section: Section, data: unknown): void {
  const file = join(RESULTS_DIR, `${section}.json`);
  writeFileSync(file, `${JSON.stringify({ meta: meta(section), data }, null, 2)}\n`);
  log(`  → ${file}`);
}

async function writeConfig(name: string, features: GatewayFeatures): Promise<string> {
  const file = join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(gatewayConfig(features), null, 2));
  return file;
}

async function launch(
  name: string,
  features: GatewayFeatures,
  extra: { workers?: number; cpuProfDir?: string; traceGc?: boolean } = {},
) {
  const configFile = await writeConfig(name, features);
  return startGateway({ configFile, port: await freePort(), ...extra });
}

/** Figures of one closed-loop or open-loop run, as the load process reports them. */
interface LoadResult {
  requests: number;
  non2xx: number;
  errors: number;
  durationS: number;
  rps: number;
  latency: LatencySummary;
}

interface SideResult extends LoadResult {
  peakRssBytes?: number;
  cpuUsPerRequest?: number;
  /** CPU time of the upstream process per request served. */
  upstreamCpuUsPerRequest?: number;
  reportedOverheadMs?: { p50: number; p99: number };
}

interface Target {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

type Shape =
  | { mode: 'closed'; connections: number; idReplacement?: boolean }
  | { mode: 'open'; rate: number; connections: number };

function loadSpec(target: Target, shape: Shape, durationS: number, warmupS: number): LoadSpec {
  return shape.mode === 'closed'
    ? {
        ...target,
        mode: 'closed',
        connections: shape.connections,
        durationS,
        warmupS,
        ...(shape.idReplacement ? { idReplacement: true } : {}),
      }
    : { ...target, mode: 'open', rate: shape.rate, connections: shape.connections, durationS, warmupS };
}

/** Runs one side; for the gateway also samples its RSS and its own overhead metric. */
async function measureSide(
  target: Target,
  shape: Shape,
  durationS: number,
  upstreamPid: number,
  gateway?: { running: Running & { url: string }; route: string | undefined },
): Promise<SideResult> {
  // Warm-up in its own process run, so that CPU time below covers only the measured requests.
  await runLoad<LoadResult>(loadSpec(target, shape, WARMUP_S, 0));
  const upstreamCpu = new RssSampler(upstreamPid);
  const sampler = gateway ? new RssSampler(gateway.running.pid) : undefined;
  const route = gateway?.route;
  const before = route !== undefined ? await scrapeOverhead(gateway!.running.url, route) : undefined;
  const cpu0 = sampler?.cpu() ?? 0;
  const upCpu0 = upstreamCpu.cpu();
  sampler?.start();
  const result = await runLoad<LoadResult>(loadSpec(target, shape, durationS, 0));
  const peak = sampler?.stop();
  const cpu1 = sampler?.cpu() ?? 0;
  const upCpu1 = upstreamCpu.cpu();
  const served = result.requests + result.non2xx;
  const perRequest = (seconds: number) => (served > 0 ? (seconds * 1e6) / served : Number.NaN);
  const side: SideResult = { ...result, upstreamCpuUsPerRequest: perRequest(upCpu1 - upCpu0) };
  if (gateway === undefined) return side;
  const measured = { ...side, peakRssBytes: peak, cpuUsPerRequest: perRequest(cpu1 - cpu0) };
  if (route === undefined || before === undefined) return measured;
  const after = await scrapeOverhead(gateway.running.url, route);
  return {
    ...measured,
    reportedOverheadMs: {
      p50: bucketPercentile(before, after, 50),
      p99: bucketPercentile(before, after, 99),
    },
  };
}

/** A direct run and a gateway run next to each other, `RUNS` times (order alternating). */
async function pairs(
  label: string,
  direct: Target,
  via: Target,
  gateway: Running & { url: string },
  route: string | undefined,
  shape: Shape,
  upstreamPid: number,
  durationS = DURATION_S,
) {
  const runs = [];
  await warmProcess(gateway, via);
  for (let run = 1; run <= RUNS; run++) {
    let d: SideResult;
    let g: SideResult;
    if (run % 2 === 1) {
      d = await measureSide(direct, shape, durationS, upstreamPid);
      g = await measureSide(via, shape, durationS, upstreamPid, { running: gateway, route });
    } else {
      g = await measureSide(via, shape, durationS, upstreamPid, { running: gateway, route });
      d = await measureSide(direct, shape, durationS, upstreamPid);
    }
    const comparison = compare(d, g);
    runs.push({ run, direct: d, gateway: g, comparison });
    log(
      `  ${label} run ${run}: direct ${rps(d.rps)} rps p50 ${fixed(d.latency.p50, 3)} p99 ${fixed(d.latency.p99, 3)} | ` +
        `gateway ${rps(g.rps)} rps p50 ${fixed(g.latency.p50, 3)} p99 ${fixed(g.latency.p99, 3)} | ` +
        `ratio ${ratio(comparison.rpsRatio)} added p50 ${signed(comparison.addedP50, 3)} p99 ${signed(comparison.addedP99, 3)} ms | ` +
        `rss ${mb(g.peakRssBytes)} MB | CPU µs/req gateway ${fixed(g.cpuUsPerRequest, 0)}, upstream ${fixed(d.upstreamCpuUsPerRequest, 0)}/${fixed(g.upstreamCpuUsPerRequest, 0)}` +
        (d.non2xx + g.non2xx + d.errors + g.errors > 0
          ? ` | NON-2XX/ERRORS ${d.non2xx}/${d.errors} ${g.non2xx}/${g.errors}`
          : ''),
    );
  }
  return runs;
}

type Upstream = Running & { url: string };
const upstreams: Running[] = [];
async function upstream(spec: Parameters<typeof startUpstream>[0]) {
  const u = await startUpstream(spec);
  upstreams.push(u);
  return u;
}

const chatPath = '/v1/chat/completions';
const target = (url: string, body = chatBody(), headers: Record<string, string> = JSON_HEADERS): Target => ({
  url,
  path: chatPath,
  headers,
  body,
});

async function sectionNonStream(sim: Upstream, bare: Upstream) {
  const out: Record<string, unknown>[] = [];
  for (const [upstreamName, up, type] of [
    ['simulator', sim, 'simulator'],
    ['bare node:http', bare, 'openai-compatible'],
  ] as const) {
    const url = up.url;
    const gw = await launch(`nonstream-${type}`, { upstreamUrl: url, upstreamType: type });
    try {
      for (const connections of [1, 16, 64]) {
        const runs = await pairs(
          `non-stream ${upstreamName} c=${connections}`,
          target(url),
          target(gw.url),
          gw,
          'chat.completions',
          { mode: 'closed', connections },
          up.pid,
        );
        out.push({ upstream: upstreamName, connections, runs });
      }
    } finally {
      await gw.stop();
    }
  }
  save('nonstream', out);
}

/**
 * The same non-stream load through the floor proxy (upstream.ts, kind `floor`) instead of the
 * gateway: the lower bound any Node JSON proxy pays on this machine, so the gateway's figures can
 * be read as floor + features.
 */
async function sectionFloor(sim: Upstream) {
  const floor = await upstream({ kind: 'floor', upstreamUrl: sim.url });
  const out: Record<string, unknown>[] = [];
  try {
    for (const connections of [1, 16, 64]) {
      const runs = await pairs(
        `floor proxy c=${connections}`,
        target(sim.url),
        target(floor.url),
        floor,
        undefined,
        { mode: 'closed', connections },
        sim.pid,
      );
      out.push({ upstream: 'simulator', connections, runs });
    }
  } finally {
    await floor.stop();
  }
  save('floor', out);
}

async function sectionOpen(sim: Upstream) {
  const gw = await launch('open', { upstreamUrl: sim.url, upstreamType: 'simulator' });
  try {
    const rate = Number(env.BENCH_OPEN_RATE ?? 1000);
    const runs = await pairs(
      `open loop ${rate}/s`,
      target(sim.url),
      target(gw.url),
      gw,
      'chat.completions',
      { mode: 'open', rate, connections: 64 },
      sim.pid,
      Math.max(10, DURATION_S * 2),
    );
    save('open', { rate, runs });
  } finally {
    await gw.stop();
  }
}

interface StreamResult {
  streams: number;
  errors: number;
  eventsPerStream: number;
  arrivalsPerStream: number;
  pacedArrivalsPerStream: number;
  ttfb: LatencySummary;
  ttft: LatencySummary;
  gap: LatencySummary;
  streamDuration: LatencySummary;
}

async function sectionStream(sim: Upstream) {
  const gapMs = 20;
  const tokens = 20;
  const paced = await upstream({ kind: 'sim-paced', tokens, gapMs });
  // The paced upstream serves some 40 streams a second, too few to warm the JIT in any sensible
  // time: the warm-up streams go to a second target on the zero-latency simulator instead, through
  // the same gateway code, and the measured model's route stays the paced target alone.
  const gw = await launch('stream', {
    upstreamUrl: paced.url,
    upstreamType: 'simulator',
    warmUpstreamUrl: sim.url,
  });
  try {
    await warmProcess(gw, target(gw.url, chatBody({ stream: true, model: WARM_MODEL })));
    const concurrency = 16;
    const durationS = Math.max(8, DURATION_S * 2);
    const body = chatBody({ stream: true });
    const runs = [];
    for (let run = 1; run <= RUNS; run++) {
      const spec = (url: string): LoadSpec => ({
        ...target(url, body),
        mode: 'stream',
        concurrency,
        durationS,
        warmupS: 1,
        pacedGapMs: gapMs,
      });
      const sampler = new RssSampler(gw.pid);
      const direct = () => runLoad<StreamResult>(spec(paced.url));
      const gateway = async () => {
        sampler.start();
        const result = await runLoad<StreamResult>(spec(gw.url));
        return { ...result, peakRssBytes: sampler.stop() };
      };
      let d: StreamResult;
      let g: StreamResult & { peakRssBytes: number };
      if (run % 2 === 1) {
        d = await direct();
        g = await gateway();
      } else {
        g = await gateway();
        d = await direct();
      }
      const added = (pick: (r: StreamResult) => LatencySummary) => ({
        p50: pick(g).p50 - pick(d).p50,
        p90: pick(g).p90 - pick(d).p90,
        p99: pick(g).p99 - pick(d).p99,
      });
      const addedTtft = added((r) => r.ttft);
      const addedTtfb = added((r) => r.ttfb);
      runs.push({ run, direct: d, gateway: g, addedTtft, addedTtfb });
      log(
        `  stream run ${run}: first token direct p50 ${fixed(d.ttft.p50, 3)} p99 ${fixed(d.ttft.p99, 3)} | gateway p50 ${fixed(g.ttft.p50, 3)} p99 ${fixed(g.ttft.p99, 3)} | ` +
          `added p50 ${signed(addedTtft.p50, 3)} p99 ${signed(addedTtft.p99, 3)} ms (first byte ${signed(addedTtfb.p50, 3)} / ${signed(addedTtfb.p99, 3)}) | ` +
          `paced arrivals/stream ${fixed(d.pacedArrivalsPerStream, 1)} vs ${fixed(g.pacedArrivalsPerStream, 1)} | ` +
          `gap p50 ${fixed(d.gap.p50, 1)} vs ${fixed(g.gap.p50, 1)} ms | duration p50 ${fixed(d.streamDuration.p50, 0)} vs ${fixed(g.streamDuration.p50, 0)} ms` +
          (d.errors + g.errors > 0 ? ` | ERRORS ${d.errors}/${g.errors}` : ''),
      );
    }
    save('stream', { gapMs, tokens, concurrency, durationS, runs });
  } finally {
    await gw.stop();
  }
}

async function sectionCache(sim: Upstream) {
  const gw = await launch('cache', { upstreamUrl: sim.url, upstreamType: 'simulator', cache: true });
  try {
    const body = chatBody();
    const first = await fetch(`${gw.url}${chatPath}`, { method: 'POST', headers: JSON_HEADERS, body });
    await first.arrayBuffer();
    const hit = await fetch(`${gw.url}${chatPath}`, { method: 'POST', headers: JSON_HEADERS, body });
    const bytes = Buffer.from(await hit.arrayBuffer());
    if (hit.headers.get('x-llm-edge-cache') !== 'HIT')
      throw new Error('cache scenario: second request was not a HIT');
    const bodyFile = join(work, 'cached-response.json');
    writeFileSync(bodyFile, bytes);
    const bare = await upstream({ kind: 'bare', bodyFile });
    const out = [];
    for (const connections of [1, 64]) {
      const runs = await pairs(
        `cache hit c=${connections}`,
        target(bare.url, body),
        target(gw.url, body),
        gw,
        'chat.completions',
        {
          mode: 'closed',
          connections,
        },
        bare.pid,
      );
      out.push({ connections, runs });
    }
    save('cache', { responseBytes: bytes.byteLength, results: out });
  } finally {
    await gw.stop();
  }
}

async function sectionAnthropic(sim: Upstream) {
  const gw = await launch('anthropic', { upstreamUrl: sim.url, upstreamType: 'simulator' });
  try {
    const out = [];
    for (const connections of [1, 64]) {
      const runs = await pairs(
        `anthropic→openai c=${connections}`,
        target(sim.url),
        anthropicTarget(gw.url),
        gw,
        'messages',
        {
          mode: 'closed',
          connections,
        },
        sim.pid,
      );
      out.push({ connections, runs });
    }
    save('anthropic', out);
  } finally {
    await gw.stop();
  }
}

async function sectionSecurity(sim: Upstream) {
  const apiKey = 'sk-bench-gateway-key-0123456789abcdef';
  const gw = await launch('security', {
    upstreamUrl: sim.url,
    upstreamType: 'simulator',
    apiKey,
    pii: 'redact',
  });
  try {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
    const body = chatBody({}, PII_PROMPT);

    const out = [];
    for (const connections of [1, 64]) {
      const runs = await pairs(
        `auth+limit+pii c=${connections}`,
        target(sim.url, body, headers),
        target(gw.url, body, headers),
        gw,
        'chat.completions',
        { mode: 'closed', connections },
        sim.pid,
      );
      out.push({ connections, runs });
    }
    save('security', out);
  } finally {
    await gw.stop();
  }
}

async function deleteRedisKeys(prefix: string): Promise<number> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  let deleted = 0;
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      if (keys.length > 0) deleted += await client.del(keys);
    }
  } finally {
    await client.quit();
  }
  return deleted;
}

async function sectionRedis(sim: Upstream) {
  const prefix = `llm-edge-bench:${process.pid}:${Date.now()}:`;
  const gw = await launch('redis', {
    upstreamUrl: sim.url,
    upstreamType: 'simulator',
    cache: true,
    redisUrl: REDIS_URL,
    redisPrefix: prefix,
    anonymousRpm: 1_000_000_000,
  });
  try {
    // Every request distinct: each one misses L1 and L2, goes upstream and is written to both.
    const body = chatBody({}, `${PROMPT} [<id>]`);
    const out = [];
    for (const connections of [1, 64]) {
      const runs = await pairs(
        `redis l2 c=${connections}`,
        target(sim.url, body),
        target(gw.url, body),
        gw,
        'chat.completions',
        { mode: 'closed', connections, idReplacement: true },
        sim.pid,
      );
      out.push({ connections, runs });
    }
    save('redis', { prefix: 'llm-edge-bench:<pid>:<time>:', results: out });
  } finally {
    await gw.stop();
    log(`  redis: deleted ${await deleteRedisKeys(prefix)} keys under the run's prefix`);
  }
}

async function sectionCluster(sim: Upstream) {
  const prefix = `llm-edge-bench:${process.pid}:${Date.now()}:cluster:`;
  const features: GatewayFeatures = {
    upstreamUrl: sim.url,
    upstreamType: 'simulator',
    redisUrl: REDIS_URL,
    redisPrefix: prefix,
  };
  const gw = await launch('cluster', features, { workers: WORKERS });
  const out = [];
  try {
    for (const connections of [1, 16, 64]) {
      const runs = await pairs(
        `${WORKERS} workers c=${connections}`,
        target(sim.url),
        target(gw.url),
        gw,
        'chat.completions',
        {
          mode: 'closed',
          connections,
        },
        sim.pid,
      );
      out.push({ connections, runs });
    }
  } finally {
    await gw.stop();
    await deleteRedisKeys(prefix);
  }
  save('cluster', { workers: WORKERS, results: out });
}

async function sectionStreams() {
  // Streams that stay open long enough to count them all: 300 chunks, 200 ms apart (60 s).
  const paced = await upstream({ kind: 'sim-paced', tokens: 300, gapMs: 200 });
  const gw = await launch('streams', { upstreamUrl: paced.url, upstreamType: 'simulator' });
  try {
    const body = chatBody({ stream: true });
    // A few streams first, so the idle figure is of a warmed-up process.
    await runLoad({
      ...target(gw.url, chatBody({ stream: true })),
      mode: 'stream',
      pacedGapMs: 200,
      concurrency: 4,
      durationS: 1,
      warmupS: 0,
    });
    const sampler = new RssSampler(gw.pid);
    const idle = sampler.now();
    sampler.start(50);
    const held = await holdStreams({ ...target(gw.url, body), mode: 'hold', count: HOLD_STREAMS, batch: 50 });
    await new Promise((r) => setTimeout(r, 2000));
    const withOpen = sampler.now();
    await held.release();
    await new Promise((r) => setTimeout(r, 2000));
    const peak = sampler.stop();
    const after = sampler.now();
    const data = {
      streams: HOLD_STREAMS,
      ...held.ready,
      idleRssBytes: idle,
      openRssBytes: withOpen,
      peakRssBytes: peak,
      afterRssBytes: after,
    };
    log(
      `  ${held.ready.open} open streams (${held.ready.failed} failed ${JSON.stringify(held.ready.failures)}): RSS idle ${mb(idle)} MB, open ${mb(withOpen)} MB, peak ${mb(peak)} MB, after ${mb(after)} MB`,
    );
    save('streams', data);
  } finally {
    await gw.stop();
  }
}

/** Gateway features of the scenarios that `BENCH_PROFILE` can name (default: non-stream). */
function profileScenario(name: string, sim: Upstream): { features: GatewayFeatures; target: Target } {
  const base: GatewayFeatures = { upstreamUrl: sim.url, upstreamType: 'simulator' };
  switch (name) {
    case 'nonstream':
      return { features: base, target: target('') };
    case 'cache':
      return { features: { ...base, cache: true }, target: target('') };
    case 'security': {
      const apiKey = 'sk-bench-gateway-key-0123456789abcdef';
      return {
        features: { ...base, apiKey, pii: 'redact' },
        target: target('', chatBody({}, PII_PROMPT), {
          'content-type': 'application/json',
          authorization: `Bearer ${apiKey}`,
        }),
      };
    }
    case 'anthropic':
      return { features: base, target: { ...anthropicTarget(''), url: '' } };
    default:
      throw new Error(`BENCH_PROFILE: unknown scenario "${name}" (nonstream, cache, security, anthropic)`);
  }
}

async function sectionProfile(sim: Upstream) {
  const scenario = env.BENCH_PROFILE ?? 'nonstream';
  const { features, target: shape } = profileScenario(scenario, sim);
  const dir = join(work, 'cpu-profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spawnedAt = Date.now();
  const gw = await launch('profile', features, { cpuProfDir: dir });
  const connections = 16;
  const at = { ...shape, url: gw.url };
  let result: LoadResult;
  let measuredFromMs: number;
  try {
    await runLoad<LoadResult>(loadSpec(at, { mode: 'closed', connections }, 2, 0));
    measuredFromMs = Date.now() - spawnedAt;
    result = await runLoad<LoadResult>(
      loadSpec(at, { mode: 'closed', connections }, Math.max(10, DURATION_S * 2), 0),
    );
  } finally {
    await gw.stop();
  }
  // `llm-edge start` re-executes itself with its V8 flags (same pid), and Node may write a short
  // profile of the process before the re-execution too: the gateway's is the largest.
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  if (file === undefined) throw new Error('no CPU profile was written');
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const suffix = scenario === 'nonstream' ? '' : `-${scenario}`;
  writeFileSync(join(RESULTS_DIR, `gateway${suffix}.cpuprofile`), JSON.stringify(profile));
  const aggregated = aggregateProfile(nodesAfter(profile, measuredFromMs), 30);
  log(
    `  profile (${scenario}): ${aggregated.samples} samples under ${rps(result.rps)} rps; top: ${aggregated.frames
      .slice(0, 6)
      .map((f) => `${f.name} ${f.selfPercent.toFixed(1)}%`)
      .join(', ')}`,
  );
  save(scenario === 'nonstream' ? 'profile' : (`profile${suffix}` as Section), {
    scenario,
    connections,
    rps: result.rps,
    ...aggregated,
  });
}

/**
 * The same non-stream load on gateways that differ in one feature each, runs alternating, to
 * attribute CPU per request where the profile spreads it thin.
 */
async function sectionAblation(sim: Upstream) {
  const base: GatewayFeatures = { upstreamUrl: sim.url, upstreamType: 'simulator' };
  const variants: [string, GatewayFeatures][] = [
    ['as measured above (request log at info, metrics on)', base],
    ['no request log lines (logLevel warn)', { ...base, logLevel: 'warn' }],
    ['no metrics', { ...base, metrics: false }],
    ['neither', { ...base, logLevel: 'warn', metrics: false }],
  ];
  const connections = 16;
  const gateways = [];
  for (const [i, [name, features]] of variants.entries())
    gateways.push({ name, gw: await launch(`ablation-${i}`, features) });
  const out: { variant: string; runs: SideResult[] }[] = gateways.map((g) => ({ variant: g.name, runs: [] }));
  try {
    for (const { gw } of gateways) await warmProcess(gw, target(gw.url));
    for (let run = 1; run <= Math.max(2, RUNS); run++) {
      for (const [i, { gw }] of gateways.entries()) {
        const side = await measureSide(target(gw.url), { mode: 'closed', connections }, DURATION_S, sim.pid, {
          running: gw,
          route: 'chat.completions',
        });
        out[i]!.runs.push(side);
        log(
          `  ablation run ${run} ${variants[i]![0]}: ${rps(side.rps)} rps, ${fixed(side.cpuUsPerRequest, 0)} µs CPU/req, p50 ${fixed(side.latency.p50, 3)} ms`,
        );
      }
    }
  } finally {
    for (const { gw } of gateways) await gw.stop();
  }
  save('ablation', { connections, variants: out });
}

async function sectionSoak(sim: Upstream) {
  // V8's GC trace gives the heap left after each major GC: what is live, apart from the memory
  // the process merely keeps, so a leak and V8 sizing its heap can be told apart.
  const gw = await launch('soak', { upstreamUrl: sim.url, upstreamType: 'simulator' }, { traceGc: true });
  try {
    const connections = 64;
    const warm = Math.max(20_000, Math.round(SOAK_REQUESTS * 0.02));
    const spec = (amount: number): LoadSpec => ({
      ...target(gw.url),
      mode: 'closed',
      connections,
      durationS: 0,
      warmupS: 0,
      amount,
      latencies: false,
    });
    await runLoad<LoadResult>(spec(warm));
    await new Promise((r) => setTimeout(r, 2000));
    const sampler = new RssSampler(gw.pid);
    const before = sampler.now();
    const startedAt = Date.now();
    sampler.start(1000, true);
    const result = await runLoad<LoadResult>(spec(SOAK_REQUESTS));
    const endedAt = Date.now();
    const peak = sampler.stop();
    const after = sampler.now();
    await new Promise((r) => setTimeout(r, 5000));
    const settled = sampler.now();
    const series = sampler.series.map((s) => ({
      t: Number(s.t.toFixed(1)),
      rssMB: Number((s.rss / 1e6).toFixed(1)),
    }));
    const data = {
      requests: SOAK_REQUESTS,
      warmupRequests: warm,
      connections,
      served: result.requests,
      non2xx: result.non2xx,
      errors: result.errors,
      rps: result.rps,
      durationS: result.durationS,
      beforeRssBytes: before,
      afterRssBytes: after,
      settledRssBytes: settled,
      peakRssBytes: peak,
      series,
      majorGcs: gw.majorGcs
        .filter((gc) => gc.at >= startedAt && gc.at <= endedAt)
        .map((gc) => ({
          t: Number(((gc.at - startedAt) / 1000).toFixed(1)),
          beforeMB: gc.beforeMB,
          afterMB: gc.afterMB,
          committedMB: gc.committedMB,
        })),
    };
    log(
      `  soak ${SOAK_REQUESTS} requests at ${rps(result.rps)} rps: RSS before ${mb(before)} MB, after ${mb(after)} MB, settled ${mb(settled)} MB, peak ${mb(peak)} MB; ${data.majorGcs.length} major GCs`,
    );
    save('soak', data);
  } finally {
    await gw.stop();
  }
}

/**
 * Instructions per request (callgrind) of the floor proxy and of the gateway, non-stream and cache
 * hit: the figure to compare revisions by, since it barely moves with the machine's load.
 */
async function sectionInstructions(sim: Upstream, answerFile: string) {
  if (!callgrindAvailable()) {
    log('  valgrind not found: instructions section skipped');
    return;
  }
  // With 2,000 warm-up and 1,000 counted requests, one major GC or compile burst in the window moved
  // the figure by up to 10 %. After 4,000 and over 4,000, repeated runs of one build mostly agree
  // within 3 % (cache hits within 1 %); an odd run with a compile burst still stands out, and its
  // all-threads count shows why.
  const warmup = Number(env.BENCH_CALLGRIND_WARMUP ?? 4000);
  const requests = Number(env.BENCH_CALLGRIND_REQUESTS ?? 4000);
  const connections = 4;
  const out: Record<string, unknown>[] = [];
  // The two fixed-answer servers are the references of a cache hit: the bare server is what the
  // cache-hit target compares against, and Fastify with the same answer shows what the server
  // library adds to it before any of the gateway's own work.
  const configs: {
    name: string;
    /** A reference server, when `features` (a gateway) is not given. */
    server?: 'bare' | 'fastify' | 'floor';
    features?: GatewayFeatures;
    cached?: boolean;
    /** Another request than the non-stream chat, counted over fewer requests (each costs more). */
    request?: { path: string; body: string; warmup: number; requests: number };
  }[] = [
    { name: 'bare node:http server', server: 'bare' },
    { name: 'Fastify, fixed answer', server: 'fastify' },
    { name: 'floor proxy', server: 'floor' },
    { name: 'gateway, non-stream', features: { upstreamUrl: sim.url, upstreamType: 'simulator' } },
    {
      name: 'gateway, cache hit',
      features: { upstreamUrl: sim.url, upstreamType: 'simulator', cache: true },
      cached: true,
    },
    {
      // An answer of 1,536 numbers: what the gateway does per byte of answer (parsing, checking
      // and forwarding it), where a chat answer shows what it does per request.
      name: 'gateway, embeddings (1,536 dimensions)',
      features: { upstreamUrl: sim.url, upstreamType: 'simulator', embeddings: true },
      request: {
        path: '/v1/embeddings',
        body: JSON.stringify({ model: EMBEDDINGS_MODEL, input: PROMPT }),
        warmup: Math.ceil(warmup / 4),
        requests: Math.ceil(requests / 4),
      },
    },
  ];
  for (const config of configs) {
    const runs: { instructionsPerRequest: number; mainThreadPerRequest: number; requests: number }[] = [];
    for (let run = 0; run < RUNS; run++) {
      const port = await freePort();
      const features = config.features;
      const reference: UpstreamSpec =
        config.server === 'bare' || config.server === 'fastify'
          ? { kind: config.server, bodyFile: answerFile, port }
          : { kind: 'floor', upstreamUrl: sim.url, port };
      const args =
        features === undefined
          ? [join(here, 'upstream.ts'), JSON.stringify(reference)]
          : [
              AGENT_CLI,
              'start',
              '--config',
              await writeConfig(`instructions-${run}`, features),
              '--port',
              String(port),
            ];
      const counted = startCounted(args, { ...env, NODE_ENV: 'production' });
      counted.child.stdout?.resume();
      try {
        const url = `http://127.0.0.1:${port}`;
        await waitListening(url, counted.child);
        const request = config.request;
        const fixedCount = (amount: number): LoadSpec => ({
          ...target(url),
          ...(request === undefined ? {} : { path: request.path, body: request.body }),
          mode: 'closed',
          connections,
          durationS: 1,
          warmupS: 0,
          amount,
        });
        await runLoad<LoadResult>(fixedCount(request?.warmup ?? warmup));
        let result: LoadResult | undefined;
        const total = await counted.count(async () => {
          result = await runLoad<LoadResult>(fixedCount(request?.requests ?? requests));
        });
        const answered = result!.requests - result!.non2xx - result!.errors;
        const perRequest = (n: number) => Math.round(n / answered);
        runs.push({
          instructionsPerRequest: perRequest(total.total),
          mainThreadPerRequest: perRequest(total.mainThread),
          requests: answered,
        });
        log(
          `  ${config.name} run ${run + 1}: ${perRequest(total.mainThread).toLocaleString('en-US')} instructions/request on the main thread, ${perRequest(total.total).toLocaleString('en-US')} in all threads`,
        );
      } finally {
        await counted.stop();
      }
    }
    out.push({
      name: config.name,
      connections,
      warmup: config.request?.warmup ?? warmup,
      // Not a request the floor proxy or the reference servers make: no ratio to them.
      ...(config.request === undefined ? {} : { compare: false }),
      runs,
    });
  }
  save('instructions', out);
}

/** Waits for a process under callgrind (tens of times slower to start) to answer on `url`. */
async function waitListening(url: string, child: { exitCode: number | null }): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process under callgrind exited with ${child.exitCode}`);
    try {
      await fetch(`${url}/healthz`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`nothing listened on ${url} under callgrind within 180 s`);
}

const startedAt = Date.now();
log(
  `llm-edge gateway bench: node ${process.version}, ${availableParallelism()} CPUs, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
try {
  const sim = await upstream({ kind: 'sim', tokens: 32 });
  // The bare baseline answers with a simulator response, byte for byte.
  const sample = await fetch(`${sim.url}${chatPath}`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: chatBody(),
  });
  const sampleFile = join(work, 'sim-response.json');
  writeFileSync(sampleFile, Buffer.from(await sample.arrayBuffer()));
  const bare = await upstream({ kind: 'bare', bodyFile: sampleFile });

  const steps: [Section, () => Promise<void>][] = [
    ['nonstream', () => sectionNonStream(sim, bare)],
    ['floor', () => sectionFloor(sim)],
    ['open', () => sectionOpen(sim)],
    ['stream', () => sectionStream(sim)],
    ['cache', () => sectionCache(sim)],
    ['anthropic', () => sectionAnthropic(sim)],
    ['security', () => sectionSecurity(sim)],
    ['redis', () => sectionRedis(sim)],
    ['cluster', () => sectionCluster(sim)],
    ['streams', () => sectionStreams()],
    ['profile', () => sectionProfile(sim)],
    ['ablation', () => sectionAblation(sim)],
    ['instructions', () => sectionInstructions(sim, sampleFile)],
    ['soak', () => sectionSoak(sim)],
  ];
  for (const [name, step] of steps) {
    if (!wanted(name)) continue;
    log(
      `[${name}] load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    await step();
  }
} finally {
  await Promise.all(upstreams.map((u) => u.stop()));
  rmSync(work, { recursive: true, force: true });
}
log(
  `done in ${((Date.now() - startedAt) / 1000).toFixed(0)} s; write RESULTS.md with: pnpm --filter @llm-edge/bench report`,
);
