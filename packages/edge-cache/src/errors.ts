const CACHE_ERROR_MARKER = Symbol.for('llm-edge.cache.error');

/** Stable codes carried by every error this package creates. */
export type CacheErrorCode =
  | 'LLM_EDGE_CACHE_INVALID_OPTION'
  | 'LLM_EDGE_CACHE_INVALID_KEY_INPUT'
  | 'LLM_EDGE_CACHE_VALUE_NOT_JSON'
  | 'LLM_EDGE_CACHE_L2_TIMEOUT'
  | 'LLM_EDGE_CACHE_L2_FAILED'
  | 'LLM_EDGE_CACHE_CLOSED';

function hasMarker(value: unknown): value is CacheError {
  return typeof value === 'object' && value !== null && CACHE_ERROR_MARKER in value;
}

/**
 * Base class of the errors created by `@llm-edge/cache`; identify them with `isInstance()`, which
 * works across two installed copies of the package.
 */
export class CacheError extends Error {
  /** Stable, documented error code. */
  readonly code: CacheErrorCode;
  readonly [CACHE_ERROR_MARKER] = true;

  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheError';
    this.code = code;
  }

  /** True when `error` is any error created by this package. */
  static isInstance(error: unknown): error is CacheError {
    return hasMarker(error);
  }
}

/** Thrown at construction when an option is out of range; `field` names the offending option. */
export class InvalidCacheOptionError extends CacheError {
  /** Dotted path of the bad option, e.g. `l1.maxBytes`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super('LLM_EDGE_CACHE_INVALID_OPTION', `Invalid cache option "${field}": ${message}`);
    this.name = 'InvalidCacheOptionError';
    this.field = field;
  }

  /** True when `error` is an {@link InvalidCacheOptionError} from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidCacheOptionError {
    return hasMarker(error) && error.code === 'LLM_EDGE_CACHE_INVALID_OPTION';
  }
}

/**
 * Thrown by key generation when the input has no canonical JSON form (NaN, Infinity, bigint,
 * functions, cycles): such values would otherwise collapse onto other keys silently.
 */
export class InvalidKeyInputError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LLM_EDGE_CACHE_INVALID_KEY_INPUT', message, options);
    this.name = 'InvalidKeyInputError';
  }

  /** True when `error` is an {@link InvalidKeyInputError} from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidKeyInputError {
    return hasMarker(error) && error.code === 'LLM_EDGE_CACHE_INVALID_KEY_INPUT';
  }
}

/** Thrown by `set()` when a value cannot be stored as JSON (undefined, bigint, a cycle). */
export class ValueNotJsonError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LLM_EDGE_CACHE_VALUE_NOT_JSON', message, options);
    this.name = 'ValueNotJsonError';
  }

  /** True when `error` is a {@link ValueNotJsonError} from any copy of this package. */
  static override isInstance(error: unknown): error is ValueNotJsonError {
    return hasMarker(error) && error.code === 'LLM_EDGE_CACHE_VALUE_NOT_JSON';
  }
}

/** The second-level operations that can fail. */
export type L2Operation = 'get' | 'set' | 'delete' | 'clear' | 'close';

/**
 * A failed or timed-out second-level (L2) operation. Never thrown to callers: the cache reports it
 * through the `error` event and its stats, and answers as if the entry were missing.
 * `code` is `LLM_EDGE_CACHE_L2_TIMEOUT` when the per-operation deadline passed, else
 * `LLM_EDGE_CACHE_L2_FAILED` with the store's own error as `cause`.
 */
export class L2OperationError extends CacheError {
  /** Which operation failed. */
  readonly operation: L2Operation;

  constructor(
    code: 'LLM_EDGE_CACHE_L2_TIMEOUT' | 'LLM_EDGE_CACHE_L2_FAILED',
    operation: L2Operation,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'L2OperationError';
    this.operation = operation;
  }

  /** True when `error` is an {@link L2OperationError} from any copy of this package. */
  static override isInstance(error: unknown): error is L2OperationError {
    return (
      hasMarker(error) &&
      (error.code === 'LLM_EDGE_CACHE_L2_TIMEOUT' || error.code === 'LLM_EDGE_CACHE_L2_FAILED')
    );
  }
}

/** Thrown by every method of a cache after `close()`. */
export class CacheClosedError extends CacheError {
  constructor() {
    super('LLM_EDGE_CACHE_CLOSED', 'The cache is closed');
    this.name = 'CacheClosedError';
  }

  /** True when `error` is a {@link CacheClosedError} from any copy of this package. */
  static override isInstance(error: unknown): error is CacheClosedError {
    return hasMarker(error) && error.code === 'LLM_EDGE_CACHE_CLOSED';
  }
}
