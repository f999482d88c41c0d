// The load generator, run as its own process (`node src/load.ts <json spec>`) so that its CPU
// is not the gateway's. Prints one JSON line with the figures when done.
//
// Modes:
// - `closed`: autocannon, keep-alive, `connections` requests in flight at all times. Latencies
//   are taken from autocannon's per-response event (fractional ms), not its 1 ms histogram.
// - `open`: a fixed-rate generator; request i is due at start + i/rate and its latency counts
//   from that intended time, so a stall delays the clock of every request behind it and shows
//   in the percentiles (no coordinated omission).
// - `stream`: closed-loop streaming clients recording time to first byte and the arrival time
//   of every body chunk (to see whether events arrive at the upstream's pace).
// - `hold`: opens `count` streams at once, prints `{"ready":...}` once every one has its first
//   event, holds them until a line arrives on stdin, then closes them.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { summarize } from './stats.ts';

interface Target {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What to run. */
export type LoadSpec =
  | (Target & {
      mode: 'closed';
      connections: number;
      durationS: number;
      warmupS: number;
      /** Stop after this many requests instead of after `durationS`. */
      amount?: number;
      /** Replace `[<id>]` in the body with a fresh id per request (distinct cache keys). */
      idReplacement?: boolean;
      /** Keep per-request latencies (off for very long runs). */
      latencies?: boolean;
    })
  | (Target & { mode: 'open'; rate: number; durationS: number; warmupS: number; connections: number })
  | (Target & {
      mode: 'stream';
      concurrency: number;
      durationS: number;
      warmupS: number;
      /** The upstream's gap between chunks; arrivals at least half of it apart count as paced. */
      pacedGapMs: number;
    })
  | (Target & { mode: 'hold'; count: number /** Streams opened at a time. */; batch: number });

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;

class Samples {
  #data = new Float64Array(1 << 16);
  length = 0;
  push(value: number): void {
    if (this.length === this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[this.length++] = value;
  }
  values(): Float64Array {
    return this.#data.subarray(0, this.length);
  }
}

function cannon(
  s: Extract<LoadSpec, { mode: 'closed' }>,
  options: { durationS?: number; amount?: number; onLatency?: (ms: number) => void },
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: s.url + s.path,
        method: 'POST',
        headers: s.headers,
        body: s.body,
        connections: s.connections,
        pipelining: 1,
        ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.durationS ?? 1 }),
        idReplacement: s.idReplacement === true,
        timeout: 30,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    const onLatency = options.onLatency;
    if (onLatency) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) onLatency(responseTime);
      });
    }
  });
}

async function closed(s: Extract<LoadSpec, { mode: 'closed' }>) {
  if (s.warmupS > 0) await cannon(s, { durationS: s.warmupS });
  const samples = new Samples();
  const started = performance.now();
  const result = await cannon(s, {
    ...(s.amount !== undefined ? { amount: s.amount } : { durationS: s.durationS }),
    ...(s.latencies === false ? {} : { onLatency: (ms: number) => samples.push(ms) }),
  });
  const elapsedS = (performance.now() - started) / 1000;
  const ok = result['2xx'];
  return {
    requests: ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: elapsedS,
    rps: ok / elapsedS,
    latency:
      s.latencies === false
        ? {
            count: ok,
            mean: result.latency.mean,
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            max: result.latency.max,
          }
        : summarize(samples.values()),
  };
}

function pool(s: Target, connections: number): Pool {
  return new Pool(s.url, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
}

async function open(s: Extract<LoadSpec, { mode: 'open' }>) {
  const client = pool(s, s.connections);
  const intervalMs = 1000 / s.rate;
  const total = Math.round(s.rate * (s.warmupS + s.durationS));
  const warmupCount = Math.round(s.rate * s.warmupS);
  const samples = new Samples();
  let errors = 0;
  let non2xx = 0;
  let sent = 0;
  let done = 0;
  const start = performance.now() + 10;
  await new Promise<void>((resolve) => {
    const fire = (index: number, intended: number) => {
      client
        .request({ path: s.path, method: 'POST', headers: s.headers, body: s.body })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode < 200 || res.statusCode >= 300) non2xx++;
          else if (index >= warmupCount) samples.push(performance.now() - intended);
        })
        .catch(() => {
          errors++;
        })
        .finally(() => {
          done++;
          if (done === total) resolve();
        });
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) {
        fire(sent, start + sent * intervalMs);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now() - 0.5));
    };
    setTimeout(tick, 10);
  });
  await client.close();
  return {
    requests: samples.length,
    non2xx,
    errors,
    durationS: s.durationS,
    rps: samples.length / s.durationS,
    latency: summarize(samples.values()),
  };
}

/** A chunk of a streamed body as it arrived. */
interface Arrival {
  at: number;
  /** Complete SSE events ended in this chunk. */
  events: number;
  /** Whether it carries answer text (a non-empty `content` delta, OpenAI or Anthropic `text`). */
  token: boolean;
}

const TOKEN = /"(?:content|text)":"[^"]/;

/** Reads one streamed response, calling `onChunk` with each body chunk's arrival. */
async function readStream(
  client: Pool,
  s: Target,
  onChunk: (arrival: Arrival, status: number) => void,
  signal?: AbortSignal,
): Promise<number> {
  const res = await client.request({
    path: s.path,
    method: 'POST',
    headers: s.headers,
    body: s.body,
    ...(signal ? { signal } : {}),
  });
  for await (const chunk of res.body) {
    const at = performance.now();
    const text = (chunk as Buffer).toString('latin1');
    let events = 0;
    for (let i = text.indexOf('\n\n'); i !== -1; i = text.indexOf('\n\n', i + 2)) events++;
    onChunk({ at, events, token: TOKEN.test(text) }, res.statusCode);
  }
  return res.statusCode;
}

async function stream(s: Extract<LoadSpec, { mode: 'stream' }>) {
  const client = pool(s, s.concurrency);
  const ttfb = new Samples();
  const ttft = new Samples();
  const gaps = new Samples();
  const durations = new Samples();
  let arrivals = 0;
  let paced = 0;
  let events = 0;
  let streams = 0;
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + s.warmupS * 1000;
  const end = measureFrom + s.durationS * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      let first: number | undefined;
      let firstToken: number | undefined;
      let last = 0;
      let localArrivals = 0;
      let localEvents = 0;
      const localGaps: number[] = [];
      try {
        const status = await readStream(client, s, (a) => {
          if (first === undefined) first = a.at;
          // Gaps from the first token on: what precedes it (a role-only chunk) may be held back
          // until the first token by design (see RESULTS.md), which is not buffering of tokens.
          if (firstToken !== undefined) localGaps.push(a.at - last);
          if (firstToken === undefined && a.token) firstToken = a.at;
          last = a.at;
          localArrivals++;
          localEvents += a.events;
        });
        if (status !== 200) throw new Error(`status ${status}`);
      } catch {
        errors++;
        continue;
      }
      if (t0 < measureFrom || first === undefined || firstToken === undefined) continue;
      streams++;
      ttfb.push(first - t0);
      ttft.push(firstToken - t0);
      durations.push(last - firstToken);
      for (const g of localGaps) {
        gaps.push(g);
        if (g >= s.pacedGapMs / 2) paced++;
      }
      arrivals += localArrivals;
      events += localEvents;
    }
  };
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  await client.close();
  return {
    streams,
    errors,
    eventsPerStream: streams ? events / streams : 0,
    arrivalsPerStream: streams ? arrivals / streams : 0,
    pacedArrivalsPerStream: streams ? paced / streams : 0,
    ttfb: summarize(ttfb.values()),
    ttft: summarize(ttft.values()),
    gap: summarize(gaps.values()),
    streamDuration: summarize(durations.values()),
  };
}

async function hold(s: Extract<LoadSpec, { mode: 'hold' }>) {
  const client = pool(s, s.count);
  const controller = new AbortController();
  let started = 0;
  const failures: Record<string, number> = {};
  const fail = (reason: string) => {
    failures[reason] = (failures[reason] ?? 0) + 1;
  };
  const t0 = performance.now();
  const streams: Promise<void>[] = [];
  // Opened in batches (each waits for the previous one's first events), as clients arrive in
  // practice, rather than 1,000 connects in one millisecond against the accept backlogs.
  for (let opened = 0; opened < s.count; ) {
    const batch = Math.min(s.batch, s.count - opened);
    const firsts: Promise<void>[] = [];
    for (let i = 0; i < batch; i++) {
      let markStarted: () => void = () => undefined;
      firsts.push(
        new Promise<void>((resolve) => {
          markStarted = resolve;
        }),
      );
      let counted = false;
      streams.push(
        readStream(
          client,
          s,
          (_a, status) => {
            if (counted) return;
            counted = true;
            if (status === 200) started++;
            else fail(`status ${status}`);
            markStarted();
          },
          controller.signal,
        ).then(
          () => {
            if (!counted) {
              fail('ended before any event');
              markStarted();
            }
          },
          (error: unknown) => {
            if (!counted) {
              fail((error as { code?: string }).code ?? 'error');
              markStarted();
            }
          },
        ),
      );
    }
    await Promise.all(firsts);
    opened += batch;
  }
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `${JSON.stringify({ ready: true, open: started, failed, failures, openedInMs: performance.now() - t0 })}\n`,
  );
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  controller.abort();
  await Promise.allSettled(streams);
  await client.destroy();
  return { open: started, failed };
}

let result: unknown;
switch (spec.mode) {
  case 'closed':
    result = await closed(spec);
    break;
  case 'open':
    result = await open(spec);
    break;
  case 'stream':
    result = await stream(spec);
    break;
  case 'hold':
    result = await hold(spec);
    break;
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
