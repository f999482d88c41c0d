import { createHash } from 'node:crypto';
import type { Cache, CacheKeyGenerator, CacheSource } from '@llm-edge/cache';
import type { CacheStatus, GatewayMetrics, GenAiTracing, SpanHandle } from '@llm-edge/monitoring';
import {
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  priceUsage,
  toValidationIssues,
  type Usage,
  upstreamJsonText,
} from '@llm-edge/providers';
import type { HandlerResult, ProxyContext, ProxyHandlers, ReadinessReport } from '@llm-edge/proxy';
import {
  type AttemptEvent,
  type ResolvedRoute,
  type Router,
  RoutingError,
  type TargetInfo,
} from '@llm-edge/routing';
import {
  type Admission,
  type ApiKeyRecord,
  BudgetExceededError,
  PiiBlockedError,
  type PiiFindings,
  type PiiRequestResult,
  RateLimitError,
  type RateLimitSubject,
  RequestValidationError,
  rateLimitHeaders,
  type SecurityGuard,
  type SettleInput,
} from '@llm-edge/security';
import {
  type AnthropicMessagesRequest,
  AnthropicStreamTranslator,
  anthropicMessagesRequestSchema,
  translateAnthropicRequest,
  unifiedToAnthropic,
} from './anthropic-client-format';
import type { AttemptTracer } from './attempt-tracing';
import { assembleChatResponse, responseToChunks } from './chat-assembly';
import type { GatewayConfig, PiiMode, RouteName } from './config-schema';

/**
 * What the gateway stores in the response cache: the answer and the target that gave it. Version 2
 * holds the answer serialised (`b`) with its usage beside it (`u`), so an OpenAI-shape hit is sent
 * byte for byte without being parsed into objects and serialised again. Version 1 (the answer as
 * an object) is still read: stream recordings of older gateways sharing the L2 cache write it.
 */
interface CachedChatV1 {
  v: 1;
  r: ChatResponse;
  t: TargetInfo;
}
interface CachedChatV2 {
  v: 2;
  t: TargetInfo;
  u: Usage | null;
  /** The `ChatResponse` as JSON. */
  b: string;
}
type CachedChat = CachedChatV1 | CachedChatV2;
interface CachedEmbeddingsV1 {
  v: 1;
  e: EmbeddingsResponse;
  t: TargetInfo;
}
interface CachedEmbeddingsV2 {
  v: 2;
  t: TargetInfo;
  u: EmbeddingsResponse['usage'];
  /** The `EmbeddingsResponse` as JSON. */
  b: string;
}
type CachedEmbeddings = CachedEmbeddingsV1 | CachedEmbeddingsV2;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isTextEntry(value: Record<string, unknown>): boolean {
  return value['v'] === 2 && typeof value['b'] === 'string' && isRecord(value['t']) && 'u' in value;
}

function isCachedChat(value: unknown): value is CachedChat {
  if (!isRecord(value)) return false;
  return (value['v'] === 1 && isRecord(value['r']) && isRecord(value['t'])) || isTextEntry(value);
}

function isCachedEmbeddings(value: unknown): value is CachedEmbeddings {
  if (!isRecord(value)) return false;
  return (value['v'] === 1 && isRecord(value['e']) && isRecord(value['t'])) || isTextEntry(value);
}

/** The cache entry of a chat answer. */
function chatEntry(response: ChatResponse, target: TargetInfo): CachedChatV2 {
  return {
    v: 2,
    t: target,
    u: response.usage ?? null,
    b: answerText(response),
  };
}

/**
 * An answer as JSON text: the upstream's own bytes when the provider passed the answer through
 * unchanged (saving a second serialisation, the larger the answer the more), else serialised.
 */
function answerText(response: ChatResponse | EmbeddingsResponse): string {
  return upstreamJsonText(response) ?? JSON.stringify(response);
}

/** An answer for an OpenAI-format client, as the upstream's own bytes where there are any. */
function upstreamAnswer(response: ChatResponse | EmbeddingsResponse): HandlerResult {
  const text = upstreamJsonText(response);
  return text === undefined ? { kind: 'json', body: response } : { kind: 'json-text', text };
}

/** The chat answer of a cache entry, as an object (for translation or replay as a stream). */
function chatResponseOf(entry: CachedChat): ChatResponse {
  return entry.v === 1 ? entry.r : (JSON.parse(entry.b) as ChatResponse);
}

/** Everything the pipeline runs on; built once by the gateway. */
export interface PipelineDeps {
  config: GatewayConfig;
  router: Router;
  guard: SecurityGuard;
  /** Undefined when caching is off. */
  cache: Cache | undefined;
  cacheKey: CacheKeyGenerator;
  metrics: GatewayMetrics;
  tracing: GenAiTracing;
  /** Starts one GenAI client span per upstream attempt of the routed calls run through it. */
  attempts: AttemptTracer;
  readiness: () => ReadinessReport | Promise<ReadinessReport>;
  /** Epoch seconds reported as `created` in the models list. */
  startedAt: number;
}

/** Who is calling: the key (when authentication is on) and the subject its limits count against. */
interface Caller {
  key?: ApiKeyRecord;
  subject: RateLimitSubject;
}

/**
 * The admitted state of one request, carried from the security stages to accounting; it is the
 * `Admission` that `SecurityGuard.settle` takes, plus the route the model resolved to.
 */
interface Admitted<T> extends Admission<T> {
  route: ResolvedRoute;
}

/** A request kind's validation and PII steps, so that chat and embeddings share one admission. */
interface AdmitSteps<T> {
  route: RouteName;
  validate(): { request: T; estimate: () => number };
  scan(request: T, mode: Exclude<PiiMode, 'off'>): PiiRequestResult<T>;
}

type Ctx = ProxyContext<Record<string, unknown>>;

const HIT_SOURCES: ReadonlySet<CacheSource> = new Set(['l1', 'l2']);
const NO_PII: PiiFindings = Object.freeze({ total: 0, counts: Object.freeze({}) });
/** Characters a cache namespace may hold (see `@llm-edge/cache`'s key generator). */
const NAMESPACE_SAFE = /^[A-Za-z0-9_.:@/+=-]{1,100}$/;

function cacheStatus(source: CacheSource): CacheStatus {
  return HIT_SOURCES.has(source) ? 'HIT' : 'MISS';
}

/** The body size as the proxy received it, so validation need not serialise the parsed body again. */
function bodySize(ctx: Ctx): { bodyBytes?: number } {
  return ctx.bodyBytes === undefined ? {} : { bodyBytes: ctx.bodyBytes };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The request pipeline of DESIGN.md behind the proxy's handler contract: authenticate → validate →
 * model permission → PII → budget → rate limit → cache (L1 → L2, single-flight) → route → account
 * → respond. One span per stage and one GenAI client span per upstream attempt; the proxy writes
 * the log line and request metrics from the annotations made here.
 */
export class Pipeline {
  readonly #deps: PipelineDeps;
  readonly #cachedRoutes: ReadonlySet<RouteName>;
  readonly #ttlMs: number;
  readonly #sharedCache: boolean;
  /** Cache namespace suffix of each key name (`key=<name>`, or a hash of a name the namespace cannot hold). */
  /**
   * The cache namespaces of each key name, by request kind, built once: a namespace made anew per
   * request was a string to build and to check against the namespace pattern on every lookup.
   */
  readonly #keyNamespaces = new Map<string | undefined, { chat: string; embeddings: string }>();
  /** Target of each recent stream load by cache key, for callers that joined it (coalesced). */
  readonly #streamTargets = new Map<string, TargetInfo>();

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.#cachedRoutes = new Set(deps.config.cache.enabled && deps.cache ? deps.config.cache.routes : []);
    this.#ttlMs = deps.config.cache.ttlSeconds * 1000;
    this.#sharedCache = deps.config.cache.partition === 'shared';
  }

  /** The handlers the proxy calls. */
  handlers(): ProxyHandlers {
    return {
      chatCompletions: (ctx) => this.chat(ctx, ctx.body, undefined),
      anthropicMessages: (ctx) => this.anthropicMessages(ctx),
      embeddings: (ctx) => this.embeddings(ctx),
      models: (ctx) => this.models(ctx),
      readiness: () => this.#deps.readiness(),
    };
  }

  async anthropicMessages(ctx: Ctx): Promise<HandlerResult> {
    // Authenticate before looking at the body, as on the OpenAI route.
    const caller = await this.#authenticate(ctx);
    const { anthropic, translation } = await this.#stage(ctx, 'translate', () => {
      const parsed = anthropicMessagesRequestSchema.safeParse(ctx.body);
      if (!parsed.success) {
        throw new RequestValidationError('LLM_EDGE_INVALID_REQUEST', toValidationIssues(parsed.error), {
          cause: parsed.error,
        });
      }
      return { anthropic: parsed.data, translation: translateAnthropicRequest(parsed.data) };
    });
    try {
      return await this.chat(ctx, translation.request, anthropic, caller);
    } catch (error) {
      // Validation and routing errors name unified fields: answer with the field the client sent.
      throw translation.clientError(error);
    }
  }

  async chat(
    ctx: Ctx,
    body: unknown,
    anthropic: AnthropicMessagesRequest | undefined,
    authenticated?: Caller,
  ): Promise<HandlerResult> {
    const caller = authenticated ?? (await this.#authenticate(ctx));
    const guard = this.#deps.guard;
    const admitted = await this.#admit(ctx, caller, {
      route: anthropic ? 'messages' : 'chat',
      validate: () => {
        const validated = guard.validator.validateChat(body, bodySize(ctx));
        // Tokenizing the prompt is paid for only when the key has a tokens limit.
        return { request: validated.request, estimate: () => validated.tokens.totalTokens };
      },
      scan: (request, mode) => guard.pii.applyToChatRequest(request, mode),
    });
    const request = admitted.request;
    const stream = request.stream === true;
    ctx.annotate({ stream });

    const cache = this.#cacheFor(ctx, anthropic ? 'messages' : 'chat');
    if (stream) {
      const includeUsage = anthropic ? true : request.stream_options?.include_usage === true;
      const { chunks, target, source } = await this.#openStream(ctx, admitted, cache);
      this.#annotateTarget(ctx, target, source);
      const events = anthropic
        ? this.#anthropicEvents(ctx, chunks, anthropic, target, source, admitted)
        : this.#openAiEvents(ctx, chunks, includeUsage, target, source, admitted);
      return { kind: 'sse', events, done: !anthropic };
    }

    if (cache === undefined) {
      const result = await this.#route(ctx, admitted, ctx.signal, (options) =>
        this.#deps.router.chat(request, options),
      );
      this.#annotateTarget(ctx, result.target, undefined);
      this.#account(ctx, admitted, result.target, result.response.usage, undefined);
      if (anthropic) return { kind: 'json', body: unifiedToAnthropic(result.response, anthropic.model) };
      return upstreamAnswer(result.response);
    }
    // Set by this caller's own load: only a finished answer is cached.
    let finished = false;
    const { value, source } = await this.#lookup(
      ctx,
      cache,
      () => this.#cacheKey(admitted, 'chat'),
      async (signal): Promise<CachedChat> => {
        const result = await this.#route(ctx, admitted, signal, (options) =>
          this.#deps.router.chat(request, options),
        );
        finished = result.response.choices.every((c) => c.finish_reason !== null);
        return chatEntry(result.response, result.target);
      },
      isCachedChat,
      () => finished,
    );
    this.#annotateTarget(ctx, value.t, source);
    this.#account(ctx, admitted, value.t, value.v === 1 ? value.r.usage : value.u, source);
    if (anthropic) {
      return { kind: 'json', body: unifiedToAnthropic(chatResponseOf(value), anthropic.model) };
    }
    return value.v === 1 ? { kind: 'json', body: value.r } : { kind: 'json-text', text: value.b };
  }

  async embeddings(ctx: Ctx): Promise<HandlerResult> {
    const caller = await this.#authenticate(ctx);
    const guard = this.#deps.guard;
    const admitted = await this.#admit(ctx, caller, {
      route: 'embeddings',
      validate: () => {
        const validated = guard.validator.validateEmbeddings(ctx.body, bodySize(ctx));
        return { request: validated.request, estimate: () => validated.tokens };
      },
      scan: (request, mode) => guard.pii.applyToEmbeddingsRequest(request, mode),
    });
    const request = admitted.request;
    const cache = this.#cacheFor(ctx, 'embeddings');
    if (cache === undefined) {
      const result = await this.#route(ctx, admitted, ctx.signal, (options) =>
        this.#deps.router.embeddings(request, options),
      );
      this.#annotateTarget(ctx, result.target, undefined);
      this.#accountEmbeddings(ctx, admitted, result.target, result.response.usage, undefined);
      return upstreamAnswer(result.response);
    }
    const { value, source } = await this.#lookup(
      ctx,
      cache,
      () => this.#cacheKey(admitted, 'embeddings'),
      async (signal): Promise<CachedEmbeddings> => {
        const result = await this.#route(ctx, admitted, signal, (options) =>
          this.#deps.router.embeddings(request, options),
        );
        const response = result.response;
        return {
          v: 2,
          t: result.target,
          u: response.usage,
          b: answerText(response),
        };
      },
      isCachedEmbeddings,
    );
    this.#annotateTarget(ctx, value.t, source);
    this.#accountEmbeddings(ctx, admitted, value.t, value.v === 1 ? value.e.usage : value.u, source);
    return value.v === 1 ? { kind: 'json', body: value.e } : { kind: 'json-text', text: value.b };
  }

  #accountEmbeddings(
    ctx: Ctx,
    admitted: Admitted<unknown>,
    target: TargetInfo,
    usage: EmbeddingsResponse['usage'],
    source: CacheSource | undefined,
  ): void {
    this.#account(
      ctx,
      admitted,
      target,
      { prompt_tokens: usage.prompt_tokens, completion_tokens: 0, total_tokens: usage.total_tokens },
      source,
    );
  }

  async models(ctx: ProxyContext<undefined>): Promise<HandlerResult> {
    await this.#authenticate(ctx as unknown as Ctx);
    const created = this.#deps.startedAt;
    const data = this.#deps.router
      .models()
      .map((m) => ({ id: m.id, object: 'model', created, owned_by: m.ownedBy }));
    return { kind: 'json', body: { object: 'list', data } };
  }

  // ---- security stages -------------------------------------------------------------------------

  #authenticate(ctx: Ctx): Promise<Caller> {
    return this.#stage(ctx, 'authenticate', () => {
      const caller = this.#deps.guard.authenticate({ headers: ctx.headers, clientIp: ctx.clientIp });
      if (caller.key) ctx.annotate({ keyName: caller.key.name });
      return caller;
    });
  }

  /**
   * The stages of `SecurityGuard.admitChat` / `admitEmbeddings`, run one by one so that each has
   * its span and the route is checked before any quota is spent: validate (and the model exists,
   * and the key may use it) → PII → budget and limits.
   */
  async #admit<T extends { model: string }>(
    ctx: Ctx,
    caller: Caller,
    steps: AdmitSteps<T>,
  ): Promise<Admitted<T>> {
    const guard = this.#deps.guard;
    const { validated, route } = await this.#stage(ctx, 'validate', () => {
      const validated = steps.validate();
      const model = validated.request.model;
      ctx.annotate({ model });
      const route = this.#resolve(model);
      if (caller.key) guard.keys?.authorizeModel(caller.key, model);
      return { validated, route };
    });

    let request = validated.request;
    let pii = NO_PII;
    const mode = this.#piiMode(steps.route);
    if (mode !== 'off') {
      const scanned = await this.#stage(ctx, 'redact', () => {
        try {
          return steps.scan(request, mode);
        } catch (error) {
          this.#countPiiBlocked(error);
          throw error;
        }
      });
      this.#countPii(scanned, mode);
      request = scanned.request;
      pii = { total: scanned.total, counts: scanned.counts };
    }

    return this.#stage(ctx, 'rate-limit', async (span) => {
      try {
        if (caller.key?.budgetUsd !== undefined) await guard.spend.check(caller.key);
        const reservation = await guard.limiter.reserve(caller.subject, validated.estimate);
        const headers = rateLimitHeaders(reservation);
        for (const name in headers) ctx.setHeader(name, headers[name]!);
        if (reservation.degraded) span.setAttributes({ 'llm_edge.rate_limit.degraded': true });
        return {
          ...(caller.key ? { key: caller.key } : {}),
          subject: caller.subject,
          request,
          estimatedTokens: reservation.estimatedTokens,
          reservation,
          pii,
          headers,
          route,
        };
      } catch (error) {
        const limit = RateLimitError.isInstance(error)
          ? error.limitType
          : BudgetExceededError.isInstance(error)
            ? 'budget'
            : undefined;
        if (limit !== undefined) {
          this.#deps.metrics.recordRateLimited({ ...(caller.key ? { key: caller.key.name } : {}), limit });
        }
        throw error;
      }
    });
  }

  /** The route of a model name; an unknown one is refused (404) before any quota is spent. */
  #resolve(model: string): ResolvedRoute {
    const route = this.#deps.router.resolve(model);
    if (route === undefined) {
      throw new RoutingError(
        'LLM_EDGE_NO_ROUTE',
        `The model "${model}" does not exist or is not served by this gateway.`,
        { param: 'model' },
      );
    }
    return route;
  }

  #piiMode(route: RouteName): PiiMode {
    const pii = this.#deps.config.security.pii;
    return pii.routes[route] ?? pii.mode;
  }

  #countPii(findings: PiiFindings, mode: PiiMode): void {
    if (findings.total === 0) return;
    for (const kind in findings.counts) {
      const count = findings.counts[kind as keyof PiiFindings['counts']];
      if (count) this.#deps.metrics.recordPiiDetection({ kind, action: mode, count });
    }
  }

  #countPiiBlocked(error: unknown): void {
    if (!PiiBlockedError.isInstance(error)) return;
    for (const kind in error.counts) {
      const count = error.counts[kind as keyof PiiBlockedError['counts']];
      if (count) this.#deps.metrics.recordPiiDetection({ kind, action: 'block', count });
    }
  }

  // ---- cache and routing -----------------------------------------------------------------------

  #cacheFor(ctx: Ctx, route: RouteName): Cache | undefined {
    if (!this.#cachedRoutes.has(route)) {
      ctx.annotate({ cache: 'BYPASS' });
      return undefined;
    }
    const control = headerValue(ctx.headers['cache-control']);
    if (control !== undefined && /no-cache|no-store/i.test(control)) {
      ctx.annotate({ cache: 'BYPASS' });
      return undefined;
    }
    return this.#deps.cache;
  }

  /**
   * The cache key of a request. With `cache.partition: key` (the default) each gateway key has a
   * namespace of its own, so a HIT never reveals what another key sent; callers without a key
   * (authentication off) share the `anonymous` one.
   */
  #cacheKey(admitted: Admitted<ChatRequest | EmbeddingsRequest>, kind: 'chat' | 'embeddings'): string {
    if (this.#sharedCache) return this.#deps.cacheKey(admitted.request, { namespace: kind });
    const name = admitted.key?.name;
    let namespaces = this.#keyNamespaces.get(name);
    if (namespaces === undefined) {
      const partition =
        name === undefined
          ? 'anonymous'
          : NAMESPACE_SAFE.test(name)
            ? `key=${name}`
            : `keyh=${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
      namespaces = { chat: `chat:${partition}`, embeddings: `embeddings:${partition}` };
      this.#keyNamespaces.set(name, namespaces);
    }
    return this.#deps.cacheKey(admitted.request, { namespace: namespaces[kind] });
  }

  /**
   * Answers from the cache (L1 → L2, joining an identical call in flight) or by `load`, inside a
   * `cache` stage span.
   */
  async #lookup<V>(
    ctx: Ctx,
    cache: Cache,
    key: () => string,
    load: (signal: AbortSignal) => Promise<V>,
    isEntry: (value: unknown) => value is V,
    shouldCache?: (value: V) => boolean,
  ): Promise<{ value: V; source: CacheSource }> {
    const entry = await this.#stage(ctx, 'cache', async (span) => {
      const started = performance.now();
      const found = await cache.getOrSetEntry<V>(key(), ({ signal }) => load(signal), {
        signal: ctx.signal,
        ttlMs: this.#ttlMs,
        // Entries are only read here: an L1 hit need not parse its own copy.
        readOnly: true,
        ...(shouldCache ? { shouldCache } : {}),
      });
      if (found.source === 'coalesced') ctx.upstream.add(performance.now() - started);
      span.setAttributes({ 'llm_edge.cache.source': found.source });
      return found;
    });
    if (isEntry(entry.value)) return { value: entry.value, source: entry.source };
    // Not an entry this gateway wrote (another version, or a foreign writer under the prefix).
    this.#deps.metrics.recordError({ code: 'LLM_EDGE_CACHE_ENTRY_UNREADABLE' });
    return { value: await load(ctx.signal), source: 'loader' };
  }

  /**
   * One routed call inside a `route` stage span. The attempt spans (one per upstream try, started
   * by the {@link AttemptTracer} around each provider) are its children and carry the request's
   * GenAI attributes from the scope opened here.
   */
  #route<R extends { target: TargetInfo; attempts: readonly AttemptEvent[] }>(
    ctx: Ctx,
    admitted: Admitted<ChatRequest | EmbeddingsRequest>,
    signal: AbortSignal,
    call: (options: { signal: AbortSignal }) => Promise<R>,
  ): Promise<R> {
    return this.#stage(ctx, 'route', async (span) => {
      const request = admitted.request;
      const chat = 'messages' in request ? request : undefined;
      const maxTokens = chat?.max_completion_tokens ?? chat?.max_tokens;
      const scope = {
        parent: span.context,
        requestModel: request.model,
        targets: admitted.route.targets,
        recording: span.span.isRecording(),
        ...(maxTokens != null ? { maxTokens } : {}),
        ...(chat?.temperature != null ? { temperature: chat.temperature } : {}),
        ...(chat?.top_p != null ? { topP: chat.top_p } : {}),
      };
      const result = await ctx.upstream.track(this.#deps.attempts.run(scope, () => call({ signal })));
      span.setAttributes({
        'llm_edge.target': result.target.id,
        'llm_edge.attempts': result.attempts.length,
      });
      ctx.annotate({ attempts: result.attempts.length });
      return result;
    });
  }

  async #openStream(
    ctx: Ctx,
    admitted: Admitted<ChatRequest>,
    cache: Cache | undefined,
  ): Promise<{ chunks: AsyncIterable<ChatChunk>; target: TargetInfo; source: CacheSource | undefined }> {
    const request = admitted.request;
    let target: TargetInfo | undefined;
    const key = cache ? this.#cacheKey(admitted, 'chat') : undefined;
    const open = async (signal: AbortSignal): Promise<AsyncIterable<ChatChunk>> => {
      const result = await this.#route(ctx, admitted, signal, (options) =>
        this.#deps.router.chatStream(request, options),
      );
      target = result.target;
      if (key !== undefined) this.#rememberStreamTarget(key, result.target);
      return result.stream;
    };
    if (cache === undefined || key === undefined) {
      const chunks = await open(ctx.signal);
      return { chunks: ctx.upstream.iterate(chunks), target: target!, source: undefined };
    }
    let cachedTarget: TargetInfo | undefined;
    const result = await this.#stage(ctx, 'cache', async (span) => {
      const started = performance.now();
      const found = await cache.getOrSetStream<ChatChunk>(key, ({ signal }) => open(signal), {
        signal: ctx.signal,
        ttlMs: this.#ttlMs,
        shouldCache: (chunks) => chunks.some((c) => c.choices.some((choice) => choice.finish_reason != null)),
        toCached: (chunks): CachedChat | undefined => {
          const response = assembleChatResponse(chunks);
          return response && target ? chatEntry(response, target) : undefined;
        },
        fromCached: (value) => {
          if (!isCachedChat(value)) return undefined;
          cachedTarget = value.t;
          return responseToChunks(chatResponseOf(value));
        },
      });
      span.setAttributes({ 'llm_edge.cache.source': found.source });
      if (found.source === 'coalesced') ctx.upstream.add(performance.now() - started);
      return found;
    });
    // A caller that joined another's live stream learns the target from that caller's load.
    const served = target ??
      cachedTarget ??
      this.#streamTargets.get(key) ?? { id: 'unknown', provider: 'unknown', model: request.model };
    const chunks = HIT_SOURCES.has(result.source) ? result.stream : ctx.upstream.iterate(result.stream);
    return { chunks, target: served, source: result.source };
  }

  #rememberStreamTarget(key: string, target: TargetInfo): void {
    // Bounded: entries only serve callers joining a stream while it is live.
    if (this.#streamTargets.size >= 1_024)
      this.#streamTargets.delete(this.#streamTargets.keys().next().value!);
    this.#streamTargets.set(key, target);
  }

  // ---- responding and accounting ---------------------------------------------------------------

  #annotateTarget(ctx: Ctx, target: TargetInfo, source: CacheSource | undefined): void {
    ctx.annotate({
      target: target.id,
      provider: target.provider,
      ...(source !== undefined ? { cache: cacheStatus(source) } : {}),
    });
  }

  async *#openAiEvents(
    ctx: Ctx,
    chunks: AsyncIterable<ChatChunk>,
    includeUsage: boolean,
    target: TargetInfo,
    source: CacheSource | undefined,
    admitted: Admitted<ChatRequest>,
  ): AsyncGenerator<{ data: unknown }> {
    let usage: Usage | undefined;
    try {
      for await (const chunk of chunks) {
        if (chunk.usage) usage = chunk.usage;
        if (!includeUsage && chunk.usage !== undefined) {
          // The upstream always reports usage (accounting needs it); the client did not ask for it.
          if (chunk.choices.length === 0) continue;
          const { usage: _dropped, ...rest } = chunk;
          yield { data: rest };
          continue;
        }
        yield { data: chunk };
      }
    } finally {
      this.#account(ctx, admitted, target, usage, source);
    }
  }

  async *#anthropicEvents(
    ctx: Ctx,
    chunks: AsyncIterable<ChatChunk>,
    anthropic: AnthropicMessagesRequest,
    target: TargetInfo,
    source: CacheSource | undefined,
    admitted: Admitted<ChatRequest>,
  ): AsyncGenerator<{ event: string; data: unknown }> {
    const translator = new AnthropicStreamTranslator(anthropic.model);
    let usage: Usage | undefined;
    try {
      for await (const chunk of chunks) {
        if (chunk.usage) usage = chunk.usage;
        for (const event of translator.push(chunk)) yield event;
      }
      for (const event of translator.end()) yield event;
    } finally {
      this.#account(ctx, admitted, target, usage, source);
    }
  }

  /**
   * Tokens, cost, and `SecurityGuard.settle` for one answered request. Only a call that went
   * upstream (`loader` / no cache) is charged: its token reservation is reconciled with the
   * provider's usage and its priced cost recorded against the key's budget; a hit or a coalesced
   * caller used no upstream tokens, so its reservation is refunded whole. Without a usage report the
   * reservation stands as estimated. Settling is not awaited: accounting never delays the response.
   */
  #account(
    ctx: Ctx,
    admitted: Admitted<unknown>,
    target: TargetInfo,
    usage: Usage | null | undefined,
    source: CacheSource | undefined,
  ): void {
    const charged = source === undefined || source === 'loader';
    const metrics = this.#deps.metrics;
    let settle: SettleInput | undefined;
    if (!charged) {
      if (usage) ctx.annotate({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens });
      settle = { tokens: 0 };
    } else if (usage) {
      const cached = usage.prompt_tokens_details?.cached_tokens;
      const price = priceUsage(target.model, usage);
      ctx.annotate({
        inputTokens: usage.prompt_tokens,
        outputTokens: usage.completion_tokens,
        ...(cached ? { cachedInputTokens: cached } : {}),
        ...(price ? { costUsd: price.totalUsd } : {}),
      });
      metrics.recordTokens({
        provider: target.provider,
        model: target.model,
        inputTokens: usage.prompt_tokens,
        outputTokens: usage.completion_tokens,
        ...(cached ? { cachedInputTokens: cached } : {}),
      });
      if (price) {
        metrics.recordCost({
          provider: target.provider,
          model: target.model,
          ...(admitted.key ? { key: admitted.key.name } : {}),
          usd: price.totalUsd,
        });
      }
      // Spend is kept only for keys with a budget: it costs a Redis write per request.
      const costUsd = admitted.key?.budgetUsd !== undefined ? price?.totalUsd : undefined;
      settle = { usage, ...(costUsd !== undefined ? { costUsd } : {}) };
    }
    if (settle === undefined) return;
    if (admitted.reservation.tokens === undefined && settle.costUsd === undefined) return;
    this.#deps.guard
      .settle(admitted, settle)
      .catch(() => metrics.recordError({ code: 'LLM_EDGE_SETTLE_FAILED' }));
  }

  /** Runs one pipeline stage in its span (ended, and failed if `fn` throws, by the monitoring helper). */
  #stage<T>(ctx: Ctx, name: string, fn: (span: SpanHandle) => T | Promise<T>): Promise<T> {
    return this.#deps.tracing.withStage(name, fn, { parent: ctx.traceContext });
  }
}
