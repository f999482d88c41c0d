/**
 * The part of a node-redis (v4 or v5) client this package relies on. Pass the client returned by
 * `createClient()` from the `redis` package, connected; the rate limiter hands it to
 * rate-limiter-flexible (`useRedisPackage: true`), which also calls its `eval`, `multi` and `del`.
 */
export interface RedisClientLike {
  /** True while the connection is up; when false the limiters use in-process counters at once. */
  readonly isReady: boolean;
  /** Sends a raw command, e.g. `['GET', key]`. */
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>;
}

/** Where a fallback to in-process counting happened. */
export type FallbackScope = 'requests' | 'tokens' | 'spend';

/** Reported each time an operation used in-process counters because Redis was unavailable. */
export interface FallbackEvent {
  readonly scope: FallbackScope;
  /** The operation that fell back, e.g. `consume`, `reward`, `record`. */
  readonly operation: string;
}
