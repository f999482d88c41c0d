import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Context,
  type GenAiTracing,
  genAiProviderName,
  type InferenceResponseInfo,
  type InferenceSpan,
  injectTraceHeaders,
  normalizeUsage,
} from '@llm-edge/monitoring';
import type {
  CallOptions,
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
  Provider,
} from '@llm-edge/providers';
import { isTokenChunk, type TargetInfo } from '@llm-edge/routing';

/** What the pipeline knows about one routed call, read by the attempt spans started under it. */
export interface AttemptScope {
  /** Context the attempt spans are children of (the pipeline's `route` stage). */
  readonly parent: Context;
  /** The model name the client asked for (`gen_ai.request.model`): an alias, a target id or a model. */
  readonly requestModel: string;
  /** The route's targets, to name the one an attempt went to (`llm_edge.target`). */
  readonly targets: readonly TargetInfo[];
  readonly maxTokens?: number | undefined;
  readonly temperature?: number | undefined;
  readonly topP?: number | undefined;
  /**
   * Whether the request's spans are recorded. When they are not (no SDK, or the sampler dropped
   * the request), attempts get no span of their own: the trace context is still sent upstream,
   * but no span objects, attributes or abort listeners are made per attempt.
   * @default true
   */
  readonly recording?: boolean;
}

/** The scope as stored: an unrecorded one carries the trace headers every attempt sends. */
interface StoredScope extends AttemptScope {
  readonly traceHeaders?: Readonly<Record<string, string>>;
}

/** Host and port of a provider's upstream (`server.address`, `server.port`). */
export interface UpstreamEndpoint {
  readonly address: string;
  readonly port: number;
}

/** How an attempt ended, as the `llm_edge.attempt.outcome` attribute says. */
type AttemptOutcome = 'success' | 'error' | 'cancelled';

/**
 * One upstream attempt's span. It ends on success, on failure, or when the attempt's signal aborts
 * (a lost hedge race, a client gone): the router aborts attempts it no longer needs without always
 * draining them, so the signal is the one event every attempt is sure to see.
 */
class AttemptSpan {
  readonly span: InferenceSpan;
  readonly #signal: AbortSignal | undefined;
  readonly #startedAt = performance.now();
  #firstToken = false;
  #ended = false;
  readonly #onAbort = (): void => this.end('cancelled');

  constructor(span: InferenceSpan, signal: AbortSignal | undefined) {
    this.span = span;
    this.#signal = signal;
    if (signal?.aborted) this.end('cancelled');
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  firstToken(): void {
    if (this.#firstToken) return;
    this.#firstToken = true;
    this.span.recordFirstToken(Math.round((performance.now() - this.#startedAt) * 1000) / 1000);
  }

  succeed(info: InferenceResponseInfo): void {
    if (this.#ended) return;
    this.span.setResponse(info);
    this.end('success');
  }

  /** A failure of an attempt whose signal fired is the abort, not an upstream error. */
  failed(error: unknown): void {
    if (this.#signal?.aborted) this.end('cancelled');
    else this.end('error', error);
  }

  end(outcome: AttemptOutcome, error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (outcome === 'error') this.span.fail(error);
    this.span.setAttributes({ 'llm_edge.attempt.outcome': outcome });
    this.span.end();
  }
}

function chatResponseInfo(response: ChatResponse): InferenceResponseInfo {
  const usage = normalizeUsage(response.usage);
  return {
    id: response.id,
    model: response.model,
    finishReasons: response.choices.map((c) => c.finish_reason ?? 'unknown'),
    ...(usage ? { usage } : {}),
  };
}

/**
 * A provider's stream seen through its attempt span: the first token, the finish reasons and the
 * usage chunk are recorded as they pass, and the span ends with the stream (completed, failed, or
 * ended early by the consumer). A plain iterator so that `return()` works before the first `next()`.
 */
class TracedStream implements AsyncIterableIterator<ChatChunk> {
  readonly #source: AsyncIterable<ChatChunk>;
  readonly #attempt: AttemptSpan;
  #iterator: AsyncIterator<ChatChunk> | undefined;
  #id: string | undefined;
  #model: string | undefined;
  readonly #finishReasons: string[] = [];
  #usage: ChatChunk['usage'];

  constructor(source: AsyncIterable<ChatChunk>, attempt: AttemptSpan) {
    this.#source = source;
    this.#attempt = attempt;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ChatChunk> {
    return this;
  }

  async next(): Promise<IteratorResult<ChatChunk>> {
    let result: IteratorResult<ChatChunk>;
    try {
      result = await this.#upstream().next();
    } catch (error) {
      this.#attempt.failed(error);
      throw error;
    }
    if (result.done) {
      const usage = normalizeUsage(this.#usage);
      this.#attempt.succeed({
        ...(this.#id !== undefined ? { id: this.#id } : {}),
        ...(this.#model !== undefined ? { model: this.#model } : {}),
        finishReasons: this.#finishReasons.filter((r) => r !== undefined),
        ...(usage ? { usage } : {}),
      });
    } else {
      this.#observe(result.value);
    }
    return result;
  }

  async return(): Promise<IteratorResult<ChatChunk>> {
    this.#attempt.end('cancelled');
    await this.#upstream().return?.();
    return { done: true, value: undefined };
  }

  #upstream(): AsyncIterator<ChatChunk> {
    this.#iterator ??= this.#source[Symbol.asyncIterator]();
    return this.#iterator;
  }

  #observe(chunk: ChatChunk): void {
    this.#id ??= chunk.id;
    this.#model ??= chunk.model;
    if (chunk.usage) this.#usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.finish_reason != null) this.#finishReasons[choice.index] = choice.finish_reason;
    }
    if (isTokenChunk(chunk)) this.#attempt.firstToken();
  }
}

/**
 * One GenAI CLIENT span per upstream attempt. The router calls each target's provider once per
 * attempt (first try, failover, hedge, retry pass) and passes the same call options to all of them,
 * so the span is started where the attempt really happens: in a decorator around each provider,
 * which reads the request's facts from an async-local scope the pipeline opens around the routed
 * call, and sends that attempt's own `traceparent` upstream.
 *
 * @example
 * ```ts
 * const attempts = new AttemptTracer(tracing);
 * const router = new Router({ providers: { openai: attempts.wrap(openai) }, targets });
 * await attempts.run({ parent, requestModel: 'fast', targets: route.targets }, () => router.chat(request));
 * ```
 */
export class AttemptTracer {
  readonly #tracing: GenAiTracing;
  readonly #scope = new AsyncLocalStorage<StoredScope>();

  constructor(tracing: GenAiTracing) {
    this.#tracing = tracing;
  }

  /** Runs `fn` (a routed call) with `scope` visible to every attempt it makes. */
  run<T>(scope: AttemptScope, fn: () => T): T {
    if (scope.recording !== false) return this.#scope.run(scope, fn);
    // Unrecorded, every attempt sends the same trace headers: work them out once. Without any
    // (no SDK and no trace context from the client, the common case) an attempt has nothing to
    // add, so the call runs without a scope; entering one copies the async context on every request.
    const traceHeaders = injectTraceHeaders({}, scope.parent);
    if (Object.keys(traceHeaders).length === 0 && this.#scope.getStore() === undefined) return fn();
    return this.#scope.run({ ...scope, traceHeaders }, fn);
  }

  /**
   * The provider with a span around each call made inside {@link AttemptTracer.run}; calls outside
   * any scope, and every other member, pass through untouched.
   */
  wrap<P extends Provider>(provider: P, endpoint?: UpstreamEndpoint): P {
    const traced: Pick<Provider, 'chat' | 'chatStream' | 'embeddings'> = {
      chat: async (request: ChatRequest, options?: CallOptions): Promise<ChatResponse> => {
        const started = this.#start(provider, 'chat', request.model, false, endpoint, options);
        if (started === undefined) return provider.chat(request, options);
        if (started.attempt === undefined) return provider.chat(request, started.options);
        try {
          const response = await provider.chat(request, started.options);
          started.attempt.succeed(chatResponseInfo(response));
          return response;
        } catch (error) {
          started.attempt.failed(error);
          throw error;
        }
      },
      chatStream: async (request: ChatRequest, options?: CallOptions): Promise<AsyncIterable<ChatChunk>> => {
        const started = this.#start(provider, 'chat', request.model, true, endpoint, options);
        if (started === undefined) return provider.chatStream(request, options);
        if (started.attempt === undefined) return provider.chatStream(request, started.options);
        try {
          return new TracedStream(await provider.chatStream(request, started.options), started.attempt);
        } catch (error) {
          started.attempt.failed(error);
          throw error;
        }
      },
      embeddings: async (request: EmbeddingsRequest, options?: CallOptions): Promise<EmbeddingsResponse> => {
        const started = this.#start(provider, 'embeddings', request.model, undefined, endpoint, options);
        if (started === undefined) return provider.embeddings(request, options);
        if (started.attempt === undefined) return provider.embeddings(request, started.options);
        try {
          const response = await provider.embeddings(request, started.options);
          started.attempt.succeed({
            model: response.model,
            usage: { inputTokens: response.usage.prompt_tokens, outputTokens: 0 },
          });
          return response;
        } catch (error) {
          started.attempt.failed(error);
          throw error;
        }
      },
    };
    // A Proxy rather than a copy: members the adapter adds later (close, request checks) keep
    // working, each called on the adapter itself.
    const bound = new Map<unknown, unknown>();
    return new Proxy(provider, {
      get(target, property) {
        if (property === 'chat' || property === 'chatStream' || property === 'embeddings') {
          return traced[property];
        }
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        let method = bound.get(value);
        if (method === undefined) {
          method = value.bind(target);
          bound.set(value, method);
        }
        return method;
      },
    });
  }

  #start(
    provider: Provider,
    operation: 'chat' | 'embeddings',
    upstreamModel: string,
    stream: boolean | undefined,
    endpoint: UpstreamEndpoint | undefined,
    options: CallOptions | undefined,
  ): { attempt: AttemptSpan | undefined; options: CallOptions } | undefined {
    const scope = this.#scope.getStore();
    if (scope === undefined) return undefined;
    if (scope.recording === false) {
      const headers = { ...options?.headers, ...scope.traceHeaders };
      return { attempt: undefined, options: { ...options, headers } };
    }
    const span = this.#tracing.startInferenceSpan({
      operation,
      provider: genAiProviderName(provider.kind, provider.name),
      model: scope.requestModel,
      parent: scope.parent,
      ...(stream !== undefined ? { stream } : {}),
      ...(scope.maxTokens !== undefined ? { maxTokens: scope.maxTokens } : {}),
      ...(scope.temperature !== undefined ? { temperature: scope.temperature } : {}),
      ...(scope.topP !== undefined ? { topP: scope.topP } : {}),
      ...(endpoint ? { serverAddress: endpoint.address, serverPort: endpoint.port } : {}),
      attributes: {
        'llm_edge.target': scope.targets.find(
          (t) => t.provider === provider.name && t.model === upstreamModel,
        )?.id,
        'llm_edge.target.provider': provider.name,
        'llm_edge.target.model': upstreamModel,
      },
    });
    const attempt = new AttemptSpan(span, options?.signal);
    const headers = span.injectHeaders({ ...options?.headers });
    return { attempt, options: { ...options, headers } };
  }
}
