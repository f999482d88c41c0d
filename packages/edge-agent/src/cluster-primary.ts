import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { AgentError } from './errors';

/** What the primary process writes and listens to. */
export interface PrimaryIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Registers a handler for SIGINT/SIGTERM; returns a function removing it. */
  onSignal?: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

const MAX_WORKERS = 256;
/** A worker dying this many times within {@link CRASH_WINDOW_MS} stops the whole gateway. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 1_000;

/**
 * The worker count a `start` command line asks for (`--workers <n|auto>` or `--workers=<n>`), or
 * `undefined` when it asks for none. `auto` is one per available core.
 * @throws AgentError `LLM_EDGE_CLI_USAGE` for a value that is not a count.
 */
export function requestedWorkers(argv: readonly string[]): number | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--workers') value = argv[i + 1] ?? '';
    else if (arg.startsWith('--workers=')) value = arg.slice('--workers='.length);
  }
  if (value === undefined) return undefined;
  if (value === 'auto') return availableParallelism();
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > MAX_WORKERS) {
    throw new AgentError(
      'LLM_EDGE_CLI_USAGE',
      `--workers "${value}" is not a count from 1 to ${MAX_WORKERS} or "auto"`,
    );
  }
  return count;
}

/**
 * Runs the gateway as `workers` processes (node:cluster) sharing one listening port: this process
 * only forks, restarts crashed workers and forwards SIGTERM/SIGINT, so it loads none of the
 * gateway. Workers re-run the same `llm-edge` command line. Without Redis each worker enforces
 * rate limits and caches on its own; with `redis.url` in the config they share them.
 * Resolves with the exit code once every worker has stopped.
 */
export function runPrimary(argv: readonly string[], workers: number, io: PrimaryIo): Promise<number> {
  const script = process.argv[1];
  if (script === undefined)
    throw new AgentError('LLM_EDGE_CLI_USAGE', '--workers needs the llm-edge executable');
  cluster.setupPrimary({ exec: script, args: [...argv] });
  // One development key for every worker (used only when authentication is on and no key is configured).
  const workerEnv: Record<string, string> = {
    LLM_EDGE_DEV_KEY: io.env['LLM_EDGE_DEV_KEY'] ?? `sk-edge-${randomBytes(32).toString('base64url')}`,
  };

  return new Promise<number>((resolve) => {
    let stopping = false;
    let failed = false;
    const crashes: number[] = [];
    const listened = new WeakSet<Worker>();
    const live = new Set<Worker>();
    let removeSignal: (() => void) | undefined;

    const finish = (code: number) => {
      removeSignal?.();
      cluster.removeAllListeners('exit');
      cluster.removeAllListeners('listening');
      resolve(code);
    };
    const stopAll = (signal: NodeJS.Signals) => {
      for (const worker of live) worker.process.kill(signal);
      if (live.size === 0) finish(failed ? 1 : 0);
    };
    const fork = () => {
      const worker = cluster.fork(workerEnv);
      live.add(worker);
    };

    cluster.on('listening', (worker) => {
      listened.add(worker);
    });
    cluster.on('exit', (worker, code, signal) => {
      live.delete(worker);
      if (stopping) {
        if (code !== 0 && signal !== 'SIGTERM') failed = true;
        if (live.size === 0) finish(failed ? 1 : 0);
        return;
      }
      const reason = signal ? `signal ${signal}` : `code ${code}`;
      if (!listened.has(worker)) {
        // It never started (bad config, port taken): restarting would fail the same way.
        io.stderr(`llm-edge: worker ${worker.process.pid} failed to start (${reason}); stopping`);
        stopping = true;
        failed = true;
        stopAll('SIGTERM');
        return;
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && crashes[0]! < now - CRASH_WINDOW_MS) crashes.shift();
      if (crashes.length >= MAX_CRASHES) {
        io.stderr(`llm-edge: workers crashed ${crashes.length} times within a minute; stopping`);
        stopping = true;
        failed = true;
        stopAll('SIGTERM');
        return;
      }
      io.stderr(`llm-edge: worker ${worker.process.pid} exited (${reason}); starting another`);
      setTimeout(() => {
        if (!stopping) fork();
      }, RESTART_DELAY_MS).unref();
    });

    removeSignal = io.onSignal?.((signal) => {
      if (stopping) {
        io.stderr(`llm-edge: ${signal} again, stopping the workers now`);
        stopAll('SIGKILL');
        return;
      }
      stopping = true;
      io.stderr(`llm-edge: ${signal} received, draining ${live.size} workers`);
      stopAll('SIGTERM');
    });

    io.stdout(`llm-edge: primary ${process.pid} starting ${workers} worker processes`);
    for (let i = 0; i < workers; i++) fork();
  });
}

/** The process's own streams and signals, for the `llm-edge` executable. */
export function processIo(): PrimaryIo {
  return {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    onSignal: (handler) => {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}
