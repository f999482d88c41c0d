// The gateway configurations the suite measures (written as JSON files for `llm-edge start`).

/** Which features a scenario turns on. */
export interface GatewayFeatures {
  /** The upstream's base URL. */
  upstreamUrl: string;
  /** `simulator`: the simulator's OpenAI surface; `openai-compatible`: any server at `<url>/v1`. */
  upstreamType: 'simulator' | 'openai-compatible';
  cache?: boolean;
  /** Redis URL for the L2 cache and the shared rate limits. */
  redisUrl?: string;
  redisPrefix?: string;
  /** Gateway key (plain) required on every request, with a requests-per-minute limit. */
  apiKey?: string;
  pii?: 'redact' | 'off';
  /** Requests-per-minute limit per client IP (a limit that is checked on every request). */
  anonymousRpm?: number;
  /** @default 'info' (one line per request) */
  logLevel?: 'info' | 'warn';
  /** Prometheus metrics. @default true */
  metrics?: boolean;
  /**
   * A second target, `warm` (the simulator's {@link WARM_MODEL} at this URL), that warm-up requests
   * address by that model name: a gateway in front of a slow upstream is warmed with fast requests
   * through the same code without touching the measured route.
   */
  warmUpstreamUrl?: string;
  /** An embeddings target, `embed` (the upstream's {@link EMBEDDINGS_MODEL}). */
  embeddings?: boolean;
}

/** The model every scenario calls (served by the simulator; ignored by the bare server). */
export const MODEL = 'gpt-4o-mini';

/** The embeddings model of the `embed` target (the simulator answers it with 1,536 dimensions). */
export const EMBEDDINGS_MODEL = 'text-embedding-3-small';

/** The model of the `warm` target (see {@link GatewayFeatures.warmUpstreamUrl}). */
export const WARM_MODEL = 'gpt-4o';

/** A gateway config document for `features`. */
export function gatewayConfig(f: GatewayFeatures): Record<string, unknown> {
  const provider =
    f.upstreamType === 'simulator'
      ? { type: 'simulator', api: 'openai', url: f.upstreamUrl, apiKey: 'sk-bench-upstream' }
      : { type: 'openai-compatible', baseURL: `${f.upstreamUrl}/v1`, apiKey: 'sk-bench-upstream' };
  const warm = f.warmUpstreamUrl;
  return {
    server: { host: '127.0.0.1' },
    providers: {
      upstream: provider,
      ...(warm ? { warm: { type: 'simulator', api: 'openai', url: warm, apiKey: 'sk-bench-upstream' } } : {}),
    },
    targets: [
      { id: 'mini', provider: 'upstream', model: MODEL },
      ...(warm ? [{ id: 'warm', provider: 'warm', model: WARM_MODEL }] : []),
      ...(f.embeddings ? [{ id: 'embed', provider: 'upstream', model: EMBEDDINGS_MODEL }] : []),
    ],
    routing: { retry: { maxRetries: 0 } },
    ...(f.redisUrl ? { redis: { url: f.redisUrl, keyPrefix: f.redisPrefix ?? 'llm-edge-bench:' } } : {}),
    cache: { enabled: f.cache === true, l2: f.redisUrl !== undefined },
    security: {
      auth: f.apiKey !== undefined,
      keys: f.apiKey ? [{ name: 'bench', key: f.apiKey, rpm: 1_000_000_000, tpm: 1_000_000_000 }] : [],
      ...(f.anonymousRpm ? { anonymous: { rpm: f.anonymousRpm } } : {}),
      pii: { mode: f.pii ?? 'off' },
    },
    telemetry: { logLevel: f.logLevel ?? 'info', metrics: f.metrics ?? true },
  };
}
