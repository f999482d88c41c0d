import type { LatencyProfile, SimulatorProvider } from './scenario';

/**
 * Builds a profile from a published median TTFT (s) and output speed (tokens/s): TTFT p99 = 5 × p50
 * (p95/p50 ≈ 3, inside the 3-6 range seen in public telemetry), ITL median = 1/speed, ITL p99 = 3 × median.
 */
function fromPublished(ttftSeconds: number, tokensPerSecond: number): LatencyProfile {
  const ttft = ttftSeconds * 1000;
  const itl = 1000 / tokensPerSecond;
  return {
    ttftMs: { p50: ttft, p99: ttft * 5 },
    itlMs: { p50: Math.round(itl * 100) / 100, p99: Math.round(itl * 300) / 100 },
  };
}

/**
 * Built-in latency profiles, from the public medians listed in the README (Artificial Analysis and
 * others, read 2024-2026). Keys match model ids exactly or as a prefix of a dated id.
 */
export const DEFAULT_PROFILES: Readonly<Record<string, LatencyProfile>> = {
  'gpt-4o-mini': fromPublished(0.72, 59),
  'gpt-4o': fromPublished(0.45, 131),
  'gpt-4.1-mini': fromPublished(0.93, 77.2),
  'gpt-4.1': fromPublished(0.93, 77.2),
  'gpt-5-mini': fromPublished(0.89, 80),
  'gpt-5': fromPublished(0.89, 80),
  'o3-mini': fromPublished(18.55, 132.1),
  'claude-sonnet-4-6': fromPublished(0.74, 104),
  'claude-sonnet-4-5': fromPublished(1.8, 63),
  'claude-3-5-sonnet': fromPublished(0.8, 80),
  'claude-haiku-4-5': fromPublished(0.6, 68),
  'claude-3-5-haiku': fromPublished(0.81, 68),
  'gemini-3-flash': fromPublished(0.5, 200),
  'gemini-2.5-flash': fromPublished(0.5, 204.5),
  'gemini-2.0-flash': fromPublished(0.41, 192),
  'gemini-1.5-flash': fromPublished(0.41, 192),
};

/** Used for any model without a profile of its own: a mid-sized hosted model. */
export const FALLBACK_PROFILE: LatencyProfile = fromPublished(0.8, 80);

/** Per-model concurrency when a profile does not say: generous, so queueing shows only under load tests. */
export const DEFAULT_CONCURRENCY = 256;
/** Queue length per model before requests are refused as overloaded. */
export const DEFAULT_MAX_QUEUE = 4096;

/** Models each surface lists and accepts without a scenario adding more. */
export const DEFAULT_MODELS: Readonly<Record<SimulatorProvider, readonly string[]>> = {
  openai: [
    'gpt-4o-mini',
    'gpt-4o',
    'gpt-4.1-mini',
    'gpt-4.1',
    'gpt-5-mini',
    'gpt-5',
    'o3-mini',
    'text-embedding-3-small',
    'text-embedding-3-large',
    'text-embedding-ada-002',
  ],
  anthropic: [
    'claude-opus-4-6',
    'claude-opus-4-5',
    'claude-sonnet-4-6',
    'claude-sonnet-4-5',
    'claude-sonnet-4-5-20250929',
    'claude-haiku-4-5',
    'claude-haiku-4-5-20251001',
    'claude-3-5-sonnet-latest',
    'claude-3-5-haiku-latest',
  ],
  gemini: [
    'gemini-3-flash',
    'gemini-2.5-flash',
    'gemini-2.5-pro',
    'gemini-2.0-flash',
    'gemini-1.5-flash',
    'text-embedding-004',
    'gemini-embedding-001',
  ],
};

/** Embedding width per embedding model (used when the request does not ask for fewer dimensions). */
export const EMBEDDING_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'text-embedding-004': 768,
  'gemini-embedding-001': 3072,
};

/** Named latency presets for the CLI's `--profile`. */
export const PROFILE_PRESETS = ['realistic', 'instant', 'fast', 'degraded'] as const;
/** One of {@link PROFILE_PRESETS}. */
export type ProfilePreset = (typeof PROFILE_PRESETS)[number];
