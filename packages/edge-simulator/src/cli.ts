import { parseArgs } from 'node:util';
import { PROFILE_PRESETS, type ProfilePreset } from './default-profiles';
import { SimulatorError } from './errors';
import { loadScenarioFile } from './scenario';
import { type Simulator, startSimulator } from './simulator';

const TIME_SCALE_FOR_PRESET: Record<ProfilePreset, number> = {
  realistic: 1,
  fast: 0.1,
  instant: 0,
  degraded: 3,
};

/** The CLI's help text. */
export const USAGE = `Usage: llm-edge-sim [options]

An OpenAI-, Anthropic- and Gemini-compatible LLM API server with latency profiles and fault injection.

Options:
  --port <n>          port to listen on (default 8787; 0 = any free port)
  --host <addr>       interface to listen on (default 127.0.0.1)
  --profile <name>    latency preset: realistic (1x the published figures, default), fast (0.1x),
                      instant (no latency), degraded (3x)
  --time-scale <x>    multiplier on every latency profile (overrides --profile)
  --seed <n>          seed for content, latency and probabilistic faults (default 0)
  --scenario <file>   scenario file, .json or .yaml (validated at start)
  --api-key <key>     accept only this key (repeatable; default: any non-empty key)
  -h, --help          show this help
`;

function badOption(field: string, message: string, cause?: unknown): SimulatorError {
  return new SimulatorError('LLM_EDGE_SIM_INVALID_OPTIONS', `--${field} ${message}`, {
    cause,
    issues: [{ path: field, message }],
  });
}

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value)) throw badOption(name, `must be an integer, got "${text}"`);
  return value;
}

/**
 * Runs the CLI: parses `argv` (without node and script), starts the simulator and writes where it
 * listens. Returns the running simulator, or undefined for `--help`.
 * @throws SimulatorError naming the bad option or scenario field.
 */
export async function runCli(argv: string[], write: (text: string) => void): Promise<Simulator | undefined> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new SimulatorError(
      'LLM_EDGE_SIM_INVALID_OPTIONS',
      error instanceof Error ? error.message : String(error),
      {
        cause: error,
      },
    );
  }
  const values = parsed.values;
  if (values.help) {
    write(USAGE);
    return undefined;
  }
  const profile = (values.profile ?? 'realistic') as ProfilePreset;
  if (!PROFILE_PRESETS.includes(profile)) {
    throw badOption('profile', `must be one of ${PROFILE_PRESETS.join(', ')}, got "${values.profile}"`);
  }
  let timeScale = TIME_SCALE_FOR_PRESET[profile];
  if (values['time-scale'] !== undefined) {
    timeScale = Number(values['time-scale']);
    if (!Number.isFinite(timeScale) || timeScale < 0) {
      throw badOption('time-scale', `must be a number >= 0, got "${values['time-scale']}"`);
    }
  }
  const scenario = values.scenario ? await loadScenarioFile(values.scenario) : undefined;
  const sim = await startSimulator({
    port: integer('port', values.port, 8787),
    host: values.host ?? '127.0.0.1',
    seed: integer('seed', values.seed, 0),
    timeScale,
    ...(values['api-key'] ? { apiKeys: values['api-key'] } : {}),
    ...(scenario ? { scenario } : {}),
  });
  write(
    [
      `llm-edge-sim listening on ${sim.url} (profile ${profile}, time scale ${timeScale})`,
      `  OpenAI     baseURL ${sim.url}/v1`,
      `  Anthropic  baseURL ${sim.url}`,
      `  Gemini     httpOptions.baseUrl ${sim.url}`,
      `  control    ${sim.url}/_sim/{scenario,reset,stats,requests}   metrics ${sim.url}/metrics`,
      '',
    ].join('\n'),
  );
  return sim;
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      profile: { type: 'string' },
      'time-scale': { type: 'string' },
      seed: { type: 'string' },
      scenario: { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}
