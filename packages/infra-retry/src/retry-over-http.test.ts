import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { constantBackoff } from './backoff';
import { AttemptTimeoutError } from './errors';
import { type RetryEvent, RetryPolicy } from './retry-policy';

/** Real fetch against a real HTTP server on 127.0.0.1: what the classifier and timeouts meet in production. */

const servers: Server[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** fetch that turns a non-2xx response into an error carrying status and headers, as SDKs do. */
async function fetchJson(url: string, signal: AbortSignal): Promise<unknown> {
  const response = await fetch(url, { signal });
  if (!response.ok) {
    await response.body?.cancel();
    throw Object.assign(new Error(`HTTP ${response.status}`), {
      status: response.status,
      headers: response.headers,
    });
  }
  return response.json();
}

describe('RetryPolicy over real HTTP', () => {
  it('retries 503s carrying Retry-After, then returns the 200 body', async () => {
    let requests = 0;
    const url = await serve((_req, res) => {
      requests += 1;
      if (requests <= 2) {
        res
          .writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' })
          .end('{"error":"overloaded"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"answer":42}');
    });
    const events: RetryEvent[] = [];
    const policy = new RetryPolicy({
      backoff: constantBackoff({ baseDelayMs: 5000 }),
      onRetry: (e) => events.push(e),
    });
    await expect(policy.execute(({ signal }) => fetchJson(url, signal))).resolves.toEqual({ answer: 42 });
    expect(requests).toBe(3);
    // Retry-After: 0 overrode the 5 s backoff.
    expect(events.map((event) => [event.delay, event.source])).toEqual([
      [0, 'retry-after'],
      [0, 'retry-after'],
    ]);
  });

  it('does not retry a 400', async () => {
    let requests = 0;
    const url = await serve((_req, res) => {
      requests += 1;
      res.writeHead(400).end();
    });
    const policy = new RetryPolicy({ backoff: constantBackoff({ baseDelayMs: 1 }) });
    await expect(policy.execute(({ signal }) => fetchJson(url, signal))).rejects.toMatchObject({
      status: 400,
    });
    expect(requests).toBe(1);
  });

  it("retries a refused connection (undici's TypeError) and surfaces that TypeError at the end", async () => {
    const url = await serve((_req, res) => res.end());
    const server = servers.pop()!;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const events: RetryEvent[] = [];
    const policy = new RetryPolicy({
      maxRetries: 2,
      backoff: constantBackoff({ baseDelayMs: 1 }),
      onRetry: (e) => events.push(e),
    });
    const error = await policy
      .execute(({ signal }) => fetchJson(url, signal))
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TypeError);
    expect(events).toHaveLength(2);
  });

  it('aborts a hanging request at the attempt timeout, closing the connection, and retries', async () => {
    let requests = 0;
    let closedByClient = 0;
    const url = await serve((req) => {
      requests += 1;
      req.on('close', () => {
        closedByClient += 1;
      });
    });
    const policy = new RetryPolicy({
      maxRetries: 1,
      attemptTimeoutMs: 100,
      backoff: constantBackoff({ baseDelayMs: 1 }),
    });
    const error = await policy
      .execute(({ signal }) => fetchJson(url, signal))
      .catch((thrown: unknown) => thrown);
    expect(AttemptTimeoutError.isInstance(error)).toBe(true);
    expect(requests).toBe(2);
    await expect.poll(() => closedByClient).toBe(2);
  });
});
