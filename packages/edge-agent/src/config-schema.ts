import { z } from 'zod';

// Values that came through `${VAR}` interpolation are strings: accept numeric and boolean text.
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );
const num = (min: number, max = Number.MAX_VALUE) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v),
    z.number().min(min).max(max),
  );
const bool = () =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === '1' || t === 'yes' || t === 'on') return true;
    if (t === 'false' || t === '0' || t === 'no' || t === 'off') return false;
    return v;
  }, z.boolean());
const nonEmpty = () => z.string().trim().min(1, 'must not be empty');

/** Routes of the gateway that a per-route setting (cache, PII mode) can name. */
export const ROUTES = ['chat', 'messages', 'embeddings'] as const;
/** One of {@link ROUTES}. */
export type RouteName = (typeof ROUTES)[number];

/** What to do with personal data found in an outgoing request. */
export const PII_MODES = ['redact', 'block', 'detect', 'off'] as const;
/** One of {@link PII_MODES}. */
export type PiiMode = (typeof PII_MODES)[number];

/** How the response cache is shared between gateway keys. */
export const CACHE_PARTITIONS = ['key', 'shared'] as const;

/** Routing strategies an alias can use. */
export const STRATEGIES = [
  'priority',
  'weighted',
  'round-robin',
  'least-latency',
  'least-busy',
  'cheapest',
] as const;

const timeoutsSchema = z.strictObject({
  connectMs: int(1).optional(),
  firstByteMs: int(1).optional(),
  idleMs: int(1).optional(),
});

const providerCommon = {
  /** Extra headers sent upstream on every call. */
  headers: z.record(z.string(), z.string()).optional(),
  timeouts: timeoutsSchema.optional(),
  /** Drop this provider (and the targets and alias entries using it) when its key is absent. */
  optional: bool().default(false),
};

const providerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('openai'),
    apiKey: nonEmpty().optional(),
    baseURL: z.url().optional(),
    organization: z.string().optional(),
    ...providerCommon,
  }),
  z.strictObject({
    type: z.literal('openai-compatible'),
    apiKey: nonEmpty().optional(),
    baseURL: z.url(),
    ...providerCommon,
  }),
  z.strictObject({
    type: z.literal('azure-openai'),
    apiKey: nonEmpty().optional(),
    baseURL: z.url(),
    apiVersion: z.string().optional(),
    ...providerCommon,
  }),
  z.strictObject({
    type: z.literal('anthropic'),
    apiKey: nonEmpty().optional(),
    baseURL: z.url().optional(),
    ...providerCommon,
  }),
  z.strictObject({
    type: z.literal('gemini'),
    apiKey: nonEmpty().optional(),
    baseURL: z.url().optional(),
    ...providerCommon,
  }),
  z.strictObject({
    type: z.literal('simulator'),
    /** Which wire format of the simulator this provider speaks. */
    api: z.enum(['openai', 'anthropic', 'gemini']).default('openai'),
    /** An already running simulator; absent = the in-process one (see `simulator`). */
    url: z.url().optional(),
    apiKey: nonEmpty().optional(),
    ...providerCommon,
  }),
]);

const targetSchema = z.strictObject({
  id: nonEmpty(),
  provider: nonEmpty(),
  model: nonEmpty(),
  weight: num(0).optional(),
  priority: int(0).optional(),
  /** Overrides the model catalogue's context window (context-length failover, validation). */
  contextWindow: int(1).optional(),
  /** Overrides the catalogue's input + output price per million tokens (`cheapest` strategy). */
  usdPerMTok: num(0).optional(),
});

const aliasSchema = z.strictObject({
  name: nonEmpty(),
  targets: z.array(nonEmpty()).min(1, 'an alias needs at least one target'),
  strategy: z.enum(STRATEGIES).default('priority'),
  hedgeDelayMs: int(0).optional(),
});

const routingSchema = z
  .strictObject({
    /** Accept `provider/model` for models no target configures. */
    allowDirect: bool().default(true),
    /** Strategy of routes that are not aliases (a target id, `provider/model`, a bare model name). */
    defaultStrategy: z.enum(STRATEGIES).default('priority'),
    retry: z
      .strictObject({
        /** Extra passes over a route's targets once every one failed (0 = none). */
        maxRetries: int(0, 10).default(1),
        baseDelayMs: int(0).default(100),
        maxDelayMs: int(0).default(2_000),
      })
      .prefault({}),
    hedge: z
      .strictObject({
        /** Start the next target when the first has not answered after this many ms (unset = no hedging). */
        delayMs: int(1).optional(),
        maxHedges: int(1, 5).default(1),
      })
      .prefault({}),
    breaker: z
      .strictObject({
        consecutiveFailures: int(0).default(5),
        halfOpenAfterMs: int(1).default(30_000),
        maxHalfOpenAfterMs: int(1).default(300_000),
      })
      .prefault({}),
    cooldown: z
      .strictObject({
        defaultMs: int(1).default(1_000),
        maxMs: int(1).default(60_000),
      })
      .prefault({}),
  })
  .prefault({});

const keySchema = z
  .strictObject({
    name: nonEmpty(),
    /** `sha256:<hex>` of the key, as printed by `llm-edge hash-key` (the key itself is never stored). */
    hash: nonEmpty().optional(),
    /** Plain key, typically `${MY_GATEWAY_KEY}`; hashed at load and then forgotten. */
    key: nonEmpty().optional(),
    /** Models or aliases this key may call; absent = all. */
    models: z.array(nonEmpty()).optional(),
    rpm: int(1).optional(),
    tpm: int(1).optional(),
    budgetUsd: num(0).optional(),
    budgetPeriod: z.enum(['day', 'month', 'total']).optional(),
    disabled: bool().optional(),
  })
  .superRefine((k, ctx) => {
    if (k.hash === undefined && k.key === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: 'required: set `hash` or `key` (a `${VAR}` whose variable is unset counts as absent)',
      });
    } else if (k.hash !== undefined && k.key !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['hash'], message: 'set only one of `hash` or `key`' });
    }
  });

const piiModeSchema = z.enum(PII_MODES);

const server = z
  .strictObject({
    host: nonEmpty().default('127.0.0.1'),
    port: int(0, 65_535).optional(),
    tls: z.strictObject({ cert: nonEmpty(), key: nonEmpty() }).optional(),
    timeouts: z
      .strictObject({
        /** Longest time to receive a request's headers (408). */
        headersMs: int(1).default(10_000),
        /** Longest time to receive a whole request (408). */
        requestMs: int(1).default(60_000),
        /** Longest time without progress while answering (504 or a final stream error event). */
        idleMs: int(1).default(300_000),
        /** How long an idle keep-alive connection stays open. */
        keepAliveMs: int(1).default(72_000),
      })
      .prefault({}),
    bodyLimitBytes: int(1_024).default(10 * 1024 * 1024),
    shutdownDeadlineMs: int(1).default(10_000),
    /** Trust X-Forwarded-For: true, or the proxies' addresses/CIDRs. */
    trustProxy: z.union([bool(), z.string(), z.array(z.string())]).default(false),
  })
  .prefault({});

/** The whole configuration document, validated once at start. */
export const configSchema = z
  .strictObject({
    server,
    simulator: z
      .strictObject({
        port: int(0, 65_535).default(0),
        seed: int(0).default(1),
        /** 0 = no latency, 1 = the providers' real latency profiles. */
        timeScale: num(0, 100).default(0.1),
      })
      .prefault({}),
    providers: z.record(nonEmpty(), providerSchema).refine((p) => Object.keys(p).length > 0, {
      message: 'at least one provider is required',
    }),
    targets: z.array(targetSchema).min(1, 'at least one target is required'),
    aliases: z.array(aliasSchema).default([]),
    routing: routingSchema,
    redis: z
      .strictObject({
        url: z
          .string()
          .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
          .optional(),
        keyPrefix: z.string().default('llm-edge:'),
        connectTimeoutMs: int(1).default(2_000),
      })
      .prefault({}),
    cache: z
      .strictObject({
        enabled: bool().default(true),
        l1: z
          .strictObject({
            maxEntries: int(1).default(10_000),
            maxBytes: int(1_024).default(64 * 1024 * 1024),
          })
          .prefault({}),
        /** Use Redis (see `redis.url`) as the shared second layer. */
        l2: bool().default(true),
        ttlSeconds: int(1).default(3_600),
        routes: z.array(z.enum(ROUTES)).default([...ROUTES]),
        /**
         * `key`: each gateway key has its own entries, so a HIT never tells one key what another
         * sent; `shared`: one cache for every key (only for keys that trust each other).
         */
        partition: z.enum(CACHE_PARTITIONS).default('key'),
      })
      .prefault({}),
    security: z
      .strictObject({
        /** Require a gateway key on every model route (off: limits apply per client IP). */
        auth: bool().default(true),
        keys: z.array(keySchema).default([]),
        /** Server secret for `hmac-sha256:` key hashes. */
        hashSecret: nonEmpty().optional(),
        /** Limits per client IP when `auth` is off. */
        anonymous: z
          .strictObject({
            rpm: int(1).optional(),
            tpm: int(1).optional(),
          })
          .prefault({}),
        /** Limits for keys that set none of their own. */
        defaults: z
          .strictObject({
            rpm: int(1).optional(),
            tpm: int(1).optional(),
          })
          .prefault({}),
        pii: z
          .strictObject({
            mode: piiModeSchema.default('redact'),
            routes: z.partialRecord(z.enum(ROUTES), piiModeSchema).default({}),
            kinds: z
              .array(z.enum(['email', 'phone', 'credit_card', 'us_ssn', 'iban', 'ip_address', 'secret']))
              .optional(),
          })
          .prefault({}),
        limits: z
          .strictObject({
            maxMessages: int(1).default(1_000),
            maxTotalChars: int(1).default(1_000_000),
            maxTools: int(1).default(128),
            maxN: int(1).default(16),
          })
          .prefault({}),
      })
      .prefault({}),
    telemetry: z
      .strictObject({
        logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Serve `GET /metrics` and collect process metrics. */
        metrics: bool().default(true),
        tracing: z
          .strictObject({
            /** `otlp`: export spans over OTLP/HTTP (JSON); `none`: spans go to whatever SDK the process registered, if any. */
            exporter: z.enum(['otlp', 'none']).default('none'),
            /** Traces endpoint; unset = `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, or the local collector. */
            endpoint: z.url().optional(),
            /** Extra request headers for the collector (e.g. an API key: interpolate it, it is masked when printed). */
            headers: z.record(z.string(), z.string()).default({}),
            serviceName: nonEmpty().default('llm-edge'),
            /** Share of new traces recorded (a client's sampled `traceparent` is always followed). */
            sampleRatio: num(0, 1).default(1),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const providerNames = new Set(Object.keys(config.providers));
    const targetIds = new Set<string>();
    config.targets.forEach((target, index) => {
      if (targetIds.has(target.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['targets', index, 'id'],
          message: `duplicate target id "${target.id}"`,
        });
      }
      targetIds.add(target.id);
      if (!providerNames.has(target.provider)) {
        ctx.addIssue({
          code: 'custom',
          path: ['targets', index, 'provider'],
          message: `unknown provider "${target.provider}" (configured: ${[...providerNames].join(', ')})`,
        });
      }
    });
    const aliasNames = new Set<string>();
    config.aliases.forEach((alias, index) => {
      if (aliasNames.has(alias.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['aliases', index, 'name'],
          message: `duplicate alias "${alias.name}"`,
        });
      }
      aliasNames.add(alias.name);
      alias.targets.forEach((id, t) => {
        if (!targetIds.has(id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['aliases', index, 'targets', t],
            message: `unknown target "${id}"`,
          });
        }
      });
    });
    for (const [name, provider] of Object.entries(config.providers)) {
      const needsKey = provider.type !== 'simulator' && provider.type !== 'openai-compatible';
      if (needsKey && provider.apiKey === undefined && !provider.optional) {
        ctx.addIssue({
          code: 'custom',
          path: ['providers', name, 'apiKey'],
          message: 'required (set it, e.g. `${OPENAI_API_KEY}`, or mark the provider `optional: true`)',
        });
      }
    }
    const keyNames = new Set<string>();
    config.security.keys.forEach((key, index) => {
      if (keyNames.has(key.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['security', 'keys', index, 'name'],
          message: `duplicate key name`,
        });
      }
      keyNames.add(key.name);
    });
  });

/** The configuration document as written (before defaults). */
export type GatewayConfigInput = z.input<typeof configSchema>;
/** The validated configuration with every default filled in. */
export type GatewayConfig = z.output<typeof configSchema>;
/** One provider entry of {@link GatewayConfig}. */
export type ProviderConfig = GatewayConfig['providers'][string];
/** One target entry of {@link GatewayConfig}. */
export type TargetConfigEntry = GatewayConfig['targets'][number];
/** One alias entry of {@link GatewayConfig}. */
export type AliasConfigEntry = GatewayConfig['aliases'][number];
/** One gateway key entry of {@link GatewayConfig}. */
export type KeyConfigEntry = GatewayConfig['security']['keys'][number];
