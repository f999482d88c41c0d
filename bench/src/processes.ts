// Starting and watching the suite's processes: upstreams, gateways and load generators each
// run in their own process; the orchestrator only samples their memory and CPU from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LoadSpec } from './load.ts';
import type { UpstreamSpec } from './upstream.ts';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The `llm-edge` CLI of the built agent package. */
export const AGENT_CLI = join(dirname(require.resolve('@llm-edge/agent/package.json')), 'dist', 'cli.js');

/** A child process the suite started, with a way to stop it. */
export interface Running {
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const onData = (d: Buffer) => {
      buffer += d.toString();
      const nl = buffer.indexOf('\n');
      if (nl !== -1) {
        child.stdout?.off('data', onData);
        resolve(buffer.slice(0, nl));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${stderr.slice(-2000)}`)));
  });
}

/** Starts an upstream process (see upstream.ts). */
export async function startUpstream(spec: UpstreamSpec): Promise<Running & { url: string }> {
  const child = spawn(process.execPath, [join(here, 'upstream.ts'), JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = await firstLine(child, `upstream ${spec.kind}`);
  const { url } = JSON.parse(line) as { url: string };
  return { url, pid: child.pid!, child, stop: stopper(child) };
}

/** A free TCP port on 127.0.0.1 (for gateways whose workers must share one port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`gateway exited with ${child.exitCode}: ${stderr().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway at ${url} did not become healthy: ${stderr().slice(-2000)}`);
}

/** Options of {@link startGateway}. */
export interface GatewayLaunch {
  configFile: string;
  port: number;
  /** Worker processes (node:cluster); absent = one process. */
  workers?: number;
  /** Write a V8 CPU profile into this directory on exit. */
  cpuProfDir?: string;
  /** Run with `--trace-gc` and collect every major GC (see {@link MajorGc}). */
  traceGc?: boolean;
}

/** One major GC (mark-compact) of the gateway, read from its `--trace-gc` line. */
export interface MajorGc {
  /** When the line arrived, ms on the suite's clock (`Date.now()`). */
  at: number;
  /** Heap in use before and after the collection, MB (V8's own figures). */
  beforeMB: number;
  afterMB: number;
  /** Heap V8 kept committed after it, MB. */
  committedMB: number;
}

// `[pid:isolate]  1234 ms: Mark-Compact 99.8 (164.9) -> 47.1 (177.4) MB, ...` (also `Mark-Compact (reduce)`).
const MARK_COMPACT = /Mark-Compact(?: \(reduce\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/**
 * Starts a `grep` that keeps only the major-GC lines of what is written into its stdin. The
 * gateway's stdout (its request log lines as well as V8's GC trace) goes straight into it, so the
 * suite's own process never reads the log traffic.
 */
function majorGcReader(into: MajorGc[]): ChildProcess {
  const grep = spawn('grep', ['--line-buffered', '-F', 'Mark-Compact'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  // Say so, rather than crash the suite, if grep cannot run: the report then has no heap table.
  grep.once('error', (error) => {
    process.stderr.write(`  major-GC trace unavailable: ${error.message}\n`);
  });
  createInterface({ input: grep.stdout! }).on('line', (line) => {
    const m = MARK_COMPACT.exec(line);
    if (m)
      into.push({ at: Date.now(), beforeMB: Number(m[1]), afterMB: Number(m[3]), committedMB: Number(m[4]) });
  });
  return grep;
}

/**
 * Starts the gateway with `llm-edge start` (request log lines go to /dev/null, or through the
 * major-GC filter with {@link GatewayLaunch.traceGc}).
 */
export async function startGateway(
  launch: GatewayLaunch,
): Promise<Running & { url: string; majorGcs: MajorGc[] }> {
  const nodeArgs = launch.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${launch.cpuProfDir}`] : [];
  // A flag on the node command line is kept when `start` re-executes itself with its own V8 flags.
  if (launch.traceGc) nodeArgs.push('--trace-gc');
  let entry = [AGENT_CLI, 'start', '--config', launch.configFile, '--port', String(launch.port)];
  if (launch.workers !== undefined) entry = [...entry, '--workers', String(launch.workers)];
  const majorGcs: MajorGc[] = [];
  const grep = launch.traceGc ? majorGcReader(majorGcs) : undefined;
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    stdio: ['ignore', grep ? grep.stdin! : 'ignore', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  // The gateway holds the pipe's write end now; grep ends when the gateway does.
  grep?.stdin?.destroy();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const url = `http://127.0.0.1:${launch.port}`;
  await waitHealthy(url, child, () => stderr);
  return { url, pid: child.pid!, child, stop: stopper(child), majorGcs };
}

/** Runs one load-generator process to completion and returns its JSON result. */
export async function runLoad<T>(spec: LoadSpec): Promise<T> {
  const child = spawn(process.execPath, [join(here, 'load.ts'), JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`load generator failed (${code}): ${err.slice(-2000)}`);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

/** Starts a `hold` load process; resolves once every stream is open. */
export async function holdStreams(spec: Extract<LoadSpec, { mode: 'hold' }>): Promise<{
  ready: { open: number; failed: number; failures: Record<string, number>; openedInMs: number };
  release(): Promise<void>;
}> {
  const child = spawn(process.execPath, [join(here, 'load.ts'), JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const line = await firstLine(child, 'hold');
  const ready = JSON.parse(line) as {
    open: number;
    failed: number;
    failures: Record<string, number>;
    openedInMs: number;
  };
  return {
    ready,
    release: async () => {
      child.stdin!.write('close\n');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Process ids of `pid` and all its descendants (cluster workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (children) for (const c of children.split(/\s+/)) out.push(...processTree(Number(c)));
  } catch {
    // gone
  }
  return out;
}

/** Resident set size of one process, bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) of one process, seconds. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) counted from 1; the slice starts at field 3.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Samples the summed RSS of a process tree every `intervalMs` while a load runs. */
export class RssSampler {
  readonly #pid: number;
  #timer: NodeJS.Timeout | undefined;
  peak = 0;
  readonly series: { t: number; rss: number }[] = [];
  readonly #started = Date.now();

  constructor(pid: number) {
    this.#pid = pid;
  }

  /** Current summed RSS of the tree, bytes. */
  now(): number {
    return processTree(this.#pid).reduce((sum, p) => sum + rssBytes(p), 0);
  }

  /** Summed CPU seconds of the tree. */
  cpu(): number {
    return processTree(this.#pid).reduce((sum, p) => sum + cpuSeconds(p), 0);
  }

  start(intervalMs = 100, keepSeries = false): this {
    this.peak = 0;
    const sample = () => {
      const rss = this.now();
      if (rss > this.peak) this.peak = rss;
      if (keepSeries) this.series.push({ t: (Date.now() - this.#started) / 1000, rss });
    };
    sample();
    this.#timer = setInterval(sample, intervalMs);
    return this;
  }

  stop(): number {
    clearInterval(this.#timer);
    const rss = this.now();
    if (rss > this.peak) this.peak = rss;
    return this.peak;
  }
}
