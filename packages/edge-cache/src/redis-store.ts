import {
  createClient,
  createKeyv,
  defaultReconnectStrategy,
  type Keyv,
  type RedisClientType,
} from '@keyv/redis';
import { InvalidCacheOptionError } from './errors';
import { describeValue, isRecord, positiveInteger } from './validate';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * Redis URL (`redis[s]://[[user][:password]@]host[:port][/db]`). Ignored when `client` is given.
   * @default 'redis://127.0.0.1:6379'
   */
  readonly url?: string | undefined;
  /**
   * A node-redis client to use instead of creating one. Create it with `disableOfflineQueue: true`,
   * or commands issued while Redis is down wait in its queue instead of failing at once (the
   * cache's deadline still bounds each call). The store takes ownership: `close()` destroys it.
   * @default undefined (a client is created from `url` and the options below)
   */
  readonly client?: RedisClientType | undefined;
  /**
   * Prefix of every Redis key (joined to the cache key with `:`), so several applications or
   * environments can share a Redis, and `clear()` only touches this prefix.
   * Letters, digits and `_ . : @ / + = -`.
   * @default 'llm-edge:cache'
   */
  readonly keyPrefix?: string | undefined;
  /**
   * Deadline of one TCP connection attempt; an attempt that takes longer fails and is retried
   * with `reconnectStrategy`.
   * @default 1000
   */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * Delay before connection attempt number `retries + 1` (node-redis' `socket.reconnectStrategy`).
   * The client never stops trying: a Redis that comes back is picked up without a restart.
   * @default `defaultReconnectStrategy` of @keyv/redis: 100 ms doubling to 2 s, ±50 ms jitter
   */
  readonly reconnectStrategy?: ((retries: number, cause: Error) => number) | undefined;
  /**
   * Called with each connection-level error (refused, reset, timed out). They are also counted
   * in `connectionErrors`. Must not throw.
   * @default undefined
   */
  readonly onConnectionError?: ((error: unknown) => void) | undefined;
}

/** Defaults of {@link RedisStoreOptions}. */
export const DEFAULT_REDIS_STORE_OPTIONS: Readonly<{
  url: string;
  keyPrefix: string;
  connectTimeoutMs: number;
}> = Object.freeze({
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'llm-edge:cache',
  connectTimeoutMs: 1000,
});

/** A Redis second level for `createCache({ l2 })`: a Keyv over @keyv/redis plus its client. */
export interface RedisStore {
  /** The Keyv instance the cache reads and writes. */
  readonly keyv: Keyv;
  /** The node-redis client, e.g. for `ready`/`end` events or a health check. */
  readonly client: RedisClientType;
  /** True while connected and ready for commands. */
  readonly ready: boolean;
  /** Connection-level errors seen so far (each failed connection attempt counts one). */
  readonly connectionErrors: number;
  /**
   * Every error @keyv/redis reported through Keyv's `error` event: connection errors (also in
   * `connectionErrors`), operation failures (also in the cache's `stats().l2.errors`), and the
   * failures the adapter handles itself without throwing, such as a failed SCAN in `clear()`.
   */
  readonly adapterErrors: number;
  /** Resolves when the client is ready; rejects with `signal.reason` if `signal` aborts first. */
  whenReady(signal?: AbortSignal): Promise<void>;
  /** Disconnects at once; commands still pending fail. The cache calls this from its `close()`. */
  close(): Promise<void>;
}

const KEY_PREFIX_PATTERN = /^[\w.:@/+=-]{1,200}$/;

function stringOption(field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidCacheOptionError(field, `expected a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Creates the Redis second level: a node-redis client tuned for a cache (a failed command fails
 * at once while disconnected instead of queueing; reconnects forever in the background; bounded
 * connection attempts) wrapped by @keyv/redis and Keyv, with keys under `keyPrefix`.
 * It starts connecting immediately and never throws for a Redis that is down.
 *
 * @example
 * ```ts
 * import { createCache } from '@llm-edge/cache';
 * import { createRedisStore } from '@llm-edge/cache/redis';
 *
 * const cache = createCache({
 *   l2: createRedisStore({ url: process.env.REDIS_URL, keyPrefix: 'my-app:llm' }),
 *   l2TimeoutMs: 100,
 * });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions = {}): RedisStore {
  if (!isRecord(options as unknown)) {
    throw new InvalidCacheOptionError('options', `expected an object, got ${describeValue(options)}`);
  }
  const url = stringOption('url', options.url, DEFAULT_REDIS_STORE_OPTIONS.url);
  const keyPrefix = stringOption('keyPrefix', options.keyPrefix, DEFAULT_REDIS_STORE_OPTIONS.keyPrefix);
  if (!KEY_PREFIX_PATTERN.test(keyPrefix)) {
    throw new InvalidCacheOptionError(
      'keyPrefix',
      'expected 1-200 characters of letters, digits or _ . : @ / + = - (no SCAN pattern characters)',
    );
  }
  const connectTimeoutMs = positiveInteger(
    'connectTimeoutMs',
    options.connectTimeoutMs ?? DEFAULT_REDIS_STORE_OPTIONS.connectTimeoutMs,
  );
  if (options.reconnectStrategy !== undefined && typeof options.reconnectStrategy !== 'function') {
    throw new InvalidCacheOptionError('reconnectStrategy', 'expected a function');
  }
  if (options.onConnectionError !== undefined && typeof options.onConnectionError !== 'function') {
    throw new InvalidCacheOptionError('onConnectionError', 'expected a function');
  }
  const reconnectStrategy: (retries: number, cause: Error) => number =
    options.reconnectStrategy ??
    ((retries: number): number => {
      const delay = defaultReconnectStrategy(retries);
      return typeof delay === 'number' ? delay : 2000;
    });

  const client: RedisClientType =
    options.client ??
    createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: connectTimeoutMs, reconnectStrategy },
    });

  let connectionErrors = 0;
  const onConnectionError = options.onConnectionError;
  client.on('error', (error: unknown) => {
    connectionErrors += 1;
    try {
      onConnectionError?.(error);
    } catch {
      // A throwing observer must not turn a Redis outage into a crash; the error itself is counted above.
    }
  });

  const keyv = createKeyv(client, {
    namespace: keyPrefix,
    keyPrefixSeparator: ':',
    // Failures must reach the cache, which counts them and answers as on a miss.
    throwOnErrors: true,
    throwOnConnectError: true,
    connectionTimeout: connectTimeoutMs,
  });

  let adapterErrors = 0;
  keyv.on('error', () => {
    adapterErrors += 1;
  });

  if (!client.isOpen) {
    // Resolves on the first successful connection; until then failed attempts are emitted as
    // 'error' (counted above) and retried. It only rejects when the store is closed meanwhile.
    client.connect().catch(() => undefined);
  }

  return {
    keyv,
    client,
    get ready() {
      return client.isReady;
    },
    get connectionErrors() {
      return connectionErrors;
    },
    get adapterErrors() {
      return adapterErrors;
    },
    whenReady(signal?: AbortSignal): Promise<void> {
      if (client.isReady) return Promise.resolve();
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const onReady = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          client.off('ready', onReady);
          reject(signal?.reason);
        };
        client.once('ready', onReady);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async close(): Promise<void> {
      if (client.isOpen) client.destroy();
    },
  };
}
