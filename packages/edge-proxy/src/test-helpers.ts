import { connect } from 'node:net';
import { createLogger, type Logger } from '@llm-edge/monitoring';
import { afterEach } from 'vitest';
import { jsonResult, type ProxyHandlers } from './handlers';
import type { ProxyServerOptions } from './options';
import { createProxyServer, type ProxyServer } from './proxy-server';

/** Handlers standing in for the pipeline: each route answers a fixed, recognisable document. */
export function fakeHandlers(overrides: Partial<ProxyHandlers> = {}): ProxyHandlers {
  return {
    chatCompletions: async (ctx) =>
      jsonResult({
        id: 'chatcmpl-test',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: String(ctx.body['model'] ?? 'unknown'),
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'hello' },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      }),
    embeddings: async () =>
      jsonResult({
        object: 'list',
        model: 'text-embedding-3-small',
        data: [{ object: 'embedding', index: 0, embedding: [0.25, -0.5] }],
        usage: { prompt_tokens: 2, total_tokens: 2 },
      }),
    models: async () =>
      jsonResult({
        object: 'list',
        data: [{ id: 'gpt-4o-mini', object: 'model', created: 1, owned_by: 'llm-edge' }],
      }),
    anthropicMessages: async (ctx) =>
      jsonResult({
        id: 'msg_test',
        type: 'message',
        role: 'assistant',
        model: String(ctx.body['model'] ?? 'unknown'),
        content: [{ type: 'text', text: 'hello' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 1 },
      }),
    readiness: () => ({ ready: true, checks: { config: { ok: true } } }),
    ...overrides,
  };
}

const servers: ProxyServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close({ deadlineMs: 50 })));
});

/** Starts a proxy on 127.0.0.1 with a random port; closed after the test. */
export async function startProxy(
  options: Partial<ProxyServerOptions> = {},
): Promise<{ proxy: ProxyServer; url: string; port: number }> {
  const proxy = createProxyServer({ handlers: fakeHandlers(), ...options });
  servers.push(proxy);
  const url = await proxy.listen();
  return { proxy, url, port: Number(new URL(url).port) };
}

/** A pino logger writing into an array, to assert on log lines. */
export function memoryLogger(): {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
  text: () => string;
} {
  const raw: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => raw.push(line) } });
  return {
    logger,
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => raw.join(''),
  };
}

/** Sends bytes on a raw TCP connection and resolves with everything received until the server closes it. */
export function rawExchange(
  port: number,
  chunks: readonly string[],
  options: { endAfterWrite?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      received += data;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.endAfterWrite === true) socket.end();
    });
  });
}

/** Splits an SSE body into its frames (without the blank-line separators). */
export function sseFrames(body: string): string[] {
  return body.split('\n\n').filter((frame) => frame.length > 0);
}

/** Resolves when `signal` aborts, with its reason. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
