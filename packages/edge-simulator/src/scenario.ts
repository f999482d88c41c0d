import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SimulatorError, type SimulatorIssue } from './errors';

/** The wire formats the simulator speaks. */
export const PROVIDERS = ['openai', 'anthropic', 'gemini'] as const;

/** One of the wire formats the simulator speaks. */
export type SimulatorProvider = (typeof PROVIDERS)[number];

/** The fault kinds the simulator can inject. */
export const FAULT_KINDS = [
  'error',
  'rate_limit',
  'server_error',
  'unavailable',
  'overloaded',
  'hang',
  'reset',
  'disconnect',
  'malformed_sse',
  'trickle',
  'stream_error',
] as const;

/** A fault the simulator can inject (see the README's fault table). */
export type FaultKind = (typeof FAULT_KINDS)[number];

const regexCache = new Map<string, RegExp>();

/** Compiles a scenario regex: a plain pattern, or `/pattern/flags` to pass flags (e.g. `/weather/i`). */
export function compileRegex(text: string): RegExp {
  let regex = regexCache.get(text);
  if (!regex) {
    const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(text);
    regex = literal ? new RegExp(literal[1]!, literal[2]!.replace('g', '')) : new RegExp(text);
    regexCache.set(text, regex);
  }
  return regex;
}

const regexString = z.string().refine(
  (value) => {
    try {
      compileRegex(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a valid regular expression (a pattern, or /pattern/flags)' },
);

const matchSchema = z.strictObject({
  provider: z.enum(PROVIDERS).optional(),
  model: z.string().min(1).optional(),
  lastUserMessage: regexString.optional(),
  apiKey: z.string().min(1).optional(),
});

const percentilesSchema = z
  .strictObject({
    p50: z.number().nonnegative(),
    p99: z.number().nonnegative(),
  })
  .refine((value) => value.p99 >= value.p50, { message: 'p99 must be >= p50', path: ['p99'] });

const profileSchema = z.strictObject({
  ttftMs: percentilesSchema,
  itlMs: percentilesSchema,
  concurrency: z.number().int().positive().optional(),
  maxQueue: z.number().int().nonnegative().optional(),
});

const toolCallSchema = z.strictObject({
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
});

const replySchema = z
  .strictObject({
    match: matchSchema.default({}),
    text: z.string().optional(),
    toolCalls: z.array(toolCallSchema).min(1).optional(),
    finishReason: z.enum(['stop', 'length', 'content_filter']).optional(),
    times: z.number().int().positive().optional(),
  })
  .refine((value) => value.text !== undefined || value.toolCalls !== undefined, {
    message: 'a reply needs "text" or "toolCalls"',
    path: ['text'],
  });

const faultSchema = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  match: matchSchema.omit({ lastUserMessage: true }).default({}),
  probability: z.number().min(0).max(1).default(1),
  count: z.number().int().positive().optional(),
  skip: z.number().int().nonnegative().default(0),
  status: z.number().int().min(400).max(599).optional(),
  message: z.string().optional(),
  retryAfterSeconds: z.number().nonnegative().optional(),
  retryAfterMs: z.number().int().nonnegative().optional(),
  errorType: z.string().min(1).optional(),
  errorCode: z.string().min(1).optional(),
  param: z.string().min(1).optional(),
  errorDetails: z.record(z.string(), z.unknown()).optional(),
  afterChunks: z.number().int().nonnegative().optional(),
  intervalMs: z.number().nonnegative().optional(),
  hangMs: z.number().nonnegative().optional(),
});

const limitsSchema = z.strictObject({
  requestsPerMinute: z.number().int().positive().optional(),
  tokensPerMinute: z.number().int().positive().optional(),
});

const lengthSchema = z
  .strictObject({
    min: z.number().int().nonnegative(),
    max: z.number().int().nonnegative(),
  })
  .refine((value) => value.max >= value.min, { message: 'max must be >= min', path: ['max'] });

/** The zod schema of a scenario; `parseScenario` applies it and names the bad field on failure. */
export const scenarioSchema = z.strictObject({
  content: z
    .strictObject({
      mode: z.enum(['lorem', 'echo']).default('lorem'),
      length: lengthSchema.default({ min: 16, max: 64 }),
    })
    .default({ mode: 'lorem', length: { min: 16, max: 64 } }),
  replies: z.array(replySchema).default([]),
  faults: z.array(faultSchema).default([]),
  profiles: z.record(z.string().min(1), profileSchema).default({}),
  defaultProfile: profileSchema.optional(),
  rateLimits: z
    .strictObject({
      default: limitsSchema.optional(),
      keys: z.record(z.string().min(1), limitsSchema).default({}),
    })
    .optional(),
  models: z
    .strictObject({
      openai: z.array(z.string().min(1)).default([]),
      anthropic: z.array(z.string().min(1)).default([]),
      gemini: z.array(z.string().min(1)).default([]),
    })
    .default({ openai: [], anthropic: [], gemini: [] }),
  acceptUnknownModels: z.boolean().default(false),
});

/** A scenario as written by a user (JSON/YAML or object); every field is optional. */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario with defaults applied. */
export type Scenario = z.output<typeof scenarioSchema>;
/** Which requests a rule applies to; every given field must match. */
export type ScenarioMatch = z.output<typeof matchSchema>;
/** A latency profile: TTFT and inter-token latency percentiles, concurrency and queue. */
export type LatencyProfile = z.output<typeof profileSchema>;
/** A scripted reply. */
export type ScriptedReply = z.output<typeof replySchema>;
/** A fault rule. */
export type FaultRule = z.output<typeof faultSchema>;
/** A fault rule as written (defaults not yet applied). */
export type FaultRuleInput = z.input<typeof faultSchema>;
/** A scripted reply as written. */
export type ScriptedReplyInput = z.input<typeof replySchema>;
/** Requests- and tokens-per-minute limits. */
export type RateLimits = z.output<typeof limitsSchema>;

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((part) => String(part)).join('.');
}

/**
 * Validates a scenario object and applies defaults.
 * @throws SimulatorError `LLM_EDGE_SIM_INVALID_SCENARIO` whose message and `issues` name each bad field.
 * @example
 * const scenario = parseScenario({ faults: [{ kind: 'unavailable', match: { model: 'gpt-4o-mini' }, count: 3 }] });
 */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues: SimulatorIssue[] = result.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  throw new SimulatorError('LLM_EDGE_SIM_INVALID_SCENARIO', `invalid ${source}: ${summary}`, {
    cause: result.error,
    issues,
  });
}

/**
 * Reads a scenario from a JSON or YAML file (by extension; YAML also accepts JSON) and validates it.
 * @throws SimulatorError `LLM_EDGE_SIM_SCENARIO_FILE` when the file cannot be read or parsed,
 *   `LLM_EDGE_SIM_INVALID_SCENARIO` when a field is wrong.
 */
export async function loadScenarioFile(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SimulatorError('LLM_EDGE_SIM_SCENARIO_FILE', `cannot read scenario file ${path}`, {
      cause: error,
    });
  }
  return parseScenarioText(text, path);
}

/** Parses scenario text (JSON when `name` ends in .json, else YAML) and validates it. */
export function parseScenarioText(text: string, name = 'scenario.yaml'): Scenario {
  let data: unknown;
  try {
    data = name.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SimulatorError('LLM_EDGE_SIM_SCENARIO_FILE', `cannot parse scenario file ${name}`, {
      cause: error,
    });
  }
  return parseScenario(data, `scenario file ${name}`);
}
