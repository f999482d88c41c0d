import {
  type DestinationStream,
  type Level,
  type Logger,
  type LoggerOptions as PinoOptions,
  pino,
} from 'pino';
import { InvalidMonitoringOptionError } from './errors';
import {
  censorKeys,
  PROMPT_KEYS,
  REDACTED,
  redactionPaths,
  SECRET_KEYS,
  sanitizeHeaders,
  scrubSecrets,
} from './redaction';
import {
  allowDirectRequestLines,
  requestLineFields,
  requestLineLevel,
  writeRequestLineDirect,
} from './request-line';

/** Log levels accepted by {@link createLogger}; `silent` turns logging off. */
export type LogLevel = Level | 'silent';

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /**
   * Minimum level written.
   * @default 'info'
   */
  level?: LogLevel;
  /**
   * Value of the `name` field on every line.
   * @default 'llm-edge'
   */
  name?: string;
  /**
   * Redact prompt and completion fields (`messages`, `prompt`, `input`, `system`, `contents`,
   * `choices`, `content`, `body`, `rawBody`) wherever they appear in a line.
   * Turn off only on a development machine.
   * @default true
   */
  redactPrompts?: boolean;
  /**
   * Extra pino `redact` paths, added to the secret and prompt paths. Prefer exact paths:
   * pino's wildcard paths cost tens of microseconds per line.
   * @default []
   */
  redactPaths?: readonly string[];
  /**
   * Extra patterns scrubbed from error messages and stacks, e.g. the format of your own keys.
   * @default []
   */
  secretPatterns?: readonly RegExp[];
  /**
   * Where lines go. A pino destination (e.g. `pino.destination(1)` or any `{ write(line) }` stream).
   * @default standard output
   */
  destination?: DestinationStream;
  /**
   * Fields added to every line. `undefined` keeps pino's `pid` and `hostname`.
   * @default undefined
   */
  base?: Record<string, unknown>;
}

/** Defaults of {@link LoggerOptions}. */
export const DEFAULT_LOGGER_OPTIONS = Object.freeze({
  level: 'info' as LogLevel,
  name: 'llm-edge',
  redactPrompts: true,
  redactPaths: Object.freeze([]) as readonly string[],
  secretPatterns: Object.freeze([]) as readonly RegExp[],
});

interface SerializedError {
  type: string;
  message: string;
  code?: string;
  status?: number;
  kind?: string;
  stack?: string;
  cause?: SerializedError;
}

function numberField(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Reduces any thrown value to its name, code, status, kind, message and stack, secrets scrubbed.
 * Never copies `body`, `headers`, `request` or other fields that may carry prompts or credentials.
 */
export function serializeError(
  error: unknown,
  secretPatterns: readonly RegExp[] = [],
  depth = 0,
): SerializedError {
  if (typeof error !== 'object' || error === null) {
    return { type: typeof error, message: scrubSecrets(String(error), secretPatterns) };
  }
  const record = error as Record<string, unknown>;
  const out: SerializedError = {
    type: stringField(record['name']) ?? stringField(error.constructor?.name) ?? 'Error',
    message: scrubSecrets(typeof record['message'] === 'string' ? record['message'] : '', secretPatterns),
  };
  const code = stringField(record['code']);
  if (code !== undefined) out.code = code;
  const status = numberField(record['status']) ?? numberField(record['statusCode']);
  if (status !== undefined) out.status = status;
  const kind = stringField(record['kind']);
  if (kind !== undefined) out.kind = kind;
  if (typeof record['stack'] === 'string') out.stack = scrubSecrets(record['stack'], secretPatterns);
  if (record['cause'] !== undefined && depth < 3)
    out.cause = serializeError(record['cause'], secretPatterns, depth + 1);
  return out;
}

interface RequestLike {
  method?: string;
  url?: string;
  id?: unknown;
  headers?: Record<string, string | string[] | number | undefined>;
  ip?: string;
  socket?: { remoteAddress?: string };
}

function serializeRequest(request: unknown): Record<string, unknown> {
  if (typeof request !== 'object' || request === null) return {};
  const req = request as RequestLike;
  const out: Record<string, unknown> = { method: req.method, url: req.url };
  if (req.id !== undefined) out['id'] = req.id;
  const remote = req.ip ?? req.socket?.remoteAddress;
  if (remote !== undefined) out['remoteAddress'] = remote;
  if (req.headers !== undefined) out['headers'] = sanitizeHeaders(req.headers);
  return out;
}

function serializeResponse(response: unknown): Record<string, unknown> {
  if (typeof response !== 'object' || response === null) return {};
  const res = response as { statusCode?: number };
  return { statusCode: res.statusCode };
}

function validateLoggerOptions(
  options: LoggerOptions,
): Required<Omit<LoggerOptions, 'destination' | 'base'>> {
  const level = options.level ?? DEFAULT_LOGGER_OPTIONS.level;
  if (!LOG_LEVELS.includes(level)) {
    throw new InvalidMonitoringOptionError(
      'level',
      `expected one of ${LOG_LEVELS.join(', ')}, got ${String(level)}`,
    );
  }
  const name = options.name ?? DEFAULT_LOGGER_OPTIONS.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidMonitoringOptionError('name', 'expected a non-empty string');
  }
  const redactPaths = options.redactPaths ?? DEFAULT_LOGGER_OPTIONS.redactPaths;
  if (
    !Array.isArray(redactPaths) ||
    redactPaths.some((path) => typeof path !== 'string' || path.length === 0)
  ) {
    throw new InvalidMonitoringOptionError('redactPaths', 'expected an array of non-empty strings');
  }
  const secretPatterns = options.secretPatterns ?? DEFAULT_LOGGER_OPTIONS.secretPatterns;
  if (
    !Array.isArray(secretPatterns) ||
    secretPatterns.some((pattern) => !(pattern instanceof RegExp) || !pattern.global)
  ) {
    throw new InvalidMonitoringOptionError('secretPatterns', 'expected an array of RegExp with the g flag');
  }
  const redactPrompts = options.redactPrompts ?? DEFAULT_LOGGER_OPTIONS.redactPrompts;
  if (typeof redactPrompts !== 'boolean') {
    throw new InvalidMonitoringOptionError('redactPrompts', 'expected a boolean');
  }
  return { level, name, redactPaths, secretPatterns, redactPrompts };
}

/**
 * Creates a pino logger that redacts credentials (authorization, x-api-key, x-goog-api-key,
 * api-key, cookies, `apiKey` fields) and, by default, prompts and completions. Its `req`, `res`
 * and `err` serializers never copy bodies.
 *
 * @example
 * const logger = createLogger({ level: 'info' });
 * logger.info({ headers: { authorization: 'Bearer sk-…' } }, 'hello'); // authorization → "[REDACTED]"
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const resolved = validateLoggerOptions(options);
  const keys = resolved.redactPrompts ? [...SECRET_KEYS, ...PROMPT_KEYS] : [...SECRET_KEYS];
  const keySet = new Set(keys);
  const pinoOptions: PinoOptions = {
    level: resolved.level,
    name: resolved.name,
    redact: { paths: [...redactionPaths(keys), ...resolved.redactPaths], censor: REDACTED },
    formatters: {
      log: (object) => censorKeys(object, keySet),
      bindings: (bindings) => censorKeys(bindings, keySet),
    },
    serializers: {
      err: (error: unknown) => serializeError(error, resolved.secretPatterns),
      error: (error: unknown) => serializeError(error, resolved.secretPatterns),
      req: serializeRequest,
      res: serializeResponse,
    },
  };
  if (options.base !== undefined) pinoOptions.base = options.base;
  const logger =
    options.destination === undefined ? pino(pinoOptions) : pino(pinoOptions, options.destination);
  // Extra redaction paths may name a request-line field, so such a logger writes them through pino.
  if (resolved.redactPaths.length === 0) allowDirectRequestLines(logger);
  return logger;
}

/** Options of {@link createLogDestination}. */
export interface LogDestinationOptions {
  /**
   * File descriptor or file path the lines go to.
   * @default 1 (standard output)
   */
  dest?: number | string;
  /**
   * Most bytes held in memory while the destination cannot keep up (a full pipe, a slow log
   * collector). Lines beyond it are dropped and reported through `onDrop`.
   * @default 16 MiB
   */
  maxBufferBytes?: number;
  /** Called once per dropped line, e.g. to count it. */
  onDrop?: () => void;
  /**
   * Bytes gathered before a write is started (below 64 KiB); 0 writes every line as it comes.
   * Each write is a hop to libuv's thread pool and back (two thread wake-ups), which at one line
   * per request cost a busy gateway more than a tenth of its CPU on a virtual machine.
   * @default 16384
   */
  batchBytes?: number;
  /**
   * Longest a gathered line waits for its write, in milliseconds (the lines of a quiet gateway
   * are written at least this often; on exit, everything held is written).
   * @default 100
   */
  flushIntervalMs?: number;
}

/**
 * Most bytes handed to one write call. Lines are held as bytes (sonic-boom's buffer mode): held as
 * one string, as sonic-boom does by default, the string was measured again in UTF-8 on every line
 * appended to it, so a batch cost time in proportion to its size squared and had to stay small.
 */
const MAX_WRITE_BYTES = 64 * 1024;

/**
 * A destination from {@link createLogDestination}. `flushSync()` writes what it still holds but
 * does not wait for a write already in flight; {@link closeLogDestination} does.
 */
export interface LogDestination extends DestinationStream {
  flushSync(): void;
  /** Writes what it holds (after any write in flight), then closes; emits `close` when done. */
  end(): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * An asynchronous log destination with a bound on what it holds. pino's default destination also
 * writes asynchronously, queueing lines while a write is in flight, but without a limit: a log
 * reader that stops reading (a stuck pipe, a stalled collector) makes the process hold every line
 * it logs from then on. This one holds at most `maxBufferBytes` and drops lines past it, reporting
 * each drop. Lines are gathered into writes of `batchBytes` or written after `flushIntervalMs`,
 * whichever comes first. What it holds is written on process exit (pino registers the flush).
 *
 * @example
 * const logger = createLogger({ destination: createLogDestination({ onDrop: () => dropped++ }) });
 */
export function createLogDestination(options: LogDestinationOptions = {}): LogDestination {
  const maxLength = options.maxBufferBytes ?? 16 * 1024 * 1024;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
    throw new InvalidMonitoringOptionError(
      'maxBufferBytes',
      `must be a positive integer, got ${String(options.maxBufferBytes)}`,
    );
  }
  const batchBytes = options.batchBytes ?? 16 * 1024;
  if (!Number.isSafeInteger(batchBytes) || batchBytes < 0 || batchBytes >= MAX_WRITE_BYTES) {
    throw new InvalidMonitoringOptionError(
      'batchBytes',
      `must be an integer from 0 to ${MAX_WRITE_BYTES - 1}, got ${String(options.batchBytes)}`,
    );
  }
  const flushIntervalMs = options.flushIntervalMs ?? 100;
  if (!Number.isSafeInteger(flushIntervalMs) || flushIntervalMs < 1) {
    throw new InvalidMonitoringOptionError(
      'flushIntervalMs',
      `must be a positive integer, got ${String(options.flushIntervalMs)}`,
    );
  }
  const stream = pino.destination({
    dest: options.dest ?? 1,
    sync: false,
    maxLength,
    maxWrite: MAX_WRITE_BYTES,
    contentMode: 'buffer',
    ...(batchBytes > 0 ? { minLength: batchBytes } : {}),
  });
  if (batchBytes > 0) {
    // Not sonic-boom's own periodic flush: it writes even when nothing is held (an empty write
    // through the thread pool), so a quiet gateway woke a thread ten times a second for nothing.
    // sonic-boom keeps the bytes it holds in `_len` (not in its types).
    const held = stream as unknown as { _len: number; destroyed: boolean };
    const timer = setInterval(() => {
      if (held._len > 0 && !held.destroyed) stream.flush();
    }, flushIntervalMs);
    timer.unref();
    stream.once('close', () => clearInterval(timer));
  }
  // pino writes strings; in buffer mode sonic-boom takes bytes, and counts them without measuring.
  const writeBytes = stream.write.bind(stream) as unknown as (data: Buffer) => boolean;
  stream.write = (data: string | Buffer) => writeBytes(typeof data === 'string' ? Buffer.from(data) : data);
  const onDrop = options.onDrop;
  if (onDrop !== undefined) stream.on('drop', () => onDrop());
  return stream;
}

/**
 * Writes every line `destination` holds, after the write it may have in flight, then closes it
 * (standard output and error stay open). A process should await this before it exits: the flush
 * pino runs at exit is synchronous, so it cannot wait for a write in flight, and a batch being
 * written then is lost, or lands after the lines queued behind it. Resolves once everything is
 * written, or after `timeoutMs`: a reader that stopped reading, or a closed pipe, must not hold
 * the exit for longer, and the pending timer keeps the process alive until then so the caller's
 * own exit code stands. Lines logged while it writes are written too; lines logged after it
 * closed are dropped and reported like lines past `maxBufferBytes` (the `drop` event).
 *
 * @example
 * await gateway.stop();
 * await closeLogDestination(destination);
 * process.exit(0);
 */
export function closeLogDestination(destination: LogDestination, timeoutMs = 5_000): Promise<void> {
  // sonic-boom marks itself destroyed once closed (its type does not declare it).
  if ((destination as { destroyed?: boolean }).destroyed === true) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    destination.once('close', () => {
      clearTimeout(timer);
      // A late line (a request that outlived the drain) must not throw in the code logging it.
      const events = destination as unknown as NodeJS.EventEmitter;
      destination.write = () => {
        events.emit('drop');
      };
      resolve();
    });
    destination.end();
  });
}

/** Cache outcome reported on a request line and in the `x-llm-edge-cache` header. */
export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/** Fields of the one line written per request by {@link logRequest}. */
export interface RequestLogRecord {
  /** Request id, as returned in `x-request-id`. */
  requestId: string;
  /** Route name or path, e.g. `POST /v1/chat/completions`. */
  route: string;
  /** HTTP status sent (499 when the client went away first). */
  status: number;
  /** Time from request received to response finished, in milliseconds. */
  latencyMs: number;
  /** Time to the first streamed token, in milliseconds. */
  ttftMs?: number;
  /** Gateway overhead (total minus upstream wait), in milliseconds. */
  overheadMs?: number;
  /** Name of the gateway key used (never the key itself). */
  keyName?: string;
  /** Client address. */
  clientIp?: string;
  /** Provider instance that served the request. */
  provider?: string;
  /** Model the client asked for. */
  model?: string;
  /** Target id that served the request. */
  target?: string;
  /** Whether the response was streamed. */
  stream?: boolean;
  /** Input tokens, including cached ones. */
  inputTokens?: number;
  /** Output tokens. */
  outputTokens?: number;
  /** Input tokens served from the provider's prompt cache. */
  cachedInputTokens?: number;
  /** Cost of the request in USD. */
  costUsd?: number;
  /** Gateway response cache outcome. */
  cache?: CacheStatus;
  /** Upstream attempts made (retries and failovers included). */
  attempts?: number;
  /** Stable code of the error that ended the request, if any. */
  errorCode?: string;
  /** The error itself; serialized without bodies or secrets. */
  error?: unknown;
}

/**
 * Writes the single line for one request: `info` below 400, `warn` for 4xx, `error` for 5xx.
 * Never throws (a failing logger is reported to `onFailure`, e.g. a metrics counter); absent
 * fields are left out.
 *
 * @example
 * logRequest(logger, { requestId: 'req_1', route: 'POST /v1/chat/completions', status: 200, latencyMs: 812, target: 'openai-mini', cache: 'MISS' });
 */
export function logRequest(
  logger: Logger,
  record: RequestLogRecord,
  options: { onFailure?: (error: unknown) => void } = {},
): void {
  try {
    if (writeRequestLineDirect(logger, record)) return;
    const line: Record<string, unknown> = requestLineFields(record);
    if (record.error !== undefined) line['err'] = record.error;
    const { level, msg } = requestLineLevel(record.status);
    logger[level](line, msg);
  } catch (error) {
    // A logger that throws (closed destination) must not fail the request it describes.
    options.onFailure?.(error);
  }
}

export type { DestinationStream, Logger };
