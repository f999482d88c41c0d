import cluster from 'node:cluster';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { requestedWorkers, runPrimary } from './cluster-primary';
import { type Env, type LoadedConfig, loadConfigFile, parseConfig } from './config-loader';
import { maskConfig } from './config-mask';
import { defaultConfigDocument } from './default-config';
import { AgentError } from './errors';
import type { Gateway } from './gateway';

/** Where the CLI writes and what it reads; injectable so the CLI can be driven in-process. */
export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: Env;
  /** Registers a handler for SIGINT/SIGTERM; returns a function removing it. */
  onSignal?: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

const USAGE = `Usage: llm-edge <command> [options]

Commands:
  start [--config <file>] [--port <n>] [--host <h>] [--workers <n|auto>]
                        start the gateway (no --config: built-in simulator config);
                        --workers: that many processes on one port (auto: one per core)
  validate <file>       check a config file; exit code 1 with each bad field named
  print-config [--config <file>] [--json]
                        print the effective config, secrets masked
  hash-key [<key>]      print the hash to put in security.keys[].hash (no key: generate one)
  help                  show this text

Environment: PORT (default 8080), HOST, LOG_LEVEL, LLM_EDGE_DEV_KEY, LLM_EDGE_SIMULATOR_TIME_SCALE,
LLM_EDGE_V8_FLAGS (V8 flags start re-executes with; "none" for Node's defaults),
OTEL_EXPORTER_OTLP_ENDPOINT (with telemetry.tracing.exporter: otlp), and any variable
referenced as \${VAR} or \${VAR:-default} in the config file (e.g. redis.url: \${REDIS_URL}).`;

async function load(file: string | undefined, env: Env): Promise<LoadedConfig> {
  if (file === undefined) return parseConfig(defaultConfigDocument(env), env, 'default');
  return loadConfigFile(file, env);
}

function describeError(error: unknown): string {
  if (AgentError.isInstance(error)) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Runs the `llm-edge` command line; resolves with the exit code (for `start`, once the gateway
 * has stopped after a signal).
 *
 * @example
 * const code = await runCli(['validate', 'llm-edge.config.yaml']);
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    onSignal: (handler) => {
      // A cluster worker drains on the primary's SIGTERM; the SIGINT a terminal sends to the whole
      // process group is the primary's to handle (a second signal would cut the drain short).
      const onInterrupt = cluster.isWorker ? () => undefined : handler;
      process.on('SIGINT', onInterrupt);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', handler);
      };
    },
  },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        return await start(rest, io);
      case 'validate':
        return await validate(rest, io);
      case 'print-config':
        return await printConfig(rest, io);
      case 'hash-key':
        return await hashKey(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 1 : 0;
      default:
        io.stderr(`llm-edge: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (AgentError.isInstance(error) && error.code === 'LLM_EDGE_CLI_USAGE') {
      io.stderr(`llm-edge: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr(`llm-edge: ${describeError(error)}`);
    return 1;
  }
}

function parse(args: readonly string[], options: ParseArgsOptionsConfig) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new AgentError('LLM_EDGE_CLI_USAGE', cause instanceof Error ? cause.message : String(cause), {
      cause,
    });
  }
}

async function validate(args: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {});
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) {
    throw new AgentError('LLM_EDGE_CLI_USAGE', 'validate takes exactly one config file');
  }
  const { config, notices } = await loadConfigFile(file, io.env);
  for (const notice of notices) io.stdout(`note: ${notice}`);
  io.stdout(
    `ok: ${file}: ${Object.keys(config.providers).length} providers, ${config.targets.length} targets, ` +
      `${config.aliases.length} aliases, listening on ${config.server.host}:${config.server.port}`,
  );
  return 0;
}

async function printConfig(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    config: { type: 'string', short: 'c' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0)
    throw new AgentError('LLM_EDGE_CLI_USAGE', `unexpected argument "${positionals[0]}"`);
  const { config, source } = await load(values.config as string | undefined, io.env);
  const masked = maskConfig(config);
  if (values.json === true) io.stdout(JSON.stringify(masked, null, 2));
  else io.stdout(`# effective llm-edge config (source: ${source}; secrets masked)\n${toYaml(masked)}`);
  return 0;
}

async function hashKey(args: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {});
  if (positionals.length > 1) throw new AgentError('LLM_EDGE_CLI_USAGE', 'hash-key takes at most one key');
  const given = positionals[0];
  const { generateApiKey, hashApiKey } = await import('@llm-edge/security');
  if (given === undefined) {
    const generated = generateApiKey();
    io.stdout(`key:  ${generated.key}`);
    io.stdout(`hash: ${generated.hash}`);
    return 0;
  }
  io.stdout(hashApiKey(given));
  return 0;
}

async function start(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    config: { type: 'string', short: 'c' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    // Handled by the primary process (cluster-primary.ts); a worker runs the plain `start`.
    workers: { type: 'string' },
  });
  if (values.workers !== undefined && cluster.isPrimary) {
    const workers = requestedWorkers(['--workers', values.workers as string]);
    if (workers !== undefined) return runPrimary(['start', ...args], workers, io);
  }
  if (positionals.length > 0)
    throw new AgentError('LLM_EDGE_CLI_USAGE', `unexpected argument "${positionals[0]}"`);
  const loaded = await load(values.config as string | undefined, io.env);
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new AgentError('LLM_EDGE_CLI_USAGE', `--port "${values.port}" is not a port number`);
    }
    loaded.config.server.port = port;
  }
  if (values.host !== undefined) loaded.config.server.host = values.host as string;
  for (const notice of loaded.notices) io.stderr(`llm-edge: note: ${notice}`);

  // Loaded here so that validate, print-config and hash-key start without the whole runtime.
  const { createGateway } = await import('./gateway');
  const { closeLogDestination, createLogDestination } = await import('@llm-edge/monitoring');
  // Bounded: a reader of standard output that stops reading cannot make the gateway hold its log.
  const logDestination = createLogDestination();
  const gateway: Gateway = createGateway(loaded.config, {
    env: io.env,
    source: loaded.source,
    logDestination,
  });
  await gateway.start();

  // The signal handler is in place before the first line announces the gateway: a supervisor that
  // stops it as soon as it reads that line gets a drain, not Node's default exit on SIGTERM.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const remove = io.onSignal?.((signal) => {
      if (stopping) {
        io.stderr(`llm-edge: ${signal} again, exiting now`);
        resolve(130);
        return;
      }
      stopping = true;
      io.stderr(
        `llm-edge: ${signal} received, draining (deadline ${loaded.config.server.shutdownDeadlineMs} ms)`,
      );
      gateway
        .stop()
        .then(
          () => 0,
          (error: unknown) => {
            io.stderr(`llm-edge: shutdown failed: ${describeError(error)}`);
            return 1;
          },
        )
        // The last request lines may still be in a write: the exit must not cut them off.
        .then((code) => closeLogDestination(logDestination).then(() => code))
        .then((code) => {
          remove?.();
          resolve(code);
        });
    });
  });
  io.stdout(`llm-edge listening on ${gateway.url} (config: ${loaded.source})`);
  if (gateway.devKey !== undefined) {
    io.stdout(`llm-edge development key: ${gateway.devKey}`);
    io.stdout(
      `try: curl ${gateway.url}/v1/chat/completions -H "Authorization: Bearer ${gateway.devKey}" ` +
        `-H "Content-Type: application/json" -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
    );
  }
  return await stopped;
}
