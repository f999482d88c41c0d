import type { GatewayConfigInput } from './config-schema';

/** Model names the default config exposes, per simulated provider. */
export const DEFAULT_MODELS: Readonly<Record<'openai' | 'anthropic' | 'gemini', readonly string[]>> =
  Object.freeze({
    openai: [
      'gpt-4o-mini',
      'gpt-4o',
      'gpt-4.1-mini',
      'gpt-4.1',
      'gpt-5-mini',
      'gpt-5',
      'text-embedding-3-small',
      'text-embedding-3-large',
    ],
    anthropic: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-sonnet-4-6'],
    gemini: ['gemini-2.5-flash', 'gemini-2.0-flash', 'gemini-2.5-pro'],
  });

/**
 * The configuration used when none is given: the simulator runs in-process as the upstream for
 * OpenAI, Anthropic and Gemini model names (clients send the bare model name, e.g. `gpt-4o-mini`,
 * or `openai/gpt-4o-mini`), an alias `default` that fails over across the three, L1 cache only
 * (a config file adds Redis with `redis.url: ${REDIS_URL}`), and one development key generated at start.
 */
export function defaultConfigDocument(
  env: Readonly<Record<string, string | undefined>> = process.env,
): GatewayConfigInput {
  const targets: { id: string; provider: string; model: string }[] = [];
  for (const [provider, models] of Object.entries(DEFAULT_MODELS)) {
    for (const model of models) targets.push({ id: `${provider}/${model}`, provider, model });
  }
  const aliases = [
    {
      name: 'default',
      targets: ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5', 'gemini/gemini-2.5-flash'],
    },
  ];
  return {
    server: {
      ...(env.HOST ? { host: env.HOST } : {}),
    },
    simulator: {
      ...(env.LLM_EDGE_SIMULATOR_TIME_SCALE ? { timeScale: env.LLM_EDGE_SIMULATOR_TIME_SCALE } : {}),
    },
    providers: {
      openai: { type: 'simulator', api: 'openai' },
      anthropic: { type: 'simulator', api: 'anthropic' },
      gemini: { type: 'simulator', api: 'gemini' },
    },
    targets,
    aliases,
    telemetry: {
      ...(env.LOG_LEVEL ? { logLevel: env.LOG_LEVEL } : {}),
    },
  } as GatewayConfigInput;
}
