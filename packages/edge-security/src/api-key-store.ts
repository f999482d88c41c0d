import { type ApiKeyHashAlgorithm, digestApiKey, digestsEqual, parseApiKeyHash } from './api-key-hash';
import { AuthenticationError, PermissionError, SecurityOptionsError } from './errors';
import { compileModelMatcher, type ModelMatcher } from './model-pattern';
import type { BudgetPeriod } from './spend-ledger';

/** One gateway key as written in configuration: a name, the hash of the key, and its metadata. */
export interface ApiKeyEntry {
  /** Unique, human-readable name; appears in logs and errors instead of the key. */
  readonly name: string;
  /** `sha256:<hex>` or `hmac-sha256:<hex>` as produced by `hashApiKey` / `generateApiKey`. */
  readonly hash: string;
  /** Models or aliases this key may call: exact names or globs (`gpt-4o*`, `openai/*`). Absent = all. */
  readonly models?: readonly string[];
  /** Requests per minute. Absent = the store's `defaults.rpm` (or unlimited). */
  readonly rpm?: number;
  /** Tokens per minute (prompt estimate + output allowance, reconciled with usage). Absent = `defaults.tpm`. */
  readonly tpm?: number;
  /** Spend budget in USD per `budgetPeriod`. Absent = no budget. */
  readonly budgetUsd?: number;
  /** Period the budget applies to (UTC calendar day or month, or the key's lifetime). @default 'month' */
  readonly budgetPeriod?: BudgetPeriod;
  /** A disabled key is recognised but refused with `LLM_EDGE_API_KEY_DISABLED`. @default false */
  readonly disabled?: boolean;
}

/**
 * What the gateway knows about an authenticated key. It is also the subject for the rate limiter
 * and the spend ledger: `id` is `key:<name>`, never derived from the key itself.
 */
export interface ApiKeyRecord {
  /** Identity used for rate-limit and spend counters: `key:<name>`. */
  readonly id: string;
  readonly name: string;
  /** Allowed model patterns as configured; absent = all. */
  readonly models?: readonly string[];
  /** Effective requests per minute (entry, else store default); absent = unlimited. */
  readonly rpm?: number;
  /** Effective tokens per minute; absent = unlimited. */
  readonly tpm?: number;
  readonly budgetUsd?: number;
  readonly budgetPeriod?: BudgetPeriod;
  readonly disabled: boolean;
}

/** Options of {@link ApiKeyStore}. */
export interface ApiKeyStoreOptions {
  /**
   * The keys, each holding only the hash of its key.
   * @default []
   */
  keys?: readonly ApiKeyEntry[];
  /**
   * Server secret for `hmac-sha256:` hashes. Required when any entry uses one.
   * @default undefined
   */
  secret?: string;
  /**
   * Limits for keys that set none of their own.
   * @default {}
   */
  defaults?: { readonly rpm?: number; readonly tpm?: number };
  /**
   * Longest key accepted from a request; longer values are refused before hashing.
   * @default 512
   */
  maxKeyLength?: number;
}

/** Default {@link ApiKeyStoreOptions}. */
export const DEFAULT_API_KEY_STORE_OPTIONS = Object.freeze({
  keys: [] as readonly ApiKeyEntry[],
  defaults: Object.freeze({}) as { readonly rpm?: number; readonly tpm?: number },
  maxKeyLength: 512,
});

/** Request headers, as a fetch `Headers` or a Node-style object with lower-case names. */
export type HeadersLike = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Where a key was found in the request. */
export type ApiKeySource = 'authorization' | 'x-api-key' | 'x-goog-api-key';

/** A key taken from request headers. */
export interface ExtractedApiKey {
  readonly key: string;
  readonly source: ApiKeySource;
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;
// Printable ASCII without space: what every SDK sends and nothing a header-injection attempt needs.
const KEY_CHARS = /^[\x21-\x7e]+$/;
const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'month', 'total'];

function headerValue(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length === 1) return value[0];
  // Repeated credentials are ambiguous; refusing them is safer than picking one.
  throw new AuthenticationError('LLM_EDGE_INVALID_API_KEY', `The ${name} header was sent more than once`);
}

/**
 * Takes the gateway key from `Authorization: Bearer` (OpenAI SDK), `x-api-key` (Anthropic SDK) or
 * `x-goog-api-key` (Google GenAI SDK), in that order. Returns `undefined` when none is present.
 *
 * @throws AuthenticationError `LLM_EDGE_INVALID_API_KEY` when a header is present but malformed.
 * @example
 * ```ts
 * const found = extractApiKey(request.headers); // { key: 'sk-edge-…', source: 'authorization' }
 * ```
 */
export function extractApiKey(headers: HeadersLike, maxKeyLength = 512): ExtractedApiKey | undefined {
  const authorization = headerValue(headers, 'authorization');
  let found: ExtractedApiKey | undefined;
  if (authorization !== undefined && authorization.trim() !== '') {
    const match = BEARER.exec(authorization.trim());
    if (!match) {
      throw new AuthenticationError(
        'LLM_EDGE_INVALID_API_KEY',
        'The Authorization header must be "Bearer <key>"',
      );
    }
    found = { key: match[1]!, source: 'authorization' };
  } else {
    for (const source of ['x-api-key', 'x-goog-api-key'] as const) {
      const value = headerValue(headers, source)?.trim();
      if (value) {
        found = { key: value, source };
        break;
      }
    }
  }
  if (found === undefined) return undefined;
  if (found.key.length > maxKeyLength || !KEY_CHARS.test(found.key)) {
    throw new AuthenticationError('LLM_EDGE_INVALID_API_KEY', 'Invalid API key');
  }
  return found;
}

interface StoredKey {
  readonly record: ApiKeyRecord;
  readonly digest: Buffer;
  readonly matcher: ModelMatcher;
}

function positiveInt(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new SecurityOptionsError(field, 'must be a positive integer');
  }
  return value;
}

/**
 * The gateway's keys, held as hashes only. Authenticates a request's headers to a key record and
 * checks which models the key may use.
 *
 * Lookup hashes the presented key (SHA-256 or HMAC-SHA-256, about 1 µs), finds the candidate by
 * digest, and confirms it with `crypto.timingSafeEqual`. Timing can only tell an attacker about
 * digests of inputs they chose, which does not help them find a valid key.
 *
 * @example
 * ```ts
 * const store = new ApiKeyStore({ keys: [{ name: 'team-a', hash: 'sha256:…', models: ['gpt-4o*'], rpm: 60 }] });
 * const key = store.authenticate(req.headers);       // 401 AuthenticationError if missing or bad
 * store.authorizeModel(key, body.model);             // 403 PermissionError if not allowed
 * ```
 */
export class ApiKeyStore {
  readonly #secret: string | undefined;
  readonly #maxKeyLength: number;
  readonly #byAlgorithm = new Map<ApiKeyHashAlgorithm, Map<string, StoredKey>>();
  readonly #byName = new Map<string, StoredKey>();

  constructor(options: ApiKeyStoreOptions = {}) {
    const keys = options.keys ?? DEFAULT_API_KEY_STORE_OPTIONS.keys;
    if (!Array.isArray(keys)) throw new SecurityOptionsError('keys', 'must be an array of key entries');
    if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret === '')) {
      throw new SecurityOptionsError('secret', 'must be a non-empty string');
    }
    this.#secret = options.secret;
    this.#maxKeyLength = options.maxKeyLength ?? DEFAULT_API_KEY_STORE_OPTIONS.maxKeyLength;
    positiveInt(this.#maxKeyLength, 'maxKeyLength');
    const defaults = options.defaults ?? DEFAULT_API_KEY_STORE_OPTIONS.defaults;
    const defaultRpm = positiveInt(defaults.rpm, 'defaults.rpm');
    const defaultTpm = positiveInt(defaults.tpm, 'defaults.tpm');

    keys.forEach((entry, index) => {
      const at = `keys[${index}]`;
      if (typeof entry !== 'object' || entry === null)
        throw new SecurityOptionsError(at, 'must be an object');
      if (typeof entry.name !== 'string' || entry.name.trim() === '') {
        throw new SecurityOptionsError(`${at}.name`, 'must be a non-empty string');
      }
      if (this.#byName.has(entry.name)) {
        throw new SecurityOptionsError(`${at}.name`, `duplicate key name "${entry.name}"`);
      }
      if (typeof entry.hash !== 'string') throw new SecurityOptionsError(`${at}.hash`, 'must be a string');
      const parsed = parseApiKeyHash(entry.hash);
      if (!parsed) {
        throw new SecurityOptionsError(`${at}.hash`, 'must be "sha256:<64 hex>" or "hmac-sha256:<64 hex>"');
      }
      if (parsed.algorithm === 'hmac-sha256' && this.#secret === undefined) {
        throw new SecurityOptionsError(`${at}.hash`, 'is an hmac-sha256 hash but no secret is configured');
      }
      if (entry.models !== undefined) {
        const models: unknown = entry.models;
        if (!Array.isArray(models)) throw new SecurityOptionsError(`${at}.models`, 'must be an array');
        models.forEach((m: unknown, i: number) => {
          if (typeof m !== 'string' || m === '') {
            throw new SecurityOptionsError(`${at}.models[${i}]`, 'must be a non-empty string');
          }
        });
      }
      const rpm = positiveInt(entry.rpm, `${at}.rpm`) ?? defaultRpm;
      const tpm = positiveInt(entry.tpm, `${at}.tpm`) ?? defaultTpm;
      if (
        entry.budgetUsd !== undefined &&
        (typeof entry.budgetUsd !== 'number' || !Number.isFinite(entry.budgetUsd) || entry.budgetUsd < 0)
      ) {
        throw new SecurityOptionsError(`${at}.budgetUsd`, 'must be a finite number >= 0');
      }
      if (entry.budgetPeriod !== undefined && !BUDGET_PERIODS.includes(entry.budgetPeriod)) {
        throw new SecurityOptionsError(`${at}.budgetPeriod`, `must be one of ${BUDGET_PERIODS.join(', ')}`);
      }
      const record: ApiKeyRecord = Object.freeze({
        id: `key:${entry.name}`,
        name: entry.name,
        ...(entry.models !== undefined ? { models: Object.freeze([...entry.models]) } : {}),
        ...(rpm !== undefined ? { rpm } : {}),
        ...(tpm !== undefined ? { tpm } : {}),
        ...(entry.budgetUsd !== undefined
          ? { budgetUsd: entry.budgetUsd, budgetPeriod: entry.budgetPeriod ?? 'month' }
          : {}),
        disabled: entry.disabled === true,
      });
      const stored: StoredKey = { record, digest: parsed.digest, matcher: compileModelMatcher(entry.models) };
      let table = this.#byAlgorithm.get(parsed.algorithm);
      if (!table) {
        table = new Map();
        this.#byAlgorithm.set(parsed.algorithm, table);
      }
      const hex = parsed.digest.toString('hex');
      if (table.has(hex)) {
        throw new SecurityOptionsError(
          `${at}.hash`,
          `the same key is already configured as "${table.get(hex)!.record.name}"`,
        );
      }
      table.set(hex, stored);
      this.#byName.set(entry.name, stored);
    });
  }

  /** Number of configured keys. */
  get size(): number {
    return this.#byName.size;
  }

  /** The configured key records (no hashes). */
  list(): ApiKeyRecord[] {
    return [...this.#byName.values()].map((s) => s.record);
  }

  /** Finds the record of a plain key, or `undefined`; disabled keys are returned (check `disabled`). */
  verify(key: string): ApiKeyRecord | undefined {
    if (key.length === 0 || key.length > this.#maxKeyLength) return undefined;
    for (const [algorithm, table] of this.#byAlgorithm) {
      const digest = digestApiKey(key, algorithm, this.#secret);
      const candidate = table.get(digest.toString('hex'));
      if (candidate && digestsEqual(digest, candidate.digest)) return candidate.record;
    }
    return undefined;
  }

  /**
   * Authenticates a request by its headers.
   *
   * @throws AuthenticationError with `LLM_EDGE_MISSING_API_KEY`, `LLM_EDGE_INVALID_API_KEY` or
   *   `LLM_EDGE_API_KEY_DISABLED` (status 401).
   */
  authenticate(headers: HeadersLike): ApiKeyRecord {
    const found = extractApiKey(headers, this.#maxKeyLength);
    if (!found) {
      throw new AuthenticationError(
        'LLM_EDGE_MISSING_API_KEY',
        'Missing API key: send "Authorization: Bearer <key>", "x-api-key" or "x-goog-api-key"',
      );
    }
    const record = this.verify(found.key);
    if (!record) throw new AuthenticationError('LLM_EDGE_INVALID_API_KEY', 'Invalid API key');
    if (record.disabled) {
      throw new AuthenticationError('LLM_EDGE_API_KEY_DISABLED', `The API key "${record.name}" is disabled`);
    }
    return record;
  }

  /** True when the key may use `model` (an alias or a model name, matched against its patterns). */
  isModelAllowed(record: ApiKeyRecord, model: string): boolean {
    const stored = this.#byName.get(record.name);
    return stored !== undefined && stored.record === record && stored.matcher.matches(model);
  }

  /**
   * Refuses a model the key may not use.
   *
   * @throws PermissionError `LLM_EDGE_MODEL_NOT_ALLOWED` (status 403).
   */
  authorizeModel(record: ApiKeyRecord, model: string): void {
    if (!this.isModelAllowed(record, model)) throw new PermissionError(record.name, model);
  }
}
