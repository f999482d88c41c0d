#!/usr/bin/env node
import cluster from 'node:cluster';
import { processIo, requestedWorkers, runPrimary } from './cluster-primary';
import { AgentError } from './errors';
import { reexecWithV8Flags } from './v8-flags';

const argv = process.argv.slice(2);

function main(): Promise<number> {
  // Heap sizes are fixed when V8 starts, so `start` re-executes itself once with them (workers
  // inherit them from the primary's execArgv). Not under an IPC channel: its descriptor does not
  // survive the exec.
  if (argv[0] === 'start' && cluster.isPrimary && process.send === undefined) reexecWithV8Flags(process);
  // `start --workers N`: this process only supervises, so it does not load the gateway at all.
  if (argv[0] === 'start' && cluster.isPrimary) {
    let workers: number | undefined;
    try {
      workers = requestedWorkers(argv);
    } catch (error) {
      if (!AgentError.isInstance(error)) throw error;
      process.stderr.write(`llm-edge: ${error.message}\n`);
      return Promise.resolve(2);
    }
    if (workers !== undefined) return runPrimary(argv, workers, processIo());
  }
  return import('./cli-main').then(({ runCli }) => runCli(argv));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`llm-edge: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
