import type { Cache, CacheKeyGenerator, CacheSource } from '@llm-edge/cache';
import type {
  CacheStatus,
  Context,
  GatewayMetrics,
  GenAiTracing,
  InferenceSpan,
  SpanHandle,
} from '@llm-edge/monitoring';
import { genAiProviderName, normalizeUsage } from '@llm-edge/monitoring';
import {
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  priceUsage,
  toValidationIssues,
  type Usage,
} from '@llm-edge/providers';
import type { HandlerResult, ProxyContext, ProxyHandlers, ReadinessReport } from '@llm-edge/proxy';
import { type Router, RoutingError, type TargetInfo } from '@llm-edge/routing';
import {
  type ApiKeyRecord,
  type PiiFindings,
  RateLimitError,
  type RateLimitReservation,
  type RateLimitSubject,
  RequestValidationError,
  rateLimitHeaders,
  type SecurityGuard,
} from '@llm-edge/security';
import {
  type AnthropicMessagesRequest,
  AnthropicStreamTranslator,
  anthropicMessagesRequestSchema,
  anthropicToUnified,
  unifiedToAnthropic,
} from './anthropic-client-format';
import { assembleChatResponse, responseToChunks } from './chat-assembly';
import type { GatewayConfig, PiiMode, RouteName } from './config-schema';

/** What the gateway stores in the response cache: the answer and the target that gave it. */
interface CachedChat {
  v: 1;
  r: ChatResponse;
  t: TargetInfo;
}
interface CachedEmbeddings {
  v: 1;
  e: EmbeddingsResponse;
  t: TargetInfo;
}

function isCachedChat(value: unknown): value is CachedChat {
  return typeof value === 'object' && value !== null && (value as CachedChat).v === 1 && 'r' in value;
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
  /** Provider instance name → adapter kind, for `gen_ai.provider.name`. */
  providerKinds: ReadonlyMap<string, string>;
  readiness: () => ReadinessReport | Promise<ReadinessReport>;
  /** Epoch seconds reported as `created` in the models list. */
  startedAt: number;
}

/** The admitted state of one request, carried from the security stages to accounting. */
interface Admitted<T> {
  request: T;
  /** `gen_ai.provider.name` of the route's first target, resolved once per request. */
  genAiProvider: string;
  key: ApiKeyRecord | undefined;
  subject: RateLimitSubject;
  reservation: RateLimitReservation;
}

type Ctx = ProxyContext<Record<string, unknown>>;

const HIT_SOURCES: ReadonlySet<CacheSource> = new Set(['l1', 'l2']);

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
 * → respond. One span per stage; the proxy writes the log line and request metrics from the
 * annotations made here.
 */
export class Pipeline {
  readonly #deps: PipelineDeps;
  readonly #cachedRoutes: ReadonlySet<RouteName>;
  readonly #ttlMs: number;
  /** Target of each recent stream load by cache key, for callers that joined it (coalesced). */
  readonly #streamTargets = new Map<string, TargetInfo>();

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.#cachedRoutes = new Set(deps.config.cache.enabled && deps.cache ? deps.config.cache.routes : []);
    this.#ttlMs = deps.config.cache.ttlSeconds * 1000;
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
    const auth = this.#authenticate(ctx);
    const span = this.#stage('translate', ctx.traceContext);
    let anthropic: AnthropicMessagesRequest;
    let unified: ChatRequest;
    try {
      const parsed = anthropicMessagesRequestSchema.safeParse(ctx.body);
      if (!parsed.success) {
        throw new RequestValidationError('LLM_EDGE_INVALID_REQUEST', toValidationIssues(parsed.error), {
          cause: parsed.error,
        });
      }
      anthropic = parsed.data;
      unified = anthropicToUnified(anthropic);
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
    return this.chat(ctx, unified, anthropic, auth);
  }

  async chat(
    ctx: Ctx,
    body: unknown,
    anthropic: AnthropicMessagesRequest | undefined,
    auth = this.#authenticate(ctx),
  ): Promise<HandlerResult> {
    const route: RouteName = anthropic ? 'messages' : 'chat';
    const admitted = await this.#admitChat(ctx, body, route, auth);
    const request = admitted.request;
    const stream = request.stream === true;
    ctx.annotate({ stream });

    const cache = this.#cacheFor(ctx, route);
    if (stream) {
      const includeUsage = anthropic ? true : request.stream_options?.include_usage === true;
      const { chunks, target, source } = await this.#openStream(ctx, request, admitted.genAiProvider, cache);
      this.#annotateTarget(ctx, target, source);
      const events = anthropic
        ? this.#anthropicEvents(ctx, chunks, anthropic, target, source, admitted)
        : this.#openAiEvents(ctx, chunks, includeUsage, target, source, admitted);
      return { kind: 'sse', events, done: !anthropic };
    }

    const { response, target, source } = await this.#complete(ctx, request, admitted.genAiProvider, cache);
    this.#annotateTarget(ctx, target, source);
    this.#account(ctx, admitted, target, response.usage, source);
    if (anthropic) {
      return { kind: 'json', body: unifiedToAnthropic(response, anthropic.model, anthropic.stop_sequences) };
    }
    return { kind: 'json', body: response };
  }

  async embeddings(ctx: Ctx): Promise<HandlerResult> {
    const auth = this.#authenticate(ctx);
    const admitted = await this.#admitEmbeddings(ctx, ctx.body, auth);
    const request = admitted.request;
    const cache = this.#cacheFor(ctx, 'embeddings');
    const parent = ctx.traceContext;
    const call = async (signal: AbortSignal) => {
      const span = this.#inferenceSpan(
        'embeddings',
        admitted.genAiProvider,
        request.model,
        false,
        undefined,
        parent,
      );
      try {
        const result = await ctx.upstream.track(
          this.#deps.router.embeddings(request, this.#callOptions(signal, span)),
        );
        span.setAttributes({
          'llm_edge.target': result.target.id,
          'llm_edge.attempts': result.attempts.length,
        });
        span.setResponse({
          model: result.response.model,
          usage: { inputTokens: result.response.usage.prompt_tokens, outputTokens: 0 },
        });
        ctx.annotate({ attempts: result.attempts.length });
        return { v: 1 as const, e: result.response, t: result.target };
      } catch (error) {
        span.fail(error);
        throw error;
      } finally {
        span.end();
      }
    };
    let value: CachedEmbeddings;
    let source: CacheSource;
    if (cache) {
      const key = this.#deps.cacheKey(request, { namespace: 'embeddings' });
      const started = performance.now();
      const entry = await cache.getOrSetEntry<CachedEmbeddings>(key, ({ signal }) => call(signal), {
        signal: ctx.signal,
        ttlMs: this.#ttlMs,
      });
      if (entry.source === 'coalesced') ctx.upstream.add(performance.now() - started);
      value = entry.value;
      source = entry.source;
    } else {
      value = await call(ctx.signal);
      source = 'loader';
    }
    this.#annotateTarget(ctx, value.t, cache ? source : undefined);
    const usage = value.e.usage;
    this.#account(
      ctx,
      admitted,
      value.t,
      { prompt_tokens: usage.prompt_tokens, completion_tokens: 0, total_tokens: usage.total_tokens },
      source,
    );
    return { kind: 'json', body: value.e };
  }

  async models(ctx: ProxyContext<undefined>): Promise<HandlerResult> {
    this.#authenticate(ctx as unknown as Ctx);
    const created = this.#deps.startedAt;
    const data = this.#deps.router
      .models()
      .map((m) => ({ id: m.id, object: 'model', created, owned_by: m.ownedBy }));
    return { kind: 'json', body: { object: 'list', data } };
  }

  // ---- security stages -------------------------------------------------------------------------

  #authenticate(ctx: Ctx): { key?: ApiKeyRecord; subject: RateLimitSubject } {
    const span = this.#stage('authenticate', ctx.traceContext);
    try {
      const result = this.#deps.guard.authenticate({ headers: ctx.headers, clientIp: ctx.clientIp });
      if (result.key) ctx.annotate({ keyName: result.key.name });
      return result;
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  async #admitChat(
    ctx: Ctx,
    body: unknown,
    route: RouteName,
    auth: { key?: ApiKeyRecord; subject: RateLimitSubject },
  ): Promise<Admitted<ChatRequest>> {
    const guard = this.#deps.guard;
    const parent = ctx.traceContext;
    let span = this.#stage('validate', parent);
    let request: ChatRequest;
    let estimate: () => number;
    let genAiProvider: string;
    try {
      const validated = guard.validator.validateChat(body, bodySize(ctx));
      request = validated.request;
      // Tokenizing the prompt is paid for only when the key has a tokens limit.
      estimate = () => validated.tokens.totalTokens;
      ctx.annotate({ model: request.model });
      genAiProvider = this.#resolve(request.model);
      if (auth.key) guard.keys?.authorizeModel(auth.key, request.model);
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }

    span = this.#stage('redact', parent);
    try {
      const mode = this.#piiMode(route);
      if (mode !== 'off') {
        const scanned = guard.pii.applyToChatRequest(request, mode);
        this.#countPii(scanned, mode);
        request = scanned.request;
      }
    } catch (error) {
      this.#countPiiBlocked(error);
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }

    const reservation = await this.#limit(ctx, auth, estimate);
    return { request, genAiProvider, key: auth.key, subject: auth.subject, reservation };
  }

  async #admitEmbeddings(
    ctx: Ctx,
    body: unknown,
    auth: { key?: ApiKeyRecord; subject: RateLimitSubject },
  ): Promise<Admitted<EmbeddingsRequest>> {
    const guard = this.#deps.guard;
    const parent = ctx.traceContext;
    let span = this.#stage('validate', parent);
    let request: EmbeddingsRequest;
    let estimate: () => number;
    let genAiProvider: string;
    try {
      const validated = guard.validator.validateEmbeddings(body, bodySize(ctx));
      request = validated.request;
      estimate = () => validated.tokens;
      ctx.annotate({ model: request.model });
      genAiProvider = this.#resolve(request.model);
      if (auth.key) guard.keys?.authorizeModel(auth.key, request.model);
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
    span = this.#stage('redact', parent);
    try {
      const mode = this.#piiMode('embeddings');
      if (mode !== 'off') {
        const scanned = guard.pii.applyToEmbeddingsRequest(request, mode);
        this.#countPii(scanned, mode);
        request = scanned.request;
      }
    } catch (error) {
      this.#countPiiBlocked(error);
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
    const reservation = await this.#limit(ctx, auth, estimate);
    return { request, genAiProvider, key: auth.key, subject: auth.subject, reservation };
  }

  /** Budget check, then the requests and tokens limits; sets the rate-limit headers. */
  async #limit(
    ctx: Ctx,
    auth: { key?: ApiKeyRecord; subject: RateLimitSubject },
    estimatedTokens: () => number,
  ): Promise<RateLimitReservation> {
    const guard = this.#deps.guard;
    const span = this.#stage('rate-limit', ctx.traceContext);
    try {
      if (auth.key?.budgetUsd !== undefined) await guard.spend.check(auth.key);
      const reservation = await guard.limiter.reserve(auth.subject, estimatedTokens);
      const headers = rateLimitHeaders(reservation);
      for (const name in headers) ctx.setHeader(name, headers[name]!);
      if (reservation.degraded) span.setAttributes({ 'llm_edge.rate_limit.degraded': true });
      return reservation;
    } catch (error) {
      if (RateLimitError.isInstance(error)) {
        this.#deps.metrics.recordRateLimited({
          ...(auth.key ? { key: auth.key.name } : {}),
          limit: error.limitType,
        });
      }
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** Checks the model has a route; returns the GenAI provider name of its first target. */
  #resolve(model: string): string {
    const route = this.#deps.router.resolve(model);
    if (route === undefined) {
      throw new RoutingError(
        'LLM_EDGE_NO_ROUTE',
        `The model "${model}" does not exist or is not served by this gateway.`,
        { param: 'model' },
      );
    }
    const first = route.targets[0];
    if (first === undefined) return 'unknown';
    return genAiProviderName(this.#deps.providerKinds.get(first.provider) ?? first.provider, first.provider);
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
    const counts = (error as { counts?: Record<string, number> } | undefined)?.counts;
    if (typeof counts !== 'object' || counts === null) return;
    for (const kind in counts) {
      const count = counts[kind];
      if (typeof count === 'number' && count > 0)
        this.#deps.metrics.recordPiiDetection({ kind, action: 'block', count });
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

  #inferenceSpan(
    operation: 'chat' | 'embeddings',
    provider: string,
    model: string,
    stream: boolean,
    request: ChatRequest | undefined,
    parent: Context,
  ): InferenceSpan {
    return this.#deps.tracing.startInferenceSpan({
      operation,
      provider,
      model,
      stream,
      parent,
      ...(request?.max_tokens != null ? { maxTokens: request.max_tokens } : {}),
      ...(request?.temperature != null ? { temperature: request.temperature } : {}),
      ...(request?.top_p != null ? { topP: request.top_p } : {}),
    });
  }

  #callOptions(
    signal: AbortSignal,
    span: InferenceSpan,
  ): { signal: AbortSignal; headers?: Record<string, string> } {
    const headers = span.injectHeaders();
    for (const _ in headers) return { signal, headers };
    return { signal };
  }

  async #complete(
    ctx: Ctx,
    request: ChatRequest,
    provider: string,
    cache: Cache | undefined,
  ): Promise<{ response: ChatResponse; target: TargetInfo; source: CacheSource | undefined }> {
    const parent = ctx.traceContext;
    const call = async (signal: AbortSignal): Promise<CachedChat> => {
      const span = this.#inferenceSpan('chat', provider, request.model, false, request, parent);
      try {
        const result = await ctx.upstream.track(
          this.#deps.router.chat(request, this.#callOptions(signal, span)),
        );
        const usage = normalizeUsage(result.response.usage);
        span.setAttributes({
          'llm_edge.target': result.target.id,
          'llm_edge.attempts': result.attempts.length,
        });
        span.setResponse({
          id: result.response.id,
          model: result.response.model,
          finishReasons: result.response.choices.map((c) => c.finish_reason ?? 'unknown'),
          ...(usage ? { usage } : {}),
        });
        ctx.annotate({ attempts: result.attempts.length });
        return { v: 1, r: result.response, t: result.target };
      } catch (error) {
        span.fail(error);
        throw error;
      } finally {
        span.end();
      }
    };
    if (cache === undefined) {
      const value = await call(ctx.signal);
      return { response: value.r, target: value.t, source: undefined };
    }
    const span = this.#stage('cache', parent);
    const key = this.#deps.cacheKey(request, { namespace: 'chat' });
    const started = performance.now();
    try {
      const entry = await cache.getOrSetEntry<CachedChat>(key, ({ signal }) => call(signal), {
        signal: ctx.signal,
        ttlMs: this.#ttlMs,
        shouldCache: (value) => value.r.choices.every((c) => c.finish_reason !== null),
      });
      if (entry.source === 'coalesced') ctx.upstream.add(performance.now() - started);
      span.setAttributes({ 'llm_edge.cache.source': entry.source });
      if (!isCachedChat(entry.value)) {
        // Not an entry this gateway wrote (another version, or a foreign writer under the prefix).
        this.#deps.metrics.recordError({ code: 'LLM_EDGE_CACHE_ENTRY_UNREADABLE' });
        const value = await call(ctx.signal);
        return { response: value.r, target: value.t, source: 'loader' };
      }
      return { response: entry.value.r, target: entry.value.t, source: entry.source };
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  async #openStream(
    ctx: Ctx,
    request: ChatRequest,
    provider: string,
    cache: Cache | undefined,
  ): Promise<{ chunks: AsyncIterable<ChatChunk>; target: TargetInfo; source: CacheSource | undefined }> {
    const parent = ctx.traceContext;
    let target: TargetInfo | undefined;
    const key = cache ? this.#deps.cacheKey(request, { namespace: 'chat' }) : undefined;
    const open = async (signal: AbortSignal): Promise<AsyncIterable<ChatChunk>> => {
      const span = this.#inferenceSpan('chat', provider, request.model, true, request, parent);
      try {
        const result = await ctx.upstream.track(
          this.#deps.router.chatStream(request, this.#callOptions(signal, span)),
        );
        target = result.target;
        if (key !== undefined) this.#rememberStreamTarget(key, result.target);
        span.setAttributes({
          'llm_edge.target': result.target.id,
          'llm_edge.attempts': result.attempts.length,
        });
        ctx.annotate({ attempts: result.attempts.length });
        return result.stream;
      } catch (error) {
        span.fail(error);
        throw error;
      } finally {
        // The span covers the time to the first chunk; the stream's end is in the log line and metrics.
        span.end();
      }
    };
    if (cache === undefined || key === undefined) {
      const chunks = await open(ctx.signal);
      return { chunks: ctx.upstream.iterate(chunks), target: target!, source: undefined };
    }
    const span = this.#stage('cache', parent);
    const started = performance.now();
    let cachedTarget: TargetInfo | undefined;
    try {
      const result = await cache.getOrSetStream<ChatChunk>(key, ({ signal }) => open(signal), {
        signal: ctx.signal,
        ttlMs: this.#ttlMs,
        shouldCache: (chunks) => chunks.some((c) => c.choices.some((choice) => choice.finish_reason != null)),
        toCached: (chunks): CachedChat | undefined => {
          const response = assembleChatResponse(chunks);
          return response && target ? { v: 1, r: response, t: target } : undefined;
        },
        fromCached: (value) => {
          if (!isCachedChat(value)) return undefined;
          cachedTarget = value.t;
          return responseToChunks(value.r);
        },
      });
      span.setAttributes({ 'llm_edge.cache.source': result.source });
      if (result.source === 'coalesced') ctx.upstream.add(performance.now() - started);
      // A caller that joined another's live stream learns the target from that caller's load.
      const served = target ??
        cachedTarget ??
        this.#streamTargets.get(key) ?? { id: 'unknown', provider: 'unknown', model: request.model };
      const chunks = HIT_SOURCES.has(result.source) ? result.stream : ctx.upstream.iterate(result.stream);
      return { chunks, target: served, source: result.source };
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
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
    const translator = new AnthropicStreamTranslator(anthropic.model, anthropic.stop_sequences);
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
   * Tokens, cost, limit reconciliation and spend for one answered request. Only a call that went
   * upstream (`loader` / no cache) is charged; a hit or a coalesced caller used no upstream tokens.
   * Redis writes are not awaited: accounting never delays the response.
   */
  #account(
    ctx: Ctx,
    admitted: Admitted<unknown>,
    target: TargetInfo,
    usage: Usage | null | undefined,
    source: CacheSource | undefined,
  ): void {
    const charged = source === undefined || source === 'loader';
    const limiter = this.#deps.guard.limiter;
    const metrics = this.#deps.metrics;
    if (!charged || !usage) {
      if (admitted.reservation.estimatedTokens > 0) {
        limiter
          .reconcile(admitted.reservation, charged ? admitted.reservation.estimatedTokens : 0)
          .catch((error: unknown) => {
            this.#countFailure('LLM_EDGE_RECONCILE_FAILED', error);
          });
      }
      if (usage) {
        ctx.annotate({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens });
      }
      return;
    }
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
    if (admitted.reservation.estimatedTokens > 0) {
      limiter
        .reconcile(admitted.reservation, usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens)
        .catch((error: unknown) => this.#countFailure('LLM_EDGE_RECONCILE_FAILED', error));
    }
    if (admitted.key?.budgetUsd !== undefined && price) {
      this.#deps.guard.spend
        .record(admitted.key, price.totalUsd)
        .catch((error: unknown) => this.#countFailure('LLM_EDGE_SPEND_RECORD_FAILED', error));
    }
  }

  #countFailure(code: string, _error: unknown): void {
    this.#deps.metrics.recordError({ code });
  }

  #stage(name: string, parent: Context): SpanHandle {
    return this.#deps.tracing.startStageSpan(name, { parent });
  }
}
