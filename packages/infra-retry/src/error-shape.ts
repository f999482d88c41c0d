/** Reading fields off thrown values of unknown shape, without trusting any of them. */

/** How deep `cause` chains are followed; wrappers rarely nest deeper, and cycles must end. */
const MAX_CAUSE_DEPTH = 8;

export type ErrorRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is ErrorRecord {
  return typeof value === 'object' && value !== null;
}

/** The error itself, then its `cause`, its cause's cause, … (objects only, cycle-safe). */
export function* causeChain(error: unknown): Generator<ErrorRecord> {
  const seen = new Set<unknown>();
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && isRecord(current) && !seen.has(current); depth++) {
    seen.add(current);
    yield current;
    current = current['cause'];
  }
}

function asStatus(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599
    ? value
    : undefined;
}

/** The HTTP status an error carries as `status`, `statusCode` or `response.status`, if any. */
export function readStatus(error: ErrorRecord): number | undefined {
  const response = error['response'];
  return (
    asStatus(error['status']) ??
    asStatus(error['statusCode']) ??
    (isRecord(response) ? (asStatus(response['status']) ?? asStatus(response['statusCode'])) : undefined)
  );
}

/**
 * A header value from a `Headers`/`Map`-like object or a plain record (case-insensitive);
 * arrays yield their first entry.
 */
export function readHeader(headers: unknown, name: string): string | undefined {
  if (!isRecord(headers)) return undefined;
  let value: unknown;
  const get = headers['get'];
  if (typeof get === 'function') {
    value = get.call(headers, name);
  } else {
    const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  if (Array.isArray(value)) value = value[0];
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? value : undefined;
}

/** The headers an error carries as `headers` or `response.headers`, if any. */
export function readHeaders(error: ErrorRecord): unknown {
  const response = error['response'];
  return error['headers'] ?? (isRecord(response) ? response['headers'] : undefined);
}
