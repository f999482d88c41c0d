import {
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  findModel,
  ProviderError,
} from '@llm-edge/providers';
import { RetryBudget, RetryBudgetExhaustedError, RetryPolicy } from '@llm-edge/retry';
import { BrokenCircuitError } from 'cockatiel';
import { CommittedStream, isTokenChunk, type StreamEnd } from './committed-stream';
import { RoutingError } from './errors';
import {
  allFailedStatus,
  clientFacing,
  decideFailover,
  isCooldownFailure,
  isUnsupported,
  rejectedStatus,
  summarizeError,
} from './failover';
import { type ResolvedRouterOptions, type RouterOptions, resolveRouterOptions } from './options';
import { RouteTable } from './route-table';
import { STRATEGIES, type StrategyCandidate, type StrategyChoice } from './strategies';
import { type TargetFacts, TargetState } from './target-state';
import type {
  AttemptError,
  AttemptEvent,
  HealthSnapshot,
  ResolvedRoute,
  RouteCallOptions,
  RouteOperation,
  RouterEvents,
  TargetConfig,
  TargetInfo,
} from './types';

/** The answer of {@link Router.chat} and {@link Router.embeddings}. */
export interface RouteResult<T> {
  response: T;
  /** The target that answered. */
  target: TargetInfo;
  /** Every attempt made, the winner's last among those settled when it won. */
  attempts: AttemptEvent[];
}

/** The answer of {@link Router.chatStream}. */
export interface StreamRouteResult {
  /**
   * The committed target's chunks. Consume it to the end, or end it early (`break`, `return()`,
   * or the call's signal) so that the upstream connection is closed.
   */
  stream: AsyncIterable<ChatChunk>;
  target: TargetInfo;
  attempts: AttemptEvent[];
}

/** One kind of upstream call the router can race and fail over. */
interface Operation<T> {
  readonly name: RouteOperation;
  readonly latencyMetric: 'ttft' | 'latency';
  /** Must stop all upstream work when `signal` aborts (the Provider contract guarantees it). */
  call(state: TargetState, signal: AbortSignal): Promise<T>;
  /** The error the target's adapter would raise for this request before any upstream call, if it says (no I/O). */
  check(state: TargetState): unknown;
}

interface StreamStart {
  iterator: AsyncIterator<ChatChunk>;
  /** Chunks read up to and including the first token. */
  buffered: ChatChunk[];
  /** The upstream ended before any token. */
  done: boolean;
}

/** What the race hands back about the winning attempt. */
interface Won<T> {
  value: T;
  state: TargetState;
  controller: AbortController;
  startedAt: number;
  latencyMs: number;
  release: () => void;
}

interface RequestContext {
  route: ResolvedRoute;
  attempts: AttemptEvent[];
  headers: Record<string, string> | undefined;
  attemptNo: number;
  pass: number;
  /** The last upstream failure of any pass, kept as the cause of a later NO_HEALTHY_TARGET. */
  lastError: unknown;
}

type Listener<E> = (event: E) => void;

/**
 * Routes unified chat, stream and embeddings requests over targets: resolves the model name,
 * orders healthy targets by the route's strategy, fails over by error kind, hedges slow starts,
 * keeps a circuit breaker and a 429/529 cooldown per target, and retries whole passes through
 * @llm-edge/retry with a shared retry budget.
 *
 * @example
 * ```ts
 * const router = new Router({
 *   providers: { openai: createOpenAIProvider({ apiKey }), anthropic: createAnthropicProvider({ apiKey: key2 }) },
 *   targets: [
 *     { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' },
 *     { id: 'claude', provider: 'anthropic', model: 'claude-3-5-haiku-latest', priority: 1 },
 *   ],
 *   aliases: [{ name: 'fast', targets: ['gpt', 'claude'] }],
 * });
 * const { response, target } = await router.chat({ model: 'fast', messages: [{ role: 'user', content: 'Hi' }] });
 * ```
 */
export class Router {
  readonly #options: ResolvedRouterOptions;
  readonly #table: RouteTable;
  readonly #configs = new Map<string, Readonly<TargetConfig>>();
  readonly #states = new Map<string, TargetState>();
  readonly #direct = new Map<string, TargetState>();
  readonly #turns = new Map<string, number>();
  readonly #retry: RetryPolicy;
  readonly #listeners: { [K in keyof RouterEvents]: Set<Listener<RouterEvents[K]>> } = {
    attempt: new Set(),
    'stream-end': new Set(),
    breaker: new Set(),
  };
  #listenerErrors = 0;

  constructor(options: RouterOptions) {
    this.#options = resolveRouterOptions(options);
    this.#table = new RouteTable(this.#options);
    for (const t of this.#options.targets) {
      this.#configs.set(t.id, t);
      this.#states.set(t.id, this.#createState({ id: t.id, provider: t.provider, model: t.model }, t));
    }
    const { retry, clock, random } = this.#options;
    this.#retry = new RetryPolicy({
      maxRetries: retry.maxRetries,
      backoff: retry.backoff,
      budget: retry.budget ?? new RetryBudget(),
      retryIf: (error) => RoutingError.isInstance(error) && error.retryable,
      random,
      now: () => clock.now(),
    });
  }

  /** Resolves a model name (alias, target id, `provider/model`, or a bare model name of configured targets). */
  resolve(model: string): ResolvedRoute | undefined {
    return this.#table.resolve(model);
  }

  /** Sends a chat completion through the route `request.model` names. */
  async chat(request: ChatRequest, options: RouteCallOptions = {}): Promise<RouteResult<ChatResponse>> {
    const op: Operation<ChatResponse> = {
      name: 'chat',
      latencyMetric: 'latency',
      call: (state, signal) =>
        state.provider.chat({ ...request, model: state.info.model }, this.#callOptions(signal, options)),
      check: (state) => state.provider.checkChatRequest?.({ ...request, model: state.info.model }),
    };
    const { won, ctx } = await this.#execute(request.model, op, options);
    won.release();
    return { response: won.value, target: won.state.info, attempts: ctx.attempts };
  }

  /**
   * Streams a chat completion. Resolves when a target produced its first token (chunks before it,
   * such as a role-only opening chunk, are held and replayed); the stream is committed to that
   * target from then on (a failure mid-stream throws from the iterator, it is
   * never spliced with another target's output).
   */
  async chatStream(request: ChatRequest, options: RouteCallOptions = {}): Promise<StreamRouteResult> {
    const op: Operation<StreamStart> = {
      name: 'chat_stream',
      latencyMetric: 'ttft',
      call: async (state, signal) => {
        const iterable = await state.provider.chatStream(
          { ...request, model: state.info.model, stream: true },
          this.#callOptions(signal, options),
        );
        const iterator = iterable[Symbol.asyncIterator]();
        const buffered: ChatChunk[] = [];
        for (;;) {
          const next = await iterator.next();
          if (next.done) return { iterator, buffered, done: true };
          buffered.push(next.value);
          if (isTokenChunk(next.value)) return { iterator, buffered, done: false };
        }
      },
      check: (state) =>
        state.provider.checkChatRequest?.({ ...request, model: state.info.model, stream: true }),
    };
    const { won, ctx } = await this.#execute(request.model, op, options);
    const { state, controller, startedAt } = won;
    const caller = options.signal;
    const onAbort = (): void => controller.abort(caller?.reason);
    caller?.addEventListener('abort', onAbort, { once: true });
    if (caller?.aborted) onAbort();
    const ttftMs = won.latencyMs;
    const stream = new CommittedStream(
      won.value.buffered,
      won.value.done,
      won.value.iterator,
      controller.signal,
      (end: StreamEnd) => {
        caller?.removeEventListener('abort', onAbort);
        if (end.outcome === 'cancelled') controller.abort();
        const latencyMs = this.#options.clock.now() - startedAt;
        let error: AttemptError | undefined;
        if (end.outcome === 'error') {
          error = summarizeError(end.error);
          state.failures++;
          state.lastError = error;
          state.recordLateFailure(end.error);
        } else if (end.outcome === 'completed') {
          state.latency.add(latencyMs);
        }
        won.release();
        this.#emit('stream-end', {
          route: ctx.route.name,
          target: state.info,
          outcome: end.outcome,
          latencyMs,
          ttftMs,
          chunks: end.chunks,
          error,
        });
      },
    );
    return { stream, target: state.info, attempts: ctx.attempts };
  }

  /** Creates embeddings through the route `request.model` names. */
  async embeddings(
    request: EmbeddingsRequest,
    options: RouteCallOptions = {},
  ): Promise<RouteResult<EmbeddingsResponse>> {
    const op: Operation<EmbeddingsResponse> = {
      name: 'embeddings',
      latencyMetric: 'latency',
      call: (state, signal) =>
        state.provider.embeddings(
          { ...request, model: state.info.model },
          this.#callOptions(signal, options),
        ),
      check: (state) => state.provider.checkEmbeddingsRequest?.({ ...request, model: state.info.model }),
    };
    const { won, ctx } = await this.#execute(request.model, op, options);
    won.release();
    return { response: won.value, target: won.state.info, attempts: ctx.attempts };
  }

  /** Subscribes to `attempt`, `stream-end` or `breaker` events; returns the unsubscribe function. */
  on<K extends keyof RouterEvents>(event: K, listener: Listener<RouterEvents[K]>): () => void {
    this.#listeners[event].add(listener);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with {@link Router.on}. */
  off<K extends keyof RouterEvents>(event: K, listener: Listener<RouterEvents[K]>): void {
    this.#listeners[event].delete(listener);
  }

  /** Breaker states, cooldowns, latencies and load of every configured target, for readiness checks. */
  health(): HealthSnapshot {
    const now = this.#options.clock.now();
    const targets = [...this.#states.values()].map((s) => s.health(now));
    const available = new Map(targets.map((t) => [t.target.id, t.available]));
    const aliases = this.#options.aliases.map((a) => ({
      name: a.name,
      available: a.targets.filter((id) => available.get(id)).length,
      total: a.targets.length,
    }));
    return {
      at: now,
      ready: targets.length > 0 && targets.some((t) => t.available) && aliases.every((a) => a.available > 0),
      targets,
      aliases,
      listenerErrors: this.#listenerErrors,
    };
  }

  /** Aliases and configured `provider/model` names, for a models listing (`GET /v1/models`). */
  models(): { id: string; ownedBy: string }[] {
    return this.#table.models();
  }

  #callOptions(
    signal: AbortSignal,
    options: RouteCallOptions,
  ): { signal: AbortSignal; headers?: Record<string, string> } {
    return options.headers ? { signal, headers: options.headers } : { signal };
  }

  #createState(info: TargetInfo, config: Partial<TargetConfig>): TargetState {
    const entry = findModel(info.model);
    const facts: TargetFacts = {
      priority: config.priority ?? 0,
      weight: config.weight ?? 1,
      contextWindow: config.contextWindow ?? entry?.contextWindow,
      usdPerMTok: config.usdPerMTok ?? (entry ? entry.prices.input + entry.prices.output : undefined),
    };
    return new TargetState(info, this.#options.providers[info.provider]!, facts, {
      clock: this.#options.clock,
      breaker: this.#options.breaker,
      latencyAlpha: this.#options.latencyAlpha,
      onBreakerChange: (state, halfOpenAt) => this.#emit('breaker', { target: info, state, halfOpenAt }),
    });
  }

  /** The state of a route's target; unconfigured `provider/model` targets are kept in a bounded map. */
  #state(info: TargetInfo): TargetState | undefined {
    const configured = this.#states.get(info.id);
    if (configured) return configured;
    const known = this.#direct.get(info.id);
    if (known) return known;
    const limit = this.#options.maxDirectTargets;
    if (limit === 0) return undefined;
    while (this.#direct.size >= limit) {
      const oldest = this.#direct.keys().next().value as string;
      this.#direct.delete(oldest);
    }
    const created = this.#createState(info, {});
    this.#direct.set(info.id, created);
    return created;
  }

  async #execute<T>(
    model: string,
    op: Operation<T>,
    options: RouteCallOptions,
  ): Promise<{ won: Won<T>; ctx: RequestContext }> {
    const route = this.#table.resolve(model);
    if (!route) {
      throw new RoutingError('LLM_EDGE_NO_ROUTE', `No route for model "${String(model)}"`, {
        param: 'model',
      });
    }
    const ctx: RequestContext = {
      route,
      attempts: [],
      headers: options.headers,
      attemptNo: 0,
      pass: 0,
      lastError: undefined,
    };
    const caller = options.signal;
    if (caller?.aborted) throw this.#aborted(caller, ctx);
    try {
      const won = await this.#retry.execute(
        ({ signal }) => {
          ctx.pass++;
          return this.#pass(op, ctx, signal);
        },
        { signal: caller },
      );
      return { won, ctx };
    } catch (error) {
      if (caller?.aborted) throw this.#aborted(caller, ctx);
      if (RetryBudgetExhaustedError.isInstance(error) && RoutingError.isInstance(error.cause))
        throw error.cause;
      if (RoutingError.isInstance(error)) throw error;
      throw new RoutingError('LLM_EDGE_ALL_TARGETS_FAILED', `Routing "${route.name}" failed`, {
        cause: error,
        attempts: [...ctx.attempts],
      });
    }
  }

  #aborted(signal: AbortSignal, ctx: RequestContext): RoutingError {
    return new RoutingError(
      'LLM_EDGE_ROUTING_ABORTED',
      `Request for "${ctx.route.name}" aborted by the caller`,
      {
        cause: signal.reason,
        attempts: [...ctx.attempts],
      },
    );
  }

  /** Earliest ms from now at which any of the states becomes available again. */
  #nextAvailableIn(states: TargetState[], now: number): number | undefined {
    let soonest: number | undefined;
    for (const s of states) {
      const at = Math.max(s.cooldownUntil ?? 0, s.halfOpenAt ?? 0);
      if (at > now && (soonest === undefined || at - now < soonest)) soonest = at - now;
    }
    return soonest;
  }

  /** One pass: order the healthy targets and race/fail over through them until one answers. */
  #pass<T>(op: Operation<T>, ctx: RequestContext, signal: AbortSignal): Promise<Won<T>> {
    const { route } = ctx;
    const { clock, random } = this.#options;
    const now = clock.now();
    const states = route.targets.map((t) => this.#state(t)).filter((s): s is TargetState => s !== undefined);
    const candidates: StrategyCandidate[] = [];
    states.forEach((s, index) => {
      if (s.unavailableBecause(now) !== undefined) return;
      candidates.push({
        id: s.info.id,
        index,
        priority: s.facts.priority,
        weight: s.facts.weight,
        inFlight: s.inFlight,
        ttftMs: s.ttft.value,
        latencyMs: s.latency.value,
        usdPerMTok: s.facts.usdPerMTok,
      });
    });
    if (candidates.length === 0) {
      const unhealthy = states
        .map((s) => `${s.info.id} (${s.unavailableBecause(now) ?? 'unknown'})`)
        .join(', ');
      return Promise.reject(
        new RoutingError(
          'LLM_EDGE_NO_HEALTHY_TARGET',
          `No healthy target for "${route.name}": ${unhealthy}`,
          {
            cause: ctx.lastError,
            retryAfterMs: this.#nextAvailableIn(states, now),
            retryable: true,
            attempts: [...ctx.attempts],
          },
        ),
      );
    }
    let turn = 0;
    if (route.strategy === 'round-robin' && route.targets.length > 1) {
      turn = this.#turns.get(route.name) ?? 0;
      this.#turns.set(route.name, turn + 1);
    }
    const order = STRATEGIES[route.strategy](candidates, { random, turn, latencyMetric: op.latencyMetric });
    const byId = new Map(states.map((s) => [s.info.id, s]));
    return this.#race(op, ctx, order, byId, states, signal);
  }

  #race<T>(
    op: Operation<T>,
    ctx: RequestContext,
    order: StrategyChoice[],
    byId: Map<string, TargetState>,
    states: TargetState[],
    signal: AbortSignal,
  ): Promise<Won<T>> {
    const { route } = ctx;
    const { clock, cooldown, hedge } = this.#options;
    const hedgeDelayMs = route.hedgeDelayMs;
    const maxConcurrent = hedgeDelayMs === undefined ? 1 : 1 + hedge.maxHedges;

    return new Promise<Won<T>>((resolve, reject) => {
      const queue = [...order];
      const running = new Map<
        number,
        { state: TargetState; controller: AbortController; event: AttemptEvent }
      >();
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let lastError: unknown;
      // Upstream failures of this pass, which decide the status when every target failed.
      const failures: unknown[] = [];
      // A retry pass can help only if some failure was transient and none needs a larger window.
      let anyRetryable = false;
      let needsLargerWindow = false;
      let minContextWindow: number | undefined;
      const skipped: string[] = [];
      // Targets whose adapter cannot translate the request (kind unsupported), in the order tried.
      const unsupported: { id: string; error: ProviderError }[] = [];

      const cleanup = (): void => {
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };

      const stopOthers = (outcome: 'cancelled' | 'aborted', exceptNo?: number): void => {
        const now = clock.now();
        for (const [no, run] of running) {
          if (no === exceptNo) continue;
          run.controller.abort(signal.aborted ? signal.reason : undefined);
          this.#emit('attempt', { ...run.event, outcome, latencyMs: now - run.event.startedAt }, ctx);
        }
        running.clear();
      };

      function onAbort(): void {
        if (settled) return;
        cleanup();
        stopOthers('aborted');
        reject(signal.reason);
      }
      signal.addEventListener('abort', onAbort, { once: true });

      const scheduleHedge = (): void => {
        if (hedgeDelayMs === undefined || settled) return;
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          if (settled || running.size >= maxConcurrent) return;
          launch(true, `hedge after ${hedgeDelayMs}ms`);
        }, hedgeDelayMs);
      };

      const failAll = (): void => {
        cleanup();
        const now = clock.now();
        const refused = new Set(unsupported.map((u) => u.id));
        if (lastError === undefined && refused.size > 0 && states.every((s) => refused.has(s.info.id))) {
          reject(this.#unsupportedByAll(route.name, unsupported, ctx));
          return;
        }
        const notSupported = unsupported.map(
          (u) => `${u.id} (does not support ${u.error.param ?? 'the request'})`,
        );
        if (lastError === undefined) {
          // Every candidate became unavailable between choosing and calling (another request opened
          // its breaker or cooled it down), or the only ones left cannot take the request while the
          // others are unavailable: the same answer as finding none healthy.
          const why =
            unsupported.length === 0
              ? skipped
              : states.map((s) =>
                  refused.has(s.info.id)
                    ? notSupported[unsupported.findIndex((u) => u.id === s.info.id)]!
                    : `${s.info.id} (${s.unavailableBecause(now) ?? 'unavailable'})`,
                );
          reject(
            new RoutingError(
              'LLM_EDGE_NO_HEALTHY_TARGET',
              `No healthy target for "${route.name}": ${why.join(', ')}`,
              {
                cause: ctx.lastError ?? unsupported[0]?.error,
                retryAfterMs: this.#nextAvailableIn(states, now),
                retryable: true,
                attempts: [...ctx.attempts],
              },
            ),
          );
          return;
        }
        const status = allFailedStatus(failures);
        reject(
          new RoutingError(
            'LLM_EDGE_ALL_TARGETS_FAILED',
            `Every target of "${route.name}" failed${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}${notSupported.length ? `; not tried ${notSupported.join(', ')}` : ''}`,
            {
              cause: lastError,
              status,
              ...(status < 500 ? clientFacing(lastError) : {}),
              retryable: anyRetryable && !needsLargerWindow,
              retryAfterMs: states.every((s) => s.unavailableBecause(now) !== undefined)
                ? this.#nextAvailableIn(states, now)
                : undefined,
              attempts: [...ctx.attempts],
            },
          ),
        );
      };

      const launch = (isHedge: boolean, why: string | undefined): boolean => {
        while (queue.length > 0) {
          const choice = queue.shift()!;
          const state = byId.get(choice.id)!;
          if (minContextWindow !== undefined && !((state.facts.contextWindow ?? 0) > minContextWindow)) {
            skipped.push(`${state.info.id} (context window not larger)`);
            continue;
          }
          const unavailable = state.unavailableBecause(clock.now());
          if (unavailable !== undefined) {
            skipped.push(`${state.info.id} (${unavailable})`);
            continue;
          }
          start(state, why ? `${why}; ${choice.reason}` : choice.reason, isHedge);
          return true;
        }
        return false;
      };

      const start = (state: TargetState, chosenBecause: string, isHedge: boolean): void => {
        const no = ++ctx.attemptNo;
        const controller = new AbortController();
        const startedAt = clock.now();
        const event: AttemptEvent = {
          route: route.name,
          operation: op.name,
          target: state.info,
          attempt: no,
          pass: ctx.pass,
          chosenBecause,
          hedge: isHedge,
          outcome: 'success',
          startedAt,
          latencyMs: 0,
        };
        running.set(no, { state, controller, event });
        state.inFlight++;
        let released = false;
        const release = (): void => {
          if (released) return;
          released = true;
          state.inFlight--;
        };
        state
          .execute(
            () => op.call(state, controller.signal),
            controller.signal,
            () => this.#localRefusal(op, state),
          )
          .then(
            (value) => {
              const latencyMs = clock.now() - startedAt;
              state.successes++;
              if (op.latencyMetric === 'ttft') state.ttft.add(latencyMs);
              else state.latency.add(latencyMs);
              if (settled || !running.has(no)) {
                // Lost the race (or the caller left) but answered anyway: aborting closes its upstream.
                controller.abort();
                release();
                return;
              }
              running.delete(no);
              cleanup();
              stopOthers('cancelled', no);
              this.#emit(
                'attempt',
                { ...event, latencyMs, ...(op.latencyMetric === 'ttft' ? { ttftMs: latencyMs } : {}) },
                ctx,
              );
              resolve({ value, state, controller, startedAt, latencyMs, release });
            },
            (error: unknown) => {
              release();
              if (settled || !running.has(no)) return;
              running.delete(no);
              const latencyMs = clock.now() - startedAt;
              if (error instanceof BrokenCircuitError) {
                // Opened between choosing and calling: not this request's failure, just move on.
                const summary: AttemptError = { kind: 'breaker_open', message: 'circuit breaker open' };
                this.#emit(
                  'attempt',
                  {
                    ...event,
                    outcome: 'error',
                    latencyMs,
                    error: summary,
                    next: 'next_target',
                    failoverReason: 'breaker open: next target',
                  },
                  ctx,
                );
                if (
                  running.size < maxConcurrent &&
                  launch(false, `failover from ${state.info.id} (breaker open)`)
                ) {
                  scheduleHedge();
                } else if (running.size === 0) failAll();
                return;
              }
              const summary = summarizeError(error);
              if (isUnsupported(error)) {
                // Not the target's failure and no upstream call: no breaker, cooldown or retry charge.
                unsupported.push({ id: state.info.id, error });
                const decision = decideFailover(error);
                this.#emit(
                  'attempt',
                  {
                    ...event,
                    outcome: 'error',
                    latencyMs,
                    error: summary,
                    next: decision.action,
                    failoverReason: decision.reason,
                  },
                  ctx,
                );
                if (
                  running.size < maxConcurrent &&
                  launch(false, `failover from ${state.info.id} (unsupported ${error.param ?? 'request'})`)
                ) {
                  scheduleHedge();
                } else if (running.size === 0) failAll();
                return;
              }
              state.failures++;
              state.lastError = summary;
              if (isCooldownFailure(error)) {
                const wait = Math.min(Math.max(error.retryAfterMs ?? cooldown.defaultMs, 0), cooldown.maxMs);
                state.coolDown(clock.now() + wait);
              }
              const decision = decideFailover(error);
              lastError = error;
              ctx.lastError = error;
              failures.push(error);
              if (ProviderError.isInstance(error) && error.retryable) anyRetryable = true;
              this.#emit(
                'attempt',
                {
                  ...event,
                  outcome: 'error',
                  latencyMs,
                  error: summary,
                  next: decision.action,
                  failoverReason: decision.reason,
                },
                ctx,
              );
              if (decision.action === 'stop') {
                cleanup();
                stopOthers('cancelled');
                reject(
                  new RoutingError(
                    'LLM_EDGE_REQUEST_REJECTED',
                    `${state.info.id} refused the request: ${summary.kind}`,
                    {
                      cause: error,
                      status: rejectedStatus(error),
                      ...clientFacing(error),
                      attempts: [...ctx.attempts],
                    },
                  ),
                );
                return;
              }
              if (decision.action === 'larger_context') {
                needsLargerWindow = true;
                const window = state.facts.contextWindow ?? Number.POSITIVE_INFINITY;
                minContextWindow = Math.max(minContextWindow ?? 0, window);
              }
              if (
                running.size < maxConcurrent &&
                launch(false, `failover from ${state.info.id} (${summary.kind})`)
              ) {
                scheduleHedge();
                return;
              }
              if (running.size === 0) failAll();
            },
          );
      };

      if (!launch(false, ctx.pass > 1 ? `retry pass ${ctx.pass}` : undefined)) {
        failAll();
        return;
      }
      scheduleHedge();
    });
  }

  /** What the adapter says it would refuse locally; a check that throws counts as that refusal. */
  #localRefusal<T>(op: Operation<T>, state: TargetState): unknown {
    try {
      return op.check(state) ?? undefined;
    } catch (error) {
      return error;
    }
  }

  /** Every target of the route refused the request as unsupported: the client's request cannot be served here. */
  #unsupportedByAll(
    routeName: string,
    unsupported: readonly { id: string; error: ProviderError }[],
    ctx: RequestContext,
  ): RoutingError {
    const params = [...new Set(unsupported.map((u) => u.error.param ?? 'the request'))];
    const first = unsupported[0]!;
    const publicMessage =
      params.length === 1
        ? `No target of "${routeName}" supports ${params[0]}.`
        : `No target of "${routeName}" supports this request: ${unsupported
            .map((u) => `${u.id} does not support ${u.error.param ?? 'it'}`)
            .join('; ')}.`;
    return new RoutingError('LLM_EDGE_UNSUPPORTED_BY_TARGETS', publicMessage, {
      cause: first.error,
      status: 400,
      ...(first.error.param !== undefined ? { param: first.error.param } : {}),
      publicMessage,
      retryable: false,
      attempts: [...ctx.attempts],
    });
  }

  #emit<K extends keyof RouterEvents>(name: K, event: RouterEvents[K], ctx?: RequestContext): void {
    if (name === 'attempt' && ctx) ctx.attempts.push(event as AttemptEvent);
    for (const listener of this.#listeners[name]) {
      try {
        listener(event);
      } catch {
        // A listener must never break a request; the failure is counted in health().listenerErrors.
        this.#listenerErrors++;
      }
    }
  }
}
