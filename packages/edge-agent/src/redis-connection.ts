import { createClient } from 'redis';

/** Redis state as reported by readiness. */
export type RedisState = 'disabled' | 'connecting' | 'up' | 'down';

/** The node-redis client type the gateway shares with the rate limiter and the cache. */
export type GatewayRedisClient = ReturnType<typeof createClient>;

/** Options of {@link RedisConnection}. */
export interface RedisConnectionOptions {
  url: string;
  /** Deadline of the TCP connect, ms. */
  connectTimeoutMs: number;
  /** Called on every client error (counted by the caller; never thrown). */
  onError?: (error: unknown) => void;
  /** Called when the state changes. */
  onStateChange?: (state: RedisState) => void;
}

/**
 * One node-redis client for the whole gateway, connected in the background and reconnecting
 * forever with capped backoff. Commands fail at once while it is down (no offline queue), so a
 * dead Redis turns into in-process fallbacks instead of stalled requests.
 */
export class RedisConnection {
  readonly client: GatewayRedisClient;
  #state: RedisState = 'connecting';
  #closed = false;
  readonly #options: RedisConnectionOptions;

  constructor(options: RedisConnectionOptions) {
    this.#options = options;
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs,
        // Keep trying while the gateway runs: Redis coming back must be picked up without a restart.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2_000),
      },
    });
    this.client.on('error', (error: unknown) => {
      this.#set('down');
      options.onError?.(error);
    });
    this.client.on('ready', () => this.#set('up'));
    this.client.on('end', () => this.#set('down'));
    this.client.on('reconnecting', () => {
      if (this.#state === 'up') this.#set('down');
    });
  }

  /** Current state. */
  get state(): RedisState {
    return this.#state;
  }

  /** True while commands can be sent. */
  get isReady(): boolean {
    return this.client.isReady;
  }

  /**
   * Starts connecting. Resolves once connected or after the first failed attempt (the client keeps
   * reconnecting in the background), so a gateway starts even while Redis is down.
   */
  async connect(): Promise<void> {
    const first = this.client.connect().then(
      () => undefined,
      (error: unknown) => {
        this.#set('down');
        this.#options.onError?.(error);
      },
    );
    await Promise.race([
      first,
      new Promise<void>((resolve) => {
        const done = () => {
          this.client.off('error', done);
          resolve();
        };
        this.client.on('error', done);
      }),
    ]);
  }

  /** Closes the connection; later calls do nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.client.isOpen) await this.client.close();
    } catch {
      this.client.destroy();
    }
    this.#state = 'down';
  }

  #set(state: RedisState): void {
    if (this.#closed || state === this.#state) return;
    this.#state = state;
    this.#options.onStateChange?.(state);
  }
}
