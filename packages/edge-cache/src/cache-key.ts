import { hash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import { InvalidCacheOptionError, InvalidKeyInputError } from './errors';
import { describeValue, isRecord } from './validate';

/**
 * How a request-like JSON value becomes a cache key.
 *
 * The defaults are tuned for an OpenAI Chat Completions request body; for any other JSON value set
 * `exclude` and `precision` to what splits (or must not split) that value's cache.
 */
export interface CacheKeyOptions {
  /**
   * Prefix of every key, separated by `:` (e.g. a tenant id), so tenants never share entries and
   * one tenant's keys can be found by prefix. Letters, digits and `_ . : @ / + = -`, at most 200.
   * @default undefined (no prefix)
   */
  readonly namespace?: string | undefined;
  /**
   * Top-level fields left out of the key because they do not change the answer, only how it is
   * delivered or attributed; keying them would split the cache for identical answers.
   * @default DEFAULT_CACHE_KEY_OPTIONS.exclude — `stream`, `stream_options`, `user`,
   * `safety_identifier`, `prompt_cache_key`, `metadata`, `store`, `service_tier`
   */
  readonly exclude?: readonly string[] | undefined;
  /**
   * Top-level numeric fields rounded to this many decimals before hashing, so that e.g.
   * `temperature: 0.7` and `temperature: 0.70000001` share an entry. Nested numbers are never
   * rounded (they may be tool schemas or tool-call arguments).
   * @default { temperature: 2, top_p: 2, frequency_penalty: 2, presence_penalty: 2 }
   */
  readonly precision?: Readonly<Record<string, number>> | undefined;
}

/** Per-call overrides of a key generator. */
export interface CacheKeyOverrides {
  /** Replaces the generator's `namespace` for this key (e.g. the calling tenant). */
  readonly namespace?: string | undefined;
}

/** Turns a request-like JSON value into a cache key; created by {@link createKeyGenerator}. */
export type CacheKeyGenerator = (value: unknown, overrides?: CacheKeyOverrides) => string;

/** Defaults of {@link CacheKeyOptions}: the OpenAI Chat Completions profile. */
export const DEFAULT_CACHE_KEY_OPTIONS: Readonly<{
  namespace: undefined;
  exclude: readonly string[];
  precision: Readonly<Record<string, number>>;
}> = Object.freeze({
  namespace: undefined,
  exclude: Object.freeze([
    'stream',
    'stream_options',
    'user',
    'safety_identifier',
    'prompt_cache_key',
    'metadata',
    'store',
    'service_tier',
  ]),
  precision: Object.freeze({ temperature: 2, top_p: 2, frequency_penalty: 2, presence_penalty: 2 }),
});

const NAMESPACE_PATTERN = /^[\w.:@/+=-]{1,200}$/;

/** Namespaces a key generator remembers as checked before it starts over. */
const MAX_CHECKED_NAMESPACES = 1024;

// strict: NaN, Infinity, bigint, functions, symbols and cycles throw instead of being turned into
// `null`/`"[Circular]"` like JSON.stringify would, which could make two different inputs collide.
const stableStringify = configure({ strict: true, deterministic: true });

function validateNamespace(field: string, namespace: unknown): string | undefined {
  if (namespace === undefined) return undefined;
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
    throw new InvalidCacheOptionError(
      field,
      `expected 1-200 characters of letters, digits or _ . : @ / + = -, got ${describeValue(namespace)}`,
    );
  }
  return namespace;
}

interface ResolvedKeyOptions {
  readonly namespace: string | undefined;
  readonly exclude: ReadonlySet<string>;
  readonly precision: ReadonlyMap<string, number>;
}

function resolveKeyOptions(options: CacheKeyOptions = {}): ResolvedKeyOptions {
  if (!isRecord(options)) {
    throw new InvalidCacheOptionError('options', `expected an object, got ${describeValue(options)}`);
  }
  const namespace = validateNamespace('namespace', options.namespace);
  const exclude = options.exclude ?? DEFAULT_CACHE_KEY_OPTIONS.exclude;
  if (!Array.isArray(exclude) || exclude.some((field) => typeof field !== 'string')) {
    throw new InvalidCacheOptionError('exclude', 'expected an array of field names');
  }
  const precisionOption = options.precision ?? DEFAULT_CACHE_KEY_OPTIONS.precision;
  if (!isRecord(precisionOption)) {
    throw new InvalidCacheOptionError(
      'precision',
      `expected an object, got ${describeValue(precisionOption)}`,
    );
  }
  const precision = new Map<string, number>();
  for (const [field, decimals] of Object.entries(precisionOption)) {
    if (typeof decimals !== 'number' || !Number.isInteger(decimals) || decimals < 0 || decimals > 15) {
      throw new InvalidCacheOptionError(
        `precision.${field}`,
        `expected an integer from 0 to 15, got ${describeValue(decimals)}`,
      );
    }
    precision.set(field, decimals);
  }
  return { namespace, exclude: new Set(exclude), precision };
}

function roundTo(value: number, decimals: number): number {
  // toFixed is specified digit by digit, so every process rounds the same way; `+ 0` folds -0 into 0.
  return Number(value.toFixed(decimals)) + 0;
}

function canonicalize(value: unknown, options: ResolvedKeyOptions): string {
  let input = value;
  if (isRecord(value) && typeof value.toJSON !== 'function') {
    const shaped: Record<string, unknown> = {};
    for (const [field, fieldValue] of Object.entries(value)) {
      if (options.exclude.has(field)) continue;
      const decimals = options.precision.get(field);
      const shapedValue =
        decimals !== undefined && typeof fieldValue === 'number' && Number.isFinite(fieldValue)
          ? roundTo(fieldValue, decimals)
          : fieldValue;
      if (field === '__proto__') {
        // An own `__proto__` field (JSON.parse makes one) must stay a field of the key; assigned,
        // it would become the copy's prototype and drop out. Not a prototype-less copy for all:
        // V8 keeps such objects as slow dictionaries, ~3,000 instructions more per key.
        Object.defineProperty(shaped, field, {
          value: shapedValue,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        shaped[field] = shapedValue;
      }
    }
    input = shaped;
  }
  let json: string | undefined;
  try {
    json = stableStringify(input);
  } catch (error) {
    throw new InvalidKeyInputError('Cannot build a cache key: the value has no canonical JSON form', {
      cause: error,
    });
  }
  if (json === undefined) {
    throw new InvalidKeyInputError(`Cannot build a cache key from ${describeValue(value)}`);
  }
  return json;
}

/**
 * Creates a key generator: options are validated once, then each call canonicalizes the value
 * (object keys sorted, excluded fields dropped, configured floats rounded) and returns
 * `[namespace:]<SHA-256 hex of the canonical JSON>`.
 *
 * @example
 * ```ts
 * const keyOf = createKeyGenerator({ namespace: 'tenant-a' });
 * keyOf({ model: 'gpt-4o-mini', messages, temperature: 0.7, stream: true });
 * // 'tenant-a:3f1c…' — the same key as without `stream`, or with the fields in another order
 * keyOf(request, { namespace: 'tenant-b' }); // another tenant, another key
 * ```
 */
export function createKeyGenerator(options?: CacheKeyOptions): CacheKeyGenerator {
  const resolved = resolveKeyOptions(options);
  // Callers pass the same few namespaces (one per tenant) on every call: each is checked against
  // the pattern once, not on every key. Bounded, so that unbounded tenants cannot grow it.
  const checked = new Set<string>();
  const checkedNamespace = (namespace: unknown): string | undefined => {
    if (typeof namespace === 'string' && checked.has(namespace)) return namespace;
    const valid = validateNamespace('namespace', namespace);
    if (valid !== undefined) {
      if (checked.size >= MAX_CHECKED_NAMESPACES) checked.clear();
      checked.add(valid);
    }
    return valid;
  };
  return (value, overrides) => {
    const namespace =
      overrides?.namespace === undefined ? resolved.namespace : checkedNamespace(overrides.namespace);
    // One-shot hashing: no Hash object per key, about half the CPU of createHash for a request-sized input.
    const digest = hash('sha256', canonicalize(value, resolved), 'hex');
    return namespace === undefined ? digest : `${namespace}:${digest}`;
  };
}

/**
 * One-off form of {@link createKeyGenerator}: the cache key of `value`.
 * Prefer a generator on hot paths, it validates the options once.
 */
export function createCacheKey(value: unknown, options?: CacheKeyOptions): string {
  return createKeyGenerator(options)(value);
}

/** The canonical JSON text a key is the hash of; useful to see why two requests (do not) share a key. */
export function canonicalJson(value: unknown, options?: CacheKeyOptions): string {
  return canonicalize(value, resolveKeyOptions(options));
}
