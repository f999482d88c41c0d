import type { ChatRequest, EmbeddingsRequest, Usage } from '@llm-edge/providers';
import type { ApiKeyRecord, ApiKeyStore, HeadersLike } from './api-key-store';
import type { PiiFindings, PiiMode } from './pii-scanner';
import { PiiScanner } from './pii-scanner';
import { rateLimitHeaders } from './rate-limit-headers';
import {
  RateLimiter,
  type RateLimitReservation,
  type RateLimitState,
  type RateLimitSubject,
} from './rate-limiter';
import { type ModelLimits, RequestValidator } from './request-validation';
import { SpendLedger, type SpendState } from './spend-ledger';
import { type TokenEstimate, usageTotalTokens } from './token-estimate';

/** Options of {@link SecurityGuard}: the parts it runs, each configured by the caller. */
export interface SecurityGuardOptions {
  /**
   * Gateway keys. Without a store no key is required and callers are limited per client IP.
   * @default undefined
   */
  keys?: ApiKeyStore;
  /**
   * Requests- and tokens-per-minute limits.
   * @default new RateLimiter() (in-process)
   */
  limiter?: RateLimiter;
  /**
   * Spend budgets.
   * @default new SpendLedger() (in-process)
   */
  spend?: SpendLedger;
  /**
   * Request validation.
   * @default new RequestValidator()
   */
  validator?: RequestValidator;
  /**
   * PII scanning; its `mode` applies unless a call names one.
   * @default new PiiScanner() (mode 'redact')
   */
  pii?: PiiScanner;
}

/** One incoming request as the proxy sees it. */
export interface AdmitInput {
  readonly headers: HeadersLike;
  /** Client address, used as the limit subject when no key store is configured. */
  readonly clientIp?: string;
  /** The parsed JSON body. */
  readonly body: unknown;
  /** Raw body size, when known. */
  readonly bodyBytes?: number;
  /** PII mode of the route; defaults to the scanner's. */
  readonly piiMode?: PiiMode;
  /** Limits of the model the request will reach, when the caller resolved an alias. */
  readonly model?: ModelLimits;
}

/** What a request needs after admission; pass it to {@link SecurityGuard.settle} after the call. */
export interface Admission<T> {
  /** The authenticated key; absent without a key store. */
  readonly key?: ApiKeyRecord;
  readonly subject: RateLimitSubject;
  /** The validated request, redacted when the PII mode is `redact`. */
  readonly request: T;
  /** Tokens reserved against the tokens limit. */
  readonly estimatedTokens: number;
  readonly reservation: RateLimitReservation;
  /** PII counts by kind (never values). */
  readonly pii: PiiFindings;
  /** `x-ratelimit-*` headers for the response. */
  readonly headers: Record<string, string>;
}

/** A chat request's admission, with the full token estimate. */
export interface ChatAdmission extends Admission<ChatRequest> {
  readonly tokens: TokenEstimate;
}

/** What happened upstream, for settling limits and spend. */
export interface SettleInput {
  /** The provider's usage report; reconciles the tokens limit with it. */
  readonly usage?: Pick<Usage, 'prompt_tokens' | 'completion_tokens'> & { total_tokens?: number };
  /** Tokens used when there is no usage report (0 when the call failed before any output). */
  readonly tokens?: number;
  /** Cost of the call in USD (e.g. from the providers' `priceUsage`), recorded against the key's budget. */
  readonly costUsd?: number;
}

/** Result of {@link SecurityGuard.settle}. */
export interface SettleResult {
  readonly tokens?: RateLimitState;
  readonly spend?: SpendState;
}

/**
 * Runs the security stages of the gateway pipeline in order, for a request the proxy has parsed:
 * authenticate (401) → validate (400/413) → model permission (403) → PII (redact / 400 in block
 * mode) → budget (429) → requests and tokens limits (429). Every stage is also usable on its own.
 *
 * @example
 * ```ts
 * const guard = new SecurityGuard({ keys, limiter: new RateLimiter({ redis }), spend: new SpendLedger({ redis }) });
 * const admission = await guard.admitChat({ headers: req.headers, clientIp: req.ip, body: req.body });
 * reply.headers(admission.headers);
 * const { response } = await router.chat(admission.request);
 * await guard.settle(admission, { usage: response.usage, costUsd: priceUsage(model, response.usage)?.totalUsd });
 * ```
 */
export class SecurityGuard {
  readonly keys: ApiKeyStore | undefined;
  readonly limiter: RateLimiter;
  readonly spend: SpendLedger;
  readonly validator: RequestValidator;
  readonly pii: PiiScanner;

  constructor(options: SecurityGuardOptions = {}) {
    this.keys = options.keys;
    this.limiter = options.limiter ?? new RateLimiter();
    this.spend = options.spend ?? new SpendLedger();
    this.validator = options.validator ?? new RequestValidator();
    this.pii = options.pii ?? new PiiScanner();
  }

  /** Authenticates by headers (when a key store is configured) and returns the limit subject. */
  authenticate(input: Pick<AdmitInput, 'headers' | 'clientIp'>): {
    key?: ApiKeyRecord;
    subject: RateLimitSubject;
  } {
    if (this.keys === undefined) return { subject: this.limiter.ipSubject(input.clientIp ?? 'unknown') };
    const key = this.keys.authenticate(input.headers);
    return { key, subject: key };
  }

  /** Admits a chat request through every stage; throws the first stage's SecurityError. */
  async admitChat(input: AdmitInput): Promise<ChatAdmission> {
    const { key, subject } = this.authenticate(input);
    const validated = this.validator.validateChat(input.body, {
      ...(input.bodyBytes !== undefined ? { bodyBytes: input.bodyBytes } : {}),
      ...(input.model !== undefined ? { model: input.model } : {}),
    });
    if (key) this.keys!.authorizeModel(key, validated.request.model);
    const scanned = this.pii.applyToChatRequest(validated.request, input.piiMode);
    if (key) await this.spend.check(key);
    // The estimate tokenizes the prompt: only a tokens limit (or a later read of `tokens`) pays for it.
    const reservation = await this.limiter.reserve(subject, () => validated.tokens.totalTokens);
    const admission = {
      ...(key ? { key } : {}),
      subject,
      request: scanned.request,
      estimatedTokens: reservation.estimatedTokens,
      reservation,
      pii: { total: scanned.total, counts: scanned.counts },
      headers: rateLimitHeaders(reservation),
    };
    return Object.defineProperty(admission, 'tokens', {
      enumerable: true,
      get: () => validated.tokens,
    }) as ChatAdmission;
  }

  /** Admits an embeddings request through every stage. */
  async admitEmbeddings(input: AdmitInput): Promise<Admission<EmbeddingsRequest>> {
    const { key, subject } = this.authenticate(input);
    const validated = this.validator.validateEmbeddings(
      input.body,
      input.bodyBytes !== undefined ? { bodyBytes: input.bodyBytes } : {},
    );
    if (key) this.keys!.authorizeModel(key, validated.request.model);
    const scanned = this.pii.applyToEmbeddingsRequest(validated.request, input.piiMode);
    if (key) await this.spend.check(key);
    const reservation = await this.limiter.reserve(subject, () => validated.tokens);
    return {
      ...(key ? { key } : {}),
      subject,
      request: scanned.request,
      estimatedTokens: reservation.estimatedTokens,
      reservation,
      pii: { total: scanned.total, counts: scanned.counts },
      headers: rateLimitHeaders(reservation),
    };
  }

  /**
   * Reconciles the tokens limit with what the call used and records its cost. Without `usage` or
   * `tokens` the reservation stands as estimated.
   */
  async settle(admission: Admission<unknown>, input: SettleInput = {}): Promise<SettleResult> {
    const used = input.usage !== undefined ? usageTotalTokens(input.usage) : input.tokens;
    const tokens = used === undefined ? undefined : await this.limiter.reconcile(admission.reservation, used);
    const spend =
      admission.key && input.costUsd !== undefined
        ? await this.spend.record(admission.key, input.costUsd)
        : undefined;
    return { ...(tokens ? { tokens } : {}), ...(spend ? { spend } : {}) };
  }
}
