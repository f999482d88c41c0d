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

/** Marks `logger` (made by `createLogger`, with only the built-in redaction) for direct request lines. */
export function allowDirectRequestLines(logger: Logger): void {
  directLoggers.add(logger);
}

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

function text(value: string): string {
  return JSON.stringify(value);
}

function num(value: number): string {
  // As pino writes numbers: a non-finite one becomes null.
  return Number.isFinite(value) ? String(value) : 'null';
}

/** Milliseconds as logged: rounded to the microsecond. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * Writes `record` straight to the logger's destination when that is possible and gives the same
 * line pino would; returns false when the caller must go through pino instead.
 */
export function writeRequestLineDirect(logger: Logger, record: RequestLogRecord): boolean {
  if (record.error !== undefined || !directLoggers.has(logger)) return false;
  const stream = stateOf<Destination & Record<symbol, unknown>>(logger, symbols.streamSym);
  // A multistream needs the level and object beside the line; hooks and mixins change the line.
  if (
    stream[symbols.needsMetadataGsym] === true ||
    stateOf<unknown>(logger, symbols.mixinSym) ||
    stateOf<unknown>(logger, symbols.nestedKeySym) ||
    stateOf<{ streamWrite?: unknown } | undefined>(logger, symbols.hooksSym)?.streamWrite
  ) {
    return false;
  }
  const status = record.status;
  const label = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  if (!logger.isLevelEnabled(label)) return true;
  const prefix = stateOf<Record<number, string>>(logger, symbols.lsCacheSym)[LEVELS[label]];
  if (prefix === undefined) return false;
  let line = `${prefix}${stateOf<() => string>(logger, symbols.timeSym)()}${stateOf<string>(logger, symbols.chindingsSym)},"reqId":${text(record.requestId)},"route":${text(record.route)},"status":${num(status)},"latencyMs":${num(roundMs(record.latencyMs))}`;
  if (record.ttftMs !== undefined) line += `,"ttftMs":${num(roundMs(record.ttftMs))}`;
  if (record.overheadMs !== undefined) line += `,"overheadMs":${num(roundMs(record.overheadMs))}`;
  if (record.keyName !== undefined) line += `,"keyName":${text(record.keyName)}`;
  if (record.clientIp !== undefined) line += `,"clientIp":${text(record.clientIp)}`;
  if (record.provider !== undefined) line += `,"provider":${text(record.provider)}`;
  if (record.model !== undefined) line += `,"model":${text(record.model)}`;
  if (record.target !== undefined) line += `,"target":${text(record.target)}`;
  if (record.stream !== undefined) line += `,"stream":${record.stream ? 'true' : 'false'}`;
  if (record.inputTokens !== undefined) line += `,"inputTokens":${num(record.inputTokens)}`;
  if (record.outputTokens !== undefined) line += `,"outputTokens":${num(record.outputTokens)}`;
  if (record.cachedInputTokens !== undefined) line += `,"cachedInputTokens":${num(record.cachedInputTokens)}`;
  if (record.costUsd !== undefined) line += `,"costUsd":${num(record.costUsd)}`;
  if (record.cache !== undefined) line += `,"cache":${text(record.cache)}`;
  if (record.attempts !== undefined) line += `,"attempts":${num(record.attempts)}`;
  if (record.errorCode !== undefined) line += `,"errorCode":${text(record.errorCode)}`;
  const msg =
    label === 'error' ? 'request failed' : label === 'warn' ? 'request rejected' : 'request completed';
  stream.write(`${line},"msg":"${msg}"${stateOf<string>(logger, symbols.endSym)}`);
  return true;
}
