import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs, { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { InvalidMonitoringOptionError } from './errors';
import {
  closeLogDestination,
  createLogDestination,
  createLogger,
  type LoggerOptions,
  logRequest,
  serializeError,
} from './logger';
import { scrubSecrets } from './redaction';

const originalWrite = fs.write;

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, destination: { write: (line: string) => lines.push(line) } });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, parsed };
}

const OPENAI_KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
const GOOGLE_KEY = 'AIzaSyA1234567890abcdefghijklmnopqrstuv';

describe('createLogger', () => {
  it('redacts credential headers and fields at any depth up to three levels', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        headers: {
          authorization: `Bearer ${OPENAI_KEY}`,
          'x-api-key': 'anthropic-secret',
          'content-type': 'application/json',
        },
        upstream: { request: { headers: { 'x-goog-api-key': GOOGLE_KEY, 'api-key': 'azure-secret' } } },
        provider: { apiKey: OPENAI_KEY },
      },
      'call',
    );
    const text = lines.join('');
    expect(text).not.toContain(OPENAI_KEY);
    expect(text).not.toContain(GOOGLE_KEY);
    expect(text).not.toContain('anthropic-secret');
    expect(text).not.toContain('azure-secret');
    expect(text).toContain('application/json');
    expect(text).toContain('[REDACTED]');
  });

  it('redacts at any depth, inside arrays and in child bindings, without touching the logged object', () => {
    const { logger, lines } = capture();
    const deep = { a: { b: { c: { d: { e: { apiKey: OPENAI_KEY, model: 'kept-model' } } } } } };
    logger.info({ deep, list: [{ messages: ['prompt in array'] }] }, 'x');
    logger.child({ token: 'child-token-value', keyName: 'team-a' }).info('child line');
    const text = lines.join('');
    expect(text).not.toContain(OPENAI_KEY);
    expect(text).not.toContain('prompt in array');
    expect(text).not.toContain('child-token-value');
    expect(text).toContain('kept-model');
    expect(text).toContain('team-a');
    expect(deep.a.b.c.d.e.apiKey).toBe(OPENAI_KEY);
  });

  it('redacts prompts and completions by default and keeps them when asked', () => {
    const body = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'my card is 4111 1111 1111 1111' }],
      system: 'system prompt text',
    };
    const redacted = capture();
    redacted.logger.info(
      { request: body, response: { choices: [{ message: { content: 'answer text' } }] } },
      'x',
    );
    const text = redacted.lines.join('');
    expect(text).not.toContain('4111');
    expect(text).not.toContain('system prompt text');
    expect(text).not.toContain('answer text');
    expect(text).toContain('gpt-4o-mini');

    const open = capture({ redactPrompts: false });
    open.logger.info({ request: body }, 'x');
    expect(open.lines.join('')).toContain('4111');
  });

  it('serializes requests without bodies and with secret headers masked', () => {
    const { logger, parsed } = capture({ redactPrompts: false });
    logger.info({
      req: {
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { Authorization: `Bearer ${OPENAI_KEY}`, 'user-agent': 'curl' },
        body: { messages: ['secret prompt'] },
      },
    });
    const [line] = parsed();
    expect(line!['req']).toEqual({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { Authorization: '[REDACTED]', 'user-agent': 'curl' },
    });
  });

  it('serializes errors without bodies, headers or keys in the message', () => {
    const error = Object.assign(new Error(`Incorrect API key provided: ${OPENAI_KEY}`), {
      code: 'LLM_EDGE_PROVIDER_ERROR',
      status: 401,
      kind: 'auth',
      body: { messages: ['prompt'] },
      headers: { authorization: 'Bearer x' },
      cause: new Error(`upstream said Bearer ${OPENAI_KEY}`),
    });
    const { logger, lines, parsed } = capture({ redactPrompts: false });
    logger.error({ err: error }, 'failed');
    expect(lines.join('')).not.toContain(OPENAI_KEY);
    const err = parsed()[0]!['err'] as Record<string, unknown>;
    expect(err['code']).toBe('LLM_EDGE_PROVIDER_ERROR');
    expect(err['status']).toBe(401);
    expect(err['kind']).toBe('auth');
    expect(err['body']).toBeUndefined();
    expect(err['headers']).toBeUndefined();
    expect((err['cause'] as Record<string, unknown>)['message']).toBe('upstream said Bearer [REDACTED]');
  });

  it('validates options naming the bad field', () => {
    expect(() => createLogger({ level: 'loud' as never })).toThrowError(InvalidMonitoringOptionError);
    expect(() => createLogger({ level: 'loud' as never })).toThrowError(/"level"/);
    expect(() => createLogger({ secretPatterns: [/abc/] })).toThrowError(/"secretPatterns"/);
  });

  it('scrubs extra secret patterns supplied by the application', () => {
    const { logger, lines } = capture({ secretPatterns: [/\bedge_[a-z0-9]{12}\b/g] });
    logger.error({ err: new Error('bad key edge_abcdef123456') }, 'x');
    expect(lines.join('')).not.toContain('edge_abcdef123456');
  });
});

describe('logRequest', () => {
  it('writes exactly one line with the request fields, at a level by status', () => {
    const { logger, parsed } = capture();
    logRequest(logger, {
      requestId: 'req_1',
      route: 'chat.completions',
      status: 200,
      latencyMs: 812.123456,
      ttftMs: 95.5,
      overheadMs: 0.21,
      keyName: 'team-a',
      target: 'openai-mini',
      provider: 'openai',
      model: 'gpt-4o-mini',
      inputTokens: 9,
      outputTokens: 2,
      cachedInputTokens: 0,
      costUsd: 0.0000025,
      cache: 'MISS',
      stream: true,
    });
    logRequest(logger, {
      requestId: 'req_2',
      route: 'chat.completions',
      status: 429,
      latencyMs: 1,
      errorCode: 'RATE',
    });
    logRequest(logger, {
      requestId: 'req_3',
      route: 'chat.completions',
      status: 502,
      latencyMs: 1,
      error: new Error('boom'),
    });
    const lines = parsed();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      level: 30,
      reqId: 'req_1',
      route: 'chat.completions',
      status: 200,
      latencyMs: 812.123,
      ttftMs: 95.5,
      keyName: 'team-a',
      target: 'openai-mini',
      inputTokens: 9,
      outputTokens: 2,
      costUsd: 0.0000025,
      cache: 'MISS',
      msg: 'request completed',
    });
    expect(lines[1]).toMatchObject({ level: 40, errorCode: 'RATE' });
    expect(lines[2]).toMatchObject({ level: 50, err: { type: 'Error', message: 'boom' } });
  });

  it('writes the line pino itself would write, field for field and byte for byte', () => {
    const { logger, lines } = capture({ base: { service: 'edge "one"' } });
    const full = {
      requestId: 'req_7',
      route: 'chat.completions',
      latencyMs: 12.3456789,
      ttftMs: 3.0004,
      overheadMs: Number.NaN,
      keyName: 'team\\a',
      clientIp: '::1',
      provider: 'openai',
      model: 'gpt-"4o"\n\u2028é\u0001',
      target: 'openai-mini',
      stream: false,
      inputTokens: 9,
      outputTokens: 2,
      cachedInputTokens: 0,
      costUsd: 1.25e-7,
      cache: 'HIT' as const,
      attempts: 2,
      errorCode: 'LLM_EDGE_X',
    };
    const cases = [
      { status: 200, level: 'info', msg: 'request completed' },
      { status: 404, level: 'warn', msg: 'request rejected' },
      { status: 503, level: 'error', msg: 'request failed' },
    ] as const;
    for (const { status, level, msg } of cases) {
      logRequest(logger, { ...full, status });
      // What pino writes for the same fields (rounded as logRequest rounds them).
      const { requestId, route, latencyMs: _l, ttftMs: _t, overheadMs: _o, ...rest } = full;
      logger[level](
        { reqId: requestId, route, status, latencyMs: 12.346, ttftMs: 3, overheadMs: Number.NaN, ...rest },
        msg,
      );
    }
    const withoutTime = lines.map((line) => line.replace(/"time":\d+/, '"time":0'));
    expect(withoutTime).toHaveLength(6);
    for (let i = 0; i < 6; i += 2) expect(withoutTime[i]).toBe(withoutTime[i + 1]);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      service: 'edge "one"',
      model: full.model,
      overheadMs: null,
    });
  });

  it('honours extra redaction paths, the level and child bindings', () => {
    const redacting = capture({ redactPaths: ['clientIp'] });
    logRequest(redacting.logger, {
      requestId: 'r',
      route: 'x',
      status: 200,
      latencyMs: 1,
      clientIp: '10.0.0.9',
    });
    expect(redacting.parsed()[0]).toMatchObject({ clientIp: '[REDACTED]' });

    const quiet = capture({ level: 'warn' });
    logRequest(quiet.logger, { requestId: 'a', route: 'x', status: 200, latencyMs: 1 });
    logRequest(quiet.logger, { requestId: 'b', route: 'x', status: 429, latencyMs: 1 });
    expect(quiet.parsed().map((line) => line['reqId'])).toEqual(['b']);

    const parent = capture();
    logRequest(parent.logger.child({ worker: 2 }), { requestId: 'c', route: 'x', status: 200, latencyMs: 1 });
    expect(parent.parsed()[0]).toMatchObject({ worker: 2, reqId: 'c', msg: 'request completed' });
  });

  it('reports a failing logger instead of throwing', () => {
    const failures: unknown[] = [];
    const logger = createLogger({
      destination: {
        write: () => {
          throw new Error('destination closed');
        },
      },
    });
    expect(() =>
      logRequest(
        logger,
        { requestId: 'r', route: 'x', status: 200, latencyMs: 1 },
        { onFailure: (e) => failures.push(e) },
      ),
    ).not.toThrow();
    expect(failures).toHaveLength(1);
  });
});

describe('scrubSecrets and serializeError', () => {
  it('removes provider keys and bearer tokens from text', () => {
    expect(scrubSecrets(`key ${OPENAI_KEY} and ${GOOGLE_KEY}`)).toBe('key [REDACTED] and [REDACTED]');
    expect(scrubSecrets('Authorization: Bearer abcdefghijkl.mnop')).toBe('Authorization: Bearer [REDACTED]');
    expect(scrubSecrets('sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUV')).toBe('[REDACTED]');
  });

  it('handles non-error values', () => {
    expect(serializeError('plain')).toEqual({ type: 'string', message: 'plain' });
    expect(serializeError(null)).toEqual({ type: 'object', message: 'null' });
  });
});

describe('createLogDestination', () => {
  async function withFile<T>(run: (path: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), 'llm-edge-log-'));
    try {
      return await run(join(dir, 'out.log'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('writes every line whole and in order, queued while a write is in flight', async () => {
    await withFile(async (path) => {
      const destination = createLogDestination({ dest: path });
      await once(destination as unknown as NodeJS.EventEmitter, 'ready');
      const logger = createLogger({ destination });
      for (let i = 0; i < 500; i += 1) logger.info({ i, authorization: 'Bearer sk-secret' }, 'line');
      // A write goes out after the first batch and the rest queue behind it. They are written in
      // turn, the last within the flush interval; flushSync() would not wait for the write in flight.
      const text = () => readFileSync(path, 'utf8');
      await until(() => text().split('\n').length > 500, 5_000);
      const lines = text().trim().split('\n');
      expect(lines).toHaveLength(500);
      const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(parsed.map((p) => p['i'])).toEqual([...Array(500).keys()]);
      expect(lines.join('\n')).not.toContain('sk-secret');
    });
  });

  it('writes nothing while it holds nothing, and a held line within the flush interval', async () => {
    await withFile(async (path) => {
      const destination = createLogDestination({ dest: path, flushIntervalMs: 20 });
      await once(destination as unknown as NodeJS.EventEmitter, 'ready');
      const writes = vi.spyOn(fs, 'write');
      try {
        // Ten flush intervals of a quiet process: no write, not even an empty one.
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(writes).not.toHaveBeenCalled();
        createLogger({ destination }).info('one line');
        await until(() => readFileSync(path, 'utf8').includes('one line'), 2_000);
      } finally {
        writes.mockRestore();
        await closeLogDestination(destination);
      }
    });
  });

  it('closeLogDestination resolves only when every line is written, the write in flight included', async () => {
    await withFile(async (path) => {
      const destination = createLogDestination({ dest: path, flushIntervalMs: 60_000 });
      await once(destination as unknown as NodeJS.EventEmitter, 'ready');
      const logger = createLogger({ destination });
      // Several 16 KiB batches: one goes out at once, the rest queue behind it.
      for (let i = 0; i < 2_000; i += 1) logger.info({ i }, 'a line before the process exits');
      await closeLogDestination(destination);
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as { i: number }).i)).toEqual([...Array(2_000).keys()]);
      expect((destination as unknown as { destroyed: boolean }).destroyed).toBe(true);
      // Again, and pino's flush at exit, do nothing on a closed destination.
      await closeLogDestination(destination);
      // A line logged after the close is dropped and reported, never thrown at the code logging it.
      let dropped = 0;
      (destination as unknown as NodeJS.EventEmitter).on('drop', () => dropped++);
      expect(() => logger.info({ i: 2_000 }, 'a line after the close')).not.toThrow();
      expect(dropped).toBe(1);
      expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2_000);
    });
  });

  it('closeLogDestination gives up after its timeout when the reader has gone (a broken pipe)', async () => {
    await withFile(async (path) => {
      const fifo = `${path}.fifo`;
      execFileSync('mkfifo', [fifo]);
      // A reader so the writer can open, then gone: every write fails with EPIPE.
      const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const writer = fs.openSync(fifo, fs.constants.O_WRONLY);
      fs.closeSync(reader);
      const destination = createLogDestination({ dest: writer, batchBytes: 0 });
      const logger = createLogger({ destination });
      logger.info('a line nobody reads');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await closeLogDestination(destination, 300);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      fs.closeSync(writer);
    });
  });

  it('drops lines past maxBufferBytes instead of growing, and reports each drop', async () => {
    await withFile(async (path) => {
      let dropped = 0;
      const destination = createLogDestination({
        dest: path,
        maxBufferBytes: 2_000,
        onDrop: () => dropped++,
      });
      await once(destination as unknown as NodeJS.EventEmitter, 'ready');
      const logger = createLogger({ destination });
      // Written in one turn of the event loop: the first write is in flight, the rest queue.
      for (let i = 0; i < 200; i += 1) logger.info({ i }, 'a line of about a hundred bytes');
      destination.flushSync();
      const written = readFileSync(path, 'utf8').trim().split('\n');
      expect(dropped).toBeGreaterThan(0);
      expect(written.length + dropped).toBe(200);
      for (const line of written) expect(() => JSON.parse(line)).not.toThrow();
    });
  });

  it('rejects a buffer bound that is not a positive integer', () => {
    expect(() => createLogDestination({ maxBufferBytes: 0 })).toThrow(InvalidMonitoringOptionError);
    expect(() => createLogDestination({ maxBufferBytes: 1.5 })).toThrow(/maxBufferBytes/);
  });

  it('gathers lines into batched writes and writes a lone line within the flush interval', async () => {
    await withFile(async (path) => {
      // A flush interval far beyond the test, so that only the batch size decides the writes.
      const destination = createLogDestination({ dest: path, batchBytes: 1024, flushIntervalMs: 60_000 });
      await once(destination as unknown as NodeJS.EventEmitter, 'ready');
      const writes: number[] = [];
      const fd = (destination as unknown as { fd: number }).fd;
      const spy = vi.spyOn(fs, 'write').mockImplementation(((...args: Parameters<typeof fs.write>) => {
        if (args[0] === fd) writes.push(String(args[1]).length);
        return originalWrite(...args);
      }) as typeof fs.write);
      const lineCount = () => readFileSync(path, 'utf8').split('\n').length - 1;
      try {
        const logger = createLogger({ destination });
        // One line per turn of the event loop, as a quiet gateway logs: unbatched, each is a write.
        for (let i = 0; i < 40; i += 1) {
          logger.info({ i }, 'a line of about a hundred bytes');
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        await until(() => lineCount() >= 30, 2_000);
        // 40 lines of ~100 bytes in a few writes of at least 1 KiB, not 40.
        expect(writes.length).toBeGreaterThan(0);
        expect(writes.length).toBeLessThanOrEqual(5);
      } finally {
        spy.mockRestore();
        destination.flushSync();
      }
      expect(lineCount()).toBe(40);
    });
    await withFile(async (path) => {
      const destination = createLogDestination({ dest: path, batchBytes: 1024, flushIntervalMs: 50 });
      await once(destination as unknown as NodeJS.EventEmitter, 'ready');
      try {
        createLogger({ destination }).info({ lone: true }, 'written by the interval');
        await until(() => readFileSync(path, 'utf8').length > 0, 1_000);
        expect(readFileSync(path, 'utf8')).toContain('"lone":true');
      } finally {
        destination.flushSync();
      }
    });
  });

  it('writes every line as it comes with batchBytes 0, and rejects bad batch options', async () => {
    await withFile(async (path) => {
      const destination = createLogDestination({ dest: path, batchBytes: 0 });
      await once(destination as unknown as NodeJS.EventEmitter, 'ready');
      createLogger({ destination }).info('at once');
      await until(() => readFileSync(path, 'utf8').includes('at once'), 1_000);
    });
    expect(() => createLogDestination({ batchBytes: 64 * 1024 })).toThrow(/batchBytes/);
    expect(() => createLogDestination({ batchBytes: -1 })).toThrow(InvalidMonitoringOptionError);
    expect(() => createLogDestination({ flushIntervalMs: 0 })).toThrow(/flushIntervalMs/);
  });
});
