import { randomUUID } from 'node:crypto';
import { createServer, type Server, Socket } from 'node:net';
import { createClient } from 'redis';

/** Redis used by the tests. */
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export type TestRedisClient = ReturnType<typeof createClient>;

/** A key prefix no other test run shares. */
export function uniquePrefix(): string {
  return `llm-edge-test:security:${process.pid}:${randomUUID()}`;
}

/**
 * Connects to REDIS_URL (or another URL), failing with instructions when no Redis answers.
 * Reconnects quickly so outage tests can watch it come back.
 */
export async function connectRedis(url: string = REDIS_URL): Promise<TestRedisClient> {
  let connected = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout: 2_000,
      // Give up at once on the first connection; afterwards retry quickly for a few seconds.
      reconnectStrategy: (retries) => (connected && retries < 400 ? 25 : false),
    },
  });
  // Errors while a test has cut the connection on purpose are expected; they are observed here.
  client.on('error', () => {});
  try {
    await client.connect();
    connected = true;
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw new Error(
      `These tests need a Redis server at ${url} (set REDIS_URL to use another). ` +
        'Start one with `docker run --rm -p 6379:6379 redis:7` or `redis-server --port 6379`.',
      { cause: error },
    );
  }
  return client;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(client: TestRedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) deleted += await client.del(keys);
  }
  return deleted;
}

/**
 * A TCP relay in front of Redis that a test can cut and restore, to play a Redis outage without
 * touching the real server.
 */
export class RedisOutage {
  readonly #target: URL;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(url: string = REDIS_URL) {
    this.#target = new URL(url);
  }

  /** Redis URL that goes through the relay. */
  get url(): string {
    const u = new URL(this.#target.href);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.href;
  }

  /** Starts (or restarts, on the same port) relaying. */
  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = new Socket();
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(Number(this.#target.port || 6379), this.#target.hostname, () => {
        client.pipe(upstream).pipe(client);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.#server = server;
  }

  /** Cuts every connection and stops accepting new ones. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
