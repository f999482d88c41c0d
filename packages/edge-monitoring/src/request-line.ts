import { type Logger, pino } from 'pino';
import type { RequestLogRecord } from './logger';

// The request line is the one log line written for every request, so its cost is paid at the
// gateway's full request rate. Through pino's generic path it costs an intermediate object, the
// `censorKeys` formatter (which walks and may copy it), a redaction stringifier lookup per key and
// a string built key by key; at 64 clients that was about 10% of all the bytes the gateway
// allocated per request. The record has a fixed set of fields, none of them a secret or prompt key,
// so for loggers made by `createLogger` without extra redaction paths the line is written here
// directly, in the same format pino writes (level, time and bindings from the logger itself, then
// the fields, then `msg`). Any other logger, and any line carrying an error (which needs the
// scrubbing serializer), goes through pino as before.

const symbols = pino.symbols;

interface Destination {
  write(line: string): void;
}

/** A field of pino's logger state (`pino.symbols` is pino's API for integrations). */
function stateOf<T>(logger: Logger, symbol: symbol): T {
  return (logger as unknown as Record<symbol, T>)[symbol];
}

/** Loggers from `createLogger` whose output a request line may be written to directly. */
const directLoggers = new WeakSet<Logger>();

/**
 * Marks `logger` (made by `createLogger`, with only the built-in redaction) for direct request
 * lines, unless its destination or options change what pino writes: a multistream needs the level
 * and object beside the line, and hooks, mixins and a nested key change the line itself. All of
 * these are fixed when the logger is made, so they are checked once, here.
 */
export function allowDirectRequestLines(logger: Logger): void {
  const stream = stateOf<Record<symbol, unknown>>(logger, symbols.streamSym);
  if (
    stream[symbols.needsMetadataGsym] === true ||
    stateOf<unknown>(logger, symbols.mixinSym) ||
    stateOf<unknown>(logger, symbols.nestedKeySym) ||
    stateOf<{ streamWrite?: unknown } | undefined>(logger, symbols.hooksSym)?.streamWrite
  ) {
    return;
  }
  directLoggers.add(logger);
}

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/** The level and message of a request line: `info` below 400, `warn` for 4xx, `error` for 5xx. */
export function requestLineLevel(status: number): { level: keyof typeof LEVELS; msg: string } {
  if (status >= 500) return { level: 'error', msg: 'request failed' };
  if (status >= 400) return { level: 'warn', msg: 'request rejected' };
  return { level: 'info', msg: 'request completed' };
}

/** Milliseconds as logged: rounded to the microsecond. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The fields of a request line, in order, absent ones left out (the error is added by the caller). */
export function requestLineFields(record: RequestLogRecord): Record<string, string | number | boolean> {
  const line: Record<string, string | number | boolean> = {
    reqId: record.requestId,
    route: record.route,
    status: record.status,
    latencyMs: roundMs(record.latencyMs),
  };
  if (record.ttftMs !== undefined) line['ttftMs'] = roundMs(record.ttftMs);
  if (record.overheadMs !== undefined) line['overheadMs'] = roundMs(record.overheadMs);
  // Spelled out rather than looped over a list of names: a loop with computed keys measured
  // ~150–230 ns more per line (bench/recorders.mjs), on every request.
  if (record.keyName !== undefined) line['keyName'] = record.keyName;
  if (record.clientIp !== undefined) line['clientIp'] = record.clientIp;
  if (record.provider !== undefined) line['provider'] = record.provider;
  if (record.model !== undefined) line['model'] = record.model;
  if (record.target !== undefined) line['target'] = record.target;
  if (record.stream !== undefined) line['stream'] = record.stream;
  if (record.inputTokens !== undefined) line['inputTokens'] = record.inputTokens;
  if (record.outputTokens !== undefined) line['outputTokens'] = record.outputTokens;
  if (record.cachedInputTokens !== undefined) line['cachedInputTokens'] = record.cachedInputTokens;
  if (record.costUsd !== undefined) line['costUsd'] = record.costUsd;
  if (record.cache !== undefined) line['cache'] = record.cache;
  if (record.attempts !== undefined) line['attempts'] = record.attempts;
  if (record.errorCode !== undefined) line['errorCode'] = record.errorCode;
  return line;
}

/**
 * Writes `record` straight to the logger's destination when that is possible and gives the same
 * line pino would; returns false when the caller must go through pino instead.
 */
export function writeRequestLineDirect(logger: Logger, record: RequestLogRecord): boolean {
  if (record.error !== undefined || !directLoggers.has(logger)) return false;
  const { level, msg } = requestLineLevel(record.status);
  if (!logger.isLevelEnabled(level)) return true;
  const prefix = stateOf<Record<number, string>>(logger, symbols.lsCacheSym)[LEVELS[level]];
  if (prefix === undefined) return false;
  const fields = requestLineFields(record);
  fields['msg'] = msg;
  // One native JSON.stringify writes the fields as pino would (strings escaped, a non-finite number
  // as null) into one flat string; built value by value, the line was ~16 concatenations and a
  // JSON.stringify per string, and the rope was flattened again when the destination encoded it.
  const json = JSON.stringify(fields);
  stateOf<Destination>(logger, symbols.streamSym).write(
    `${prefix}${stateOf<() => string>(logger, symbols.timeSym)()}${stateOf<string>(logger, symbols.chindingsSym)},${json.slice(1, -1)}${stateOf<string>(logger, symbols.endSym)}`,
  );
  return true;
}
