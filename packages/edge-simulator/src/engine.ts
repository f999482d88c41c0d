import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Generation, type GenerationRequest, generate, modelMatches, ReplyBook } from './content';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_QUEUE,
  DEFAULT_MODELS,
  DEFAULT_PROFILES,
  FALLBACK_PROFILE,
} from './default-profiles';
import { Exchange, readBody, type SimulatorRequestLogEntry } from './exchange';
import { ConcurrencyGate, type LatencySchedule, sampleSchedule } from './latency';
import { SimulatorMetrics } from './metrics';
import { createRandom, type RandomSource } from './random';
import { RateLimiter, type RateLimitState } from './rate-limit';
import type { FaultKind, FaultRule, LatencyProfile, Scenario, SimulatorProvider } from './scenario';

/** An error to send in the provider's own shape. */
export interface WireError {
  status: number;
  message: string;
  /** Provider error type; each surface picks a default from the status when absent. */
  type?: string;
  code?: string | null;
  param?: string | null;
  /** Seconds for `Retry-After` (429/503/529). */
  retryAfterSeconds?: number;
  /** Milliseconds for `retry-after-ms` (read by the OpenAI and Anthropic SDKs before `Retry-After`). */
  retryAfterMs?: number;
  /** Extra provider-specific error fields (Anthropic `error.details`). */
  details?: Record<string, unknown>;
  /** Which limit was hit, for 429s from the rate limiter. */
  limit?: 'requests' | 'tokens';
}

/** How one provider surface renders errors and headers. */
export interface WireFormat {
  readonly provider: SimulatorProvider;
  /** JSON body of an error response. */
  errorBody(error: WireError, requestId: string): unknown;
  /** Headers every response of this surface carries. */
  baseHeaders(requestId: string): Record<string, string>;
  /** The surface's rate-limit headers (may be empty). */
  rateLimitHeaders(state: RateLimitState): Record<string, string>;
  /** Whether errors carry a `Retry-After` header (Gemini puts the hint in the body instead). */
  readonly retryAfterHeader: boolean;
}

/** One frame of a streamed reply: text to write, and when it is due. */
export interface StreamFrame {
  text: string;
  /** `ttft` waits the time to first token, `itl` one inter-token gap, `none` goes at once. */
  due: 'ttft' | 'itl' | 'none';
  /** The part that is JSON, for the malformed-event fault (frame = before + json + after). */
  json?: { before: string; json: string; after: string };
}

/** What a surface wants sent for a generation request. */
export type ResponsePlan =
  | { kind: 'json'; status: number; body: string; headers?: Record<string, string> }
  | {
      kind: 'stream';
      contentType: string;
      frames: StreamFrame[];
      headers?: Record<string, string>;
      /** The surface's in-stream error event (for the `stream_error` fault); `first` = nothing written yet. */
      errorFrame: (error: WireError, first: boolean) => string;
    };

/** Counters kept per model. */
export interface ModelStats {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  inFlight: number;
  queued: number;
}

/** A snapshot of what the simulator has served since start or the last reset. */
export interface SimulatorStats {
  requests: number;
  inFlight: number;
  queued: number;
  promptTokens: number;
  completionTokens: number;
  byProvider: Record<string, number>;
  byModel: Record<string, ModelStats>;
  byStatus: Record<string, number>;
  byOutcome: Record<string, number>;
  faults: Record<string, number>;
  /** Handler failures answered with a bare 500 (should stay 0). */
  internalErrors: number;
}

/** Engine settings fixed at start. */
export interface EngineSettings {
  seed: number;
  timeScale: number;
  apiKeys: readonly string[] | undefined;
  requestLogLimit: number;
  bodyLimitBytes: number;
  clock: () => number;
}

const STATUS_FOR_FAULT: Partial<Record<FaultKind, number>> = {
  error: 500,
  rate_limit: 429,
  server_error: 500,
  unavailable: 503,
  overloaded: 529,
};

interface FaultCounter {
  seen: number;
  fired: number;
}

/** The simulator's state and request lifecycle, shared by the three surfaces. */
export class Engine {
  scenario: Scenario;
  /** Handler failures; each was answered with a bare 500. */
  internalErrors = 0;
  readonly metrics: SimulatorMetrics;
  private readonly replies = new ReplyBook();
  private readonly rateLimiter = new RateLimiter();
  private readonly faultCounters = new Map<FaultRule, FaultCounter>();
  private readonly gates = new Map<string, ConcurrencyGate>();
  private readonly profileCache = new Map<string, LatencyProfile>();
  private modelSets: Record<SimulatorProvider, Set<string>>;
  private log: SimulatorRequestLogEntry[] = [];
  private statsData: SimulatorStats = emptyStats();
  private sequence = 0;
  private faultRandom: RandomSource;
  private latencyRandom: RandomSource;
  private readonly liveExchanges = new Set<Exchange>();

  constructor(
    readonly settings: EngineSettings,
    scenario: Scenario,
  ) {
    this.scenario = scenario;
    this.metrics = new SimulatorMetrics(() => this.gates);
    this.modelSets = buildModelSets(scenario);
    this.faultRandom = createRandom(settings.seed ^ 0x5eed);
    this.latencyRandom = createRandom(settings.seed ^ 0x1a7e);
  }

  setScenario(scenario: Scenario): void {
    this.scenario = scenario;
    this.modelSets = buildModelSets(scenario);
    this.profileCache.clear();
    this.faultCounters.clear();
    this.replies.reset();
    this.rateLimiter.reset();
  }

  /** Clears counters, logs, rate-limit buckets and fault sequences (the scenario stays). */
  reset(): void {
    this.log = [];
    this.statsData = emptyStats();
    this.internalErrors = 0;
    this.faultCounters.clear();
    this.replies.reset();
    this.rateLimiter.reset();
    this.metrics.reset();
    this.faultRandom = createRandom(this.settings.seed ^ 0x5eed);
    this.latencyRandom = createRandom(this.settings.seed ^ 0x1a7e);
  }

  stats(): SimulatorStats {
    const snapshot = structuredClone(this.statsData);
    let inFlight = 0;
    let queued = 0;
    for (const [model, gate] of this.gates) {
      inFlight += gate.active;
      queued += gate.queued;
      const entry = snapshot.byModel[model];
      if (entry) {
        entry.inFlight = gate.active;
        entry.queued = gate.queued;
      }
    }
    snapshot.inFlight = inFlight;
    snapshot.queued = queued;
    snapshot.internalErrors = this.internalErrors;
    return snapshot;
  }

  requestLog(): SimulatorRequestLogEntry[] {
    return structuredClone(this.log);
  }

  /** Destroys every open exchange (used by close()). */
  destroyAll(): void {
    for (const exchange of this.liveExchanges) exchange.req.socket.destroy();
  }

  knownModels(provider: SimulatorProvider): string[] {
    return [...this.modelSets[provider]];
  }

  isKnownModel(provider: SimulatorProvider, model: string): boolean {
    return this.scenario.acceptUnknownModels || this.modelSets[provider].has(model);
  }

  /** Opens an exchange and records it in the log. */
  open(
    req: IncomingMessage,
    res: ServerResponse,
    provider: SimulatorProvider,
    pathname: string,
    query: string,
  ) {
    this.sequence++;
    const exchange = new Exchange(
      req,
      res,
      provider,
      pathname,
      query,
      `sim-${this.sequence}`,
      this.settings.clock(),
    );
    this.log.push(exchange.entry);
    if (this.log.length > this.settings.requestLogLimit) this.log.shift();
    this.liveExchanges.add(exchange);
    this.statsData.requests++;
    this.statsData.byProvider[provider] = (this.statsData.byProvider[provider] ?? 0) + 1;
    res.once('close', () => {
      this.liveExchanges.delete(exchange);
      if (exchange.entry.outcome === 'in_progress') {
        this.finish(exchange, exchange.clientClosed ? 'client_closed' : 'completed');
      }
    });
    return exchange;
  }

  /** Records how an exchange ended (first call wins). */
  finish(exchange: Exchange, outcome: string): void {
    const entry = exchange.entry;
    if (entry.outcome !== 'in_progress') return;
    entry.outcome = outcome;
    entry.endedAt = this.settings.clock();
    const stats = this.statsData;
    stats.byOutcome[outcome] = (stats.byOutcome[outcome] ?? 0) + 1;
    const status = String(entry.status);
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    this.metrics.request(entry.provider, entry.model, status, outcome);
    this.metrics.duration.observe(
      { provider: entry.provider, model: entry.model },
      (entry.endedAt - entry.startedAt) / 1000,
    );
  }

  /** Checks the API key against the allow-list (any non-empty key when there is none). */
  keyAccepted(key: string | undefined): boolean {
    if (key === undefined || key.length === 0) return false;
    const allowed = this.settings.apiKeys;
    return allowed === undefined || allowed.includes(key);
  }

  /** Reads and parses the JSON body; undefined after sending the error itself. */
  async readJson(
    exchange: Exchange,
    format: WireFormat,
  ): Promise<{ ok: true; value: unknown } | { ok: false }> {
    const text = await readBody(exchange.req, this.settings.bodyLimitBytes);
    if (text === undefined && !exchange.req.complete) return { ok: false };
    if (text === undefined) {
      this.sendError(exchange, format, {
        status: 413,
        message: 'Request body too large.',
      });
      return { ok: false };
    }
    try {
      const value: unknown = JSON.parse(text);
      exchange.entry.body = value;
      return { ok: true, value };
    } catch {
      this.sendError(exchange, format, {
        status: 400,
        message: 'We could not parse the JSON body of your request.',
      });
      return { ok: false };
    }
  }

  /** Sends a JSON response with the surface's base headers. */
  sendJson(
    exchange: Exchange,
    format: WireFormat,
    status: number,
    body: string,
    headers: Record<string, string> = {},
    outcome = 'completed',
  ): void {
    const res = exchange.res;
    if (exchange.gone) return;
    exchange.entry.status = status;
    res.writeHead(status, {
      ...format.baseHeaders(exchange.entry.id),
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    this.finish(exchange, outcome);
  }

  /** Sends an error in the surface's shape. */
  sendError(
    exchange: Exchange,
    format: WireFormat,
    error: WireError,
    headers: Record<string, string> = {},
    outcome = 'rejected',
  ): void {
    const extra: Record<string, string> = { ...headers };
    if (error.retryAfterSeconds !== undefined && format.retryAfterHeader)
      extra['retry-after'] = String(Math.ceil(error.retryAfterSeconds));
    if (error.retryAfterMs !== undefined && format.retryAfterHeader)
      extra['retry-after-ms'] = String(error.retryAfterMs);
    this.sendJson(
      exchange,
      format,
      error.status,
      JSON.stringify(format.errorBody(error, exchange.entry.id)),
      extra,
      outcome,
    );
  }

  /** The latency profile for a model: scenario (exact, then glob), built-in (exact, then prefix), fallback. */
  profileFor(model: string): LatencyProfile {
    const cached = this.profileCache.get(model);
    if (cached) return cached;
    const profile = this.resolveProfile(model);
    this.profileCache.set(model, profile);
    return profile;
  }

  private resolveProfile(model: string): LatencyProfile {
    const own = this.scenario.profiles;
    if (own[model]) return own[model];
    for (const [pattern, profile] of Object.entries(own)) if (modelMatches(pattern, model)) return profile;
    if (DEFAULT_PROFILES[model]) return DEFAULT_PROFILES[model];
    let best: string | undefined;
    for (const key of Object.keys(DEFAULT_PROFILES)) {
      if (model.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
    }
    if (best !== undefined) return DEFAULT_PROFILES[best]!;
    return this.scenario.defaultProfile ?? FALLBACK_PROFILE;
  }

  private gateFor(model: string): ConcurrencyGate {
    let gate = this.gates.get(model);
    if (!gate) {
      const profile = this.profileFor(model);
      gate = new ConcurrencyGate(
        profile.concurrency ?? DEFAULT_CONCURRENCY,
        profile.maxQueue ?? DEFAULT_MAX_QUEUE,
      );
      this.gates.set(model, gate);
    }
    return gate;
  }

  /** Picks the fault (if any) for this request, advancing scripted sequences. */
  pickFault(provider: SimulatorProvider, model: string, apiKey: string): FaultRule | undefined {
    for (const rule of this.scenario.faults) {
      const match = rule.match;
      if (match.provider !== undefined && match.provider !== provider) continue;
      if (match.model !== undefined && !modelMatches(match.model, model)) continue;
      if (match.apiKey !== undefined && match.apiKey !== apiKey) continue;
      let counter = this.faultCounters.get(rule);
      if (!counter) {
        counter = { seen: 0, fired: 0 };
        this.faultCounters.set(rule, counter);
      }
      counter.seen++;
      if (counter.seen <= rule.skip) continue;
      if (rule.count !== undefined && counter.fired >= rule.count) continue;
      if (rule.probability < 1 && this.faultRandom() >= rule.probability) continue;
      counter.fired++;
      this.statsData.faults[rule.kind] = (this.statsData.faults[rule.kind] ?? 0) + 1;
      this.metrics.faults.inc({ provider, kind: rule.kind });
      return rule;
    }
    return undefined;
  }

  /** Applies the rate limit for the exchange's key; returns the state (headers) or undefined if none. */
  rateLimit(exchange: Exchange, tokens: number): RateLimitState | undefined {
    const config = this.scenario.rateLimits;
    if (!config) return undefined;
    const limits = config.keys[exchange.apiKey] ?? config.default;
    if (!limits) return undefined;
    return this.rateLimiter.take(
      `${exchange.provider}\u0000${exchange.apiKey}`,
      limits,
      tokens,
      this.settings.clock(),
    );
  }

  /**
   * Handles the common part of a fault before headers: HTTP error statuses, hang and reset.
   * Returns true when the fault ended the exchange.
   */
  async applyEarlyFault(exchange: Exchange, format: WireFormat, fault: FaultRule): Promise<boolean> {
    // A stream_error on a non-stream request can only be an error status.
    const defaultStatus =
      STATUS_FOR_FAULT[fault.kind] ??
      (fault.kind === 'stream_error' && !exchange.entry.stream
        ? streamErrorStatus(exchange.provider)
        : undefined);
    exchange.entry.fault = fault.kind;
    if (defaultStatus !== undefined) {
      const status = fault.status ?? defaultStatus;
      const retryAfter =
        fault.retryAfterSeconds ?? (status === 429 || status === 503 || status === 529 ? 1 : undefined);
      const error: WireError = { status, message: fault.message ?? defaultFaultMessage(status) };
      if (retryAfter !== undefined) error.retryAfterSeconds = retryAfter;
      if (fault.retryAfterMs !== undefined) error.retryAfterMs = fault.retryAfterMs;
      if (fault.errorType !== undefined) error.type = fault.errorType;
      if (fault.errorCode !== undefined) error.code = fault.errorCode;
      if (fault.param !== undefined) error.param = fault.param;
      if (fault.errorDetails !== undefined) error.details = fault.errorDetails;
      let headers: Record<string, string> = {};
      if (status === 429) {
        error.limit = 'requests';
        // A 429 from a real service always comes with its rate-limit headers, showing the limit spent.
        const resetMs = (retryAfter ?? 1) * 1000;
        headers = format.rateLimitHeaders({
          allowed: false,
          now: this.settings.clock(),
          exceeded: 'requests',
          limitRequests: 60,
          remainingRequests: 0,
          resetRequestsMs: resetMs,
          limitTokens: 150_000,
          remainingTokens: 150_000,
          resetTokensMs: 0,
          retryAfterMs: resetMs,
        });
      }
      this.sendError(exchange, format, error, headers, `fault:${fault.kind}`);
      return true;
    }
    if (fault.kind === 'reset') {
      this.finish(exchange, 'fault:reset');
      exchange.destroy();
      return true;
    }
    if (fault.kind === 'hang') {
      if (fault.hangMs !== undefined) {
        await exchange.sleep(fault.hangMs);
        if (!exchange.gone) {
          this.finish(exchange, 'fault:hang');
          exchange.destroy();
        }
      } else {
        await new Promise<void>((resolve) => exchange.onClose(resolve));
      }
      if (exchange.clientClosed) this.finish(exchange, 'client_closed');
      return true;
    }
    return false;
  }

  /** Counts usage into stats and metrics. */
  recordUsage(exchange: Exchange, promptTokens: number, completionTokens: number): void {
    const entry = exchange.entry;
    entry.promptTokens = promptTokens;
    entry.completionTokens = completionTokens;
    const stats = this.statsData;
    stats.promptTokens += promptTokens;
    stats.completionTokens += completionTokens;
    let modelStats = stats.byModel[entry.model];
    if (!modelStats) {
      modelStats = { requests: 0, promptTokens: 0, completionTokens: 0, inFlight: 0, queued: 0 };
      stats.byModel[entry.model] = modelStats;
    }
    modelStats.requests++;
    modelStats.promptTokens += promptTokens;
    modelStats.completionTokens += completionTokens;
    this.metrics.tokens(entry.provider, entry.model, 'prompt', promptTokens);
    this.metrics.tokens(entry.provider, entry.model, 'completion', completionTokens);
  }

  /** Generates `count` answers for a request (scripted reply first, then the content mode). */
  generate(request: GenerationRequest, count: number): Generation[] {
    const scripted = this.replies.take(this.scenario.replies, request);
    return generate(request, this.scenario, this.settings.seed, count, scripted);
  }

  /**
   * The shared tail of every generation endpoint: rate limit, faults, queueing, latency, then the
   * surface's plan played out on the wire with any stream fault applied.
   */
  async serveGeneration(
    exchange: Exchange,
    format: WireFormat,
    promptTokens: number,
    generations: Generation[],
    plan: () => ResponsePlan,
  ): Promise<void> {
    const completionTokens = generations.reduce((sum, g) => sum + g.completionTokens, 0);
    const limitState = this.rateLimit(exchange, promptTokens + completionTokens);
    const limitHeaders = limitState ? format.rateLimitHeaders(limitState) : {};
    if (limitState && !limitState.allowed) {
      const exceeded = limitState.exceeded ?? 'requests';
      this.sendError(
        exchange,
        format,
        {
          status: 429,
          message: `Rate limit reached for ${exceeded} per minute.`,
          retryAfterSeconds: Math.max(1, Math.ceil((limitState.retryAfterMs ?? 1000) / 1000)),
          limit: exceeded,
        },
        limitHeaders,
        'rate_limited',
      );
      return;
    }
    const fault = this.pickFault(exchange.provider, exchange.entry.model, exchange.apiKey);
    if (fault && (await this.applyEarlyFault(exchange, format, fault))) return;
    exchange.fault = fault;

    const model = exchange.entry.model;
    const gate = this.gateFor(model);
    if (!gate.tryAcquire()) {
      let cancel: (() => void) | undefined;
      const off = exchange.onClose(() => cancel?.());
      const admitted = await gate.acquire((c) => {
        cancel = c;
      });
      off();
      if (!admitted) {
        if (exchange.gone) {
          this.finish(exchange, 'client_closed');
          return;
        }
        this.sendError(
          exchange,
          format,
          {
            status: exchange.provider === 'anthropic' ? 529 : 503,
            message: 'The model is overloaded.',
            retryAfterSeconds: 1,
          },
          limitHeaders,
          'overloaded',
        );
        return;
      }
    }
    try {
      this.recordUsage(exchange, promptTokens, completionTokens);
      const response = plan();
      const pieces = Math.max(1, ...generations.map((g) => g.pieces.length || g.toolCalls.length));
      if (response.kind === 'json') {
        const schedule =
          this.settings.timeScale === 0
            ? undefined
            : sampleSchedule(this.profileFor(model), pieces, this.settings.timeScale, this.latencyRandom);
        if (schedule) await exchange.sleep(schedule.totalMs);
        await this.writeJsonPlan(exchange, format, response, limitHeaders);
      } else {
        const contentFrames = response.frames.reduce((n, f) => n + (f.due === 'none' ? 0 : 1), 0);
        const schedule = sampleSchedule(
          this.profileFor(model),
          contentFrames,
          this.settings.timeScale,
          this.latencyRandom,
        );
        await this.playStream(exchange, format, response, limitHeaders, schedule);
      }
    } finally {
      gate.release();
    }
  }

  private async writeJsonPlan(
    exchange: Exchange,
    format: WireFormat,
    plan: Extract<ResponsePlan, { kind: 'json' }>,
    limitHeaders: Record<string, string>,
  ): Promise<void> {
    const fault = exchange.fault;
    if (exchange.gone) {
      this.finish(exchange, exchange.clientClosed ? 'client_closed' : 'completed');
      return;
    }
    if (!fault) {
      this.sendJson(exchange, format, plan.status, plan.body, { ...limitHeaders, ...plan.headers });
      return;
    }
    const res = exchange.res;
    const outcome = `fault:${fault.kind}`;
    const body =
      fault.kind === 'malformed_sse' ? plan.body.slice(0, Math.floor(plan.body.length / 2)) : plan.body;
    exchange.entry.status = plan.status;
    res.writeHead(plan.status, {
      ...format.baseHeaders(exchange.entry.id),
      ...limitHeaders,
      ...plan.headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    if (fault.kind === 'disconnect') {
      res.write(body.slice(0, Math.floor(body.length / 2)));
      this.finish(exchange, outcome);
      exchange.cut();
      return;
    }
    if (fault.kind === 'trickle') {
      const interval = fault.intervalMs ?? 250;
      const step = Math.max(1, Math.ceil(body.length / 20));
      for (let at = 0; at < body.length && !exchange.gone; at += step) {
        if (at > 0) await exchange.sleep(interval);
        await exchange.write(body.slice(at, at + step));
      }
      if (exchange.gone) {
        this.finish(exchange, exchange.clientClosed ? 'client_closed' : outcome);
        return;
      }
      res.end();
      this.finish(exchange, outcome);
      return;
    }
    res.end(body);
    this.finish(exchange, outcome);
  }

  private async playStream(
    exchange: Exchange,
    format: WireFormat,
    plan: Extract<ResponsePlan, { kind: 'stream' }>,
    limitHeaders: Record<string, string>,
    schedule: LatencySchedule,
  ): Promise<void> {
    const res = exchange.res;
    const fault = exchange.fault;
    if (exchange.gone) {
      this.finish(exchange, 'client_closed');
      return;
    }
    exchange.entry.status = 200;
    res.writeHead(200, {
      ...format.baseHeaders(exchange.entry.id),
      ...limitHeaders,
      ...plan.headers,
      'content-type': plan.contentType,
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    const contentFrames = plan.frames.filter((f) => f.due !== 'none').length;
    const faultAt = fault ? Math.min(fault.afterChunks ?? Math.floor(contentFrames / 2), contentFrames) : -1;
    let content = 0;
    let gap = 0;
    let malformedDone = false;
    let written = 0;
    for (const frame of plan.frames) {
      if (exchange.gone) break;
      let wait = 0;
      if (frame.due === 'ttft') wait = schedule.ttftMs;
      else if (frame.due === 'itl') wait = schedule.gapsMs[gap++] ?? 0;
      if (fault?.kind === 'trickle') wait = Math.max(wait, fault.intervalMs ?? 250);
      if (wait > 0) await exchange.sleep(wait);
      if (exchange.gone) break;
      if (frame.due !== 'none') {
        if (fault?.kind === 'disconnect' && content === faultAt) {
          this.finish(exchange, 'fault:disconnect');
          exchange.cut();
          return;
        }
        if (fault?.kind === 'stream_error' && content === faultAt) {
          const status = fault.status ?? streamErrorStatus(exchange.provider);
          const error: WireError = { status, message: fault.message ?? defaultFaultMessage(status) };
          if (fault.errorType !== undefined) error.type = fault.errorType;
          if (fault.errorCode !== undefined) error.code = fault.errorCode;
          if (fault.param !== undefined) error.param = fault.param;
          if (fault.errorDetails !== undefined) error.details = fault.errorDetails;
          await exchange.write(plan.errorFrame(error, written === 0));
          if (!exchange.gone) res.end();
          this.finish(exchange, exchange.clientClosed ? 'client_closed' : 'fault:stream_error');
          return;
        }
        if (fault?.kind === 'malformed_sse' && content === faultAt && !malformedDone && frame.json) {
          malformedDone = true;
          const { before, json, after } = frame.json;
          await exchange.write(before + json.slice(0, Math.ceil(json.length / 2)) + after);
        }
        content++;
      }
      await exchange.write(frame.text);
      written++;
    }
    if (fault?.kind === 'disconnect' && !exchange.gone) {
      this.finish(exchange, 'fault:disconnect');
      exchange.cut();
      return;
    }
    if (exchange.gone) {
      this.finish(exchange, exchange.clientClosed ? 'client_closed' : 'completed');
      return;
    }
    res.end();
    this.finish(exchange, fault ? `fault:${fault.kind}` : 'completed');
  }
}

/** The status an in-stream error stands for: Anthropic's documented example is overloaded_error. */
function streamErrorStatus(provider: SimulatorProvider): number {
  return provider === 'anthropic' ? 529 : provider === 'gemini' ? 503 : 500;
}

function defaultFaultMessage(status: number): string {
  switch (status) {
    case 429:
      return 'Rate limit reached. Please retry after a short wait.';
    case 500:
      return 'The server had an error while processing your request.';
    case 503:
      return 'The service is temporarily unavailable.';
    case 529:
      return 'Overloaded';
    default:
      return `Simulated error ${status}.`;
  }
}

function buildModelSets(scenario: Scenario): Record<SimulatorProvider, Set<string>> {
  return {
    openai: new Set([...DEFAULT_MODELS.openai, ...scenario.models.openai]),
    anthropic: new Set([...DEFAULT_MODELS.anthropic, ...scenario.models.anthropic]),
    gemini: new Set([...DEFAULT_MODELS.gemini, ...scenario.models.gemini]),
  };
}

function emptyStats(): SimulatorStats {
  return {
    requests: 0,
    inFlight: 0,
    queued: 0,
    promptTokens: 0,
    completionTokens: 0,
    byProvider: {},
    byModel: {},
    byStatus: {},
    byOutcome: {},
    faults: {},
    internalErrors: 0,
  };
}
