import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type GatewayConfig, type GatewayConfigInput } from './config-schema';
import { formatPath, interpolateEnv } from './env-interpolation';
import { AgentError, type ConfigIssue } from './errors';

/** Environment variables as read by the config loader. */
export type Env = Readonly<Record<string, string | undefined>>;

const validated = new WeakSet<object>();

/** True for a config object returned by {@link parseConfig} (so it is not validated twice). */
export function isValidatedConfig(config: unknown): config is GatewayConfig {
  return typeof config === 'object' && config !== null && validated.has(config);
}

/** A validated configuration plus what the loader changed on the way. */
export interface LoadedConfig {
  config: GatewayConfig;
  /** The file it came from, or `'default'`. */
  source: string;
  /** Things a user should know about (e.g. an optional provider dropped for lack of a key). */
  notices: string[];
}

/**
 * Validates a parsed config document: env interpolation, schema, then the post-processing steps
 * (PORT from the environment, optional providers without a key dropped with their targets).
 *
 * @throws AgentError `LLM_EDGE_CONFIG_INVALID` (or `LLM_EDGE_CONFIG_ENV`) listing each bad field by path.
 * @example
 * const { config } = parseConfig({ providers: { sim: { type: 'simulator' } }, targets: [{ id: 'a', provider: 'sim', model: 'gpt-4o-mini' }] });
 */
export function parseConfig(document: unknown, env: Env = process.env, source = 'inline'): LoadedConfig {
  const interpolated = interpolateEnv(document ?? {}, env);
  const result = configSchema.safeParse(interpolated);
  if (!result.success) throw invalid(result.error.issues, source);
  return finish(result.data, env, source);
}

/** Reads a YAML or JSON config file and validates it with {@link parseConfig}. */
export async function loadConfigFile(file: string, env: Env = process.env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new AgentError('LLM_EDGE_CONFIG_READ', `Cannot read config file ${file}`, { cause });
  }
  return parseConfig(parseDocument(text, file), env, file);
}

/** Parses config text (YAML, which includes JSON), naming the file and line of a syntax error. */
export function parseDocument(text: string, file = 'config'): unknown {
  try {
    if (extname(file) === '.json') return JSON.parse(text);
    return parseYaml(text, { prettyErrors: true });
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new AgentError('LLM_EDGE_CONFIG_READ', `Cannot parse ${file}: ${detail}`, {
      cause,
      issues: [{ path: '', message: detail }],
    });
  }
}

function invalid(zodIssues: readonly z.core.$ZodIssue[], source: string): AgentError {
  const issues: ConfigIssue[] = zodIssues.map((issue) => {
    const base = formatPath(issue.path);
    // An unknown key is reported on its parent: name the key itself.
    if (issue.code === 'unrecognized_keys') {
      return {
        path: issue.keys.map((k) => (base === '' ? k : `${base}.${k}`)).join(', '),
        message: 'unknown field',
      };
    }
    return { path: base === '' ? '(root)' : base, message: issue.message };
  });
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  return new AgentError('LLM_EDGE_CONFIG_INVALID', `Invalid configuration (${source}):\n${lines}`, {
    issues,
  });
}

function finish(parsed: GatewayConfig, env: Env, source: string): LoadedConfig {
  const notices: string[] = [];
  const config: GatewayConfig = structuredClone(parsed);
  if (config.server.port === undefined) {
    const fromEnv = env.PORT === undefined || env.PORT === '' ? undefined : Number(env.PORT);
    if (fromEnv !== undefined && (!Number.isInteger(fromEnv) || fromEnv < 0 || fromEnv > 65_535)) {
      throw invalid(
        [
          {
            code: 'custom',
            path: ['server', 'port'],
            message: `PORT="${env.PORT}" is not a port number`,
            input: env.PORT,
          },
        ],
        source,
      );
    }
    config.server.port = fromEnv ?? 8080;
  }

  const tracing = config.telemetry.tracing;
  if (tracing.endpoint === undefined && tracing.exporter === 'otlp') {
    const endpoint = tracesEndpoint(env);
    if (!URL.canParse(endpoint)) {
      throw invalid(
        [
          {
            code: 'custom',
            path: ['telemetry', 'tracing', 'endpoint'],
            message: `"${endpoint}" (from the OTEL_EXPORTER_OTLP_* environment) is not a URL`,
            input: endpoint,
          },
        ],
        source,
      );
    }
    tracing.endpoint = endpoint;
  }

  const dropped = new Set<string>();
  for (const [name, provider] of Object.entries(config.providers)) {
    const needsKey = provider.type !== 'simulator' && provider.type !== 'openai-compatible';
    if (provider.optional && needsKey && provider.apiKey === undefined) {
      dropped.add(name);
      delete config.providers[name];
      notices.push(`provider "${name}" has no apiKey and is optional: skipped with its targets`);
    }
  }
  if (dropped.size > 0) {
    const droppedTargets = new Set(config.targets.filter((t) => dropped.has(t.provider)).map((t) => t.id));
    config.targets = config.targets.filter((t) => !droppedTargets.has(t.id));
    config.aliases = config.aliases
      .map((a) => ({ ...a, targets: a.targets.filter((t) => !droppedTargets.has(t)) }))
      .filter((a) => {
        if (a.targets.length > 0) return true;
        notices.push(`alias "${a.name}" has no target left: skipped`);
        return false;
      });
    if (config.targets.length === 0) {
      throw invalid(
        [
          {
            code: 'custom',
            path: ['targets'],
            message: 'no target left after skipping optional providers without a key',
            input: undefined,
          },
        ],
        source,
      );
    }
  }
  validated.add(config);
  return { config, source, notices };
}

/** Where spans go when `telemetry.tracing.exporter` is `otlp` and neither the config nor the environment names an endpoint. */
export const DEFAULT_OTLP_TRACES_ENDPOINT = 'http://127.0.0.1:4318/v1/traces';

/** The traces endpoint the OpenTelemetry environment variables name, as the OTLP exporter specification reads them. */
function tracesEndpoint(env: Env): string {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return `${base.replace(/\/+$/, '')}/v1/traces`;
  return DEFAULT_OTLP_TRACES_ENDPOINT;
}

/** The input type accepted by {@link parseConfig}, for programmatic configs. */
export type { GatewayConfigInput };
