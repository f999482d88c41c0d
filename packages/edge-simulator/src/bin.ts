#!/usr/bin/env node
import { runCli, USAGE } from './cli';
import { SimulatorError } from './errors';

runCli(process.argv.slice(2), (text) => process.stdout.write(text)).then(
  (sim) => {
    if (!sim) return;
    const stop = () => {
      sim.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (error: unknown) => {
    if (SimulatorError.isInstance(error)) {
      const detail =
        error.issues.length === 0 && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      const usage = error.code === 'LLM_EDGE_SIM_INVALID_OPTIONS' ? `\n\n${USAGE}` : '';
      process.stderr.write(`llm-edge-sim: ${error.message}${detail}${usage}\n`);
    } else {
      process.stderr.write(
        `llm-edge-sim: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(1);
  },
);
