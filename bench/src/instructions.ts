// Instructions per request, counted by valgrind's callgrind tool: a figure that does not move with
// the machine's load the way CPU time does (the same binary, inputs and warm-up give the same
// count within a few percent whatever else runs), so small changes can be compared across runs.
// The process runs under callgrind with instrumentation off; it is switched on only around a fixed
// number of requests sent after a warm-up long enough for the JIT to settle.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether `valgrind` and `callgrind_control` can be run here. */
export function callgrindAvailable(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Instructions executed during one counted window. */
export interface InstructionCount {
  /** Every thread of the process. */
  total: number;
  /**
   * The main thread only: the JavaScript, the runtime and the garbage collection it runs itself.
   * V8's background threads (concurrent compilation, GC helpers) are left out: under callgrind they
   * compile far more than in a normal run, and how much varies from run to run.
   */
  mainThread: number;
}

/** A process started under callgrind, its instrumentation off until {@link Counted.count}. */
export interface Counted {
  pid: number;
  child: ChildProcess;
  /** Runs `work` with instrumentation on and returns the instructions executed meanwhile. */
  count(work: () => Promise<void>): Promise<InstructionCount>;
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` under callgrind. Children that re-execute themselves (`llm-edge start`
 * does, to set V8 flags) are followed, so the figure is for the process as it really runs.
 */
export function startCounted(nodeArgs: string[], env: NodeJS.ProcessEnv = process.env): Counted {
  const dir = mkdtempSync(join(tmpdir(), 'llm-edge-callgrind-'));
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      // V8 writes and rewrites machine code at run time.
      '--smc-check=all-non-file',
      '--trace-children=yes',
      '--instr-atstart=no',
      // One dump per thread, so the main thread can be told from V8's background threads.
      '--separate-threads=yes',
      `--callgrind-out-file=${join(dir, 'cg.%p')}`,
      process.execPath,
      ...nodeArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const control = (...args: string[]) =>
    execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });
  return {
    pid: child.pid!,
    child,
    async count(work) {
      control('-i', 'on');
      try {
        await work();
      } finally {
        control('-i', 'off');
      }
      control('-d');
      // The dump is written by the profiled process itself, shortly after the request.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const counted = totals(dir);
        if (counted.total > 0) return counted;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`callgrind wrote no counts: ${stderr.slice(-1000)}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The sums of the `totals:` lines of every dump in `dir`, and of the main thread's (`-01`) dumps. */
function totals(dir: string): InstructionCount {
  let total = 0;
  let mainThread = 0;
  for (const file of readdirSync(dir)) {
    const match = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
    if (!match) continue;
    total += Number(match[1]);
    if (file.endsWith('-01')) mainThread += Number(match[1]);
  }
  return { total, mainThread };
}
