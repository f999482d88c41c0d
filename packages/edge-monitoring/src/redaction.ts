/** Replacement written wherever a secret or a prompt would have been. */
export const REDACTED = '[REDACTED]';

/**
 * Object keys whose values are credentials wherever they appear (headers, options, error fields).
 * Matched case-sensitively as logged; HTTP header names arrive lower-cased from Node.
 */
export const SECRET_KEYS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'set-cookie',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
]);

/**
 * Object keys that carry prompt or completion text in the OpenAI, Anthropic and Gemini shapes,
 * plus generic body fields. Redacted by default so conversations never reach logs.
 */
export const PROMPT_KEYS: readonly string[] = Object.freeze([
  'messages',
  'prompt',
  'input',
  'system',
  'contents',
  'systemInstruction',
  'choices',
  'content',
  'body',
  'rawBody',
]);

/** Objects under these keys go to pino serializers, which copy only safe fields. */
const SERIALIZED_KEYS = new Set(['req', 'res', 'err', 'error']);

/** How deep {@link censorKeys} walks; deeper values are replaced whole. */
const MAX_CENSOR_DEPTH = 8;

function walkable(value: object): boolean {
  if (value instanceof Error) return false;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON !== 'function';
}

/**
 * Returns `value` with every property named in `keys` replaced by `[REDACTED]`, at any depth
 * (up to eight levels; anything deeper is replaced whole). Copies only the objects on the way
 * to a redacted key and shares the rest, so a line with nothing to redact costs one walk.
 * Errors and objects with `toJSON`, and values under `req`/`res`/`err`/`error` (handled by the
 * logger's serializers), are left to their serializers.
 */
export function censorKeys<T>(value: T, keys: ReadonlySet<string>, depth = 0): T {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_CENSOR_DEPTH) return REDACTED as T;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      const censored = censorKeys(item, keys, depth + 1);
      if (censored !== item) {
        copy ??= value.slice();
        copy[i] = censored;
      }
    }
    return (copy ?? value) as T;
  }
  if (!walkable(value)) return value;
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const item = record[key];
    let censored: unknown;
    if (keys.has(key)) censored = item === undefined ? item : REDACTED;
    else if (depth === 0 && SERIALIZED_KEYS.has(key)) censored = item;
    else censored = censorKeys(item, keys, depth + 1);
    if (censored !== item) {
      copy ??= { ...record };
      copy[key] = censored;
    }
  }
  return (copy ?? value) as T;
}

/**
 * pino `redact` paths for the usual places of each key: the root, `headers.*`, `req.headers.*`
 * and `request.headers.*`. Wildcard paths are avoided on purpose: pino evaluates them on every
 * line and they cost tens of microseconds; {@link censorKeys} covers arbitrary depth instead.
 */
export function redactionPaths(keys: readonly string[]): string[] {
  const paths: string[] = [];
  for (const key of keys) {
    const leaf = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `["${key}"]`;
    const root = leaf.startsWith('.') ? leaf.slice(1) : leaf;
    paths.push(root, `headers${leaf}`, `req.headers${leaf}`, `request.headers${leaf}`);
  }
  return paths;
}

const SECRET_PATTERNS: readonly RegExp[] = [
  // OpenAI, Anthropic, OpenRouter style keys: sk-..., sk-proj-..., sk-ant-api03-...
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  // Google API keys.
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  // GitHub tokens.
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g,
  // AWS access key ids.
  /\bAKIA[0-9A-Z]{16}\b/g,
];

const AUTH_SCHEME_PATTERN = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * Replaces substrings that look like credentials (provider API keys, bearer tokens) with
 * `[REDACTED]`. Used on error messages and stacks before they reach a log, a span or a client.
 *
 * @example
 * scrubSecrets('Incorrect API key provided: sk-proj-abcdefghijklmnop1234'); // 'Incorrect API key provided: [REDACTED]'
 */
export function scrubSecrets(text: string, extraPatterns: readonly RegExp[] = []): string {
  let out = text.replace(AUTH_SCHEME_PATTERN, (_match, scheme: string) => `${scheme} ${REDACTED}`);
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, REDACTED);
  for (const pattern of extraPatterns) out = out.replace(pattern, REDACTED);
  return out;
}

const SECRET_HEADER_SET = new Set(SECRET_KEYS.map((key) => key.toLowerCase()));

/** True when a header (any case) holds credentials and must never be logged or forwarded to telemetry. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER_SET.has(name.toLowerCase());
}

/**
 * Copies headers with credential values replaced by `[REDACTED]`; multi-valued headers are
 * joined with `, ` so the result is flat.
 */
export function sanitizeHeaders(
  headers: Readonly<Record<string, string | string[] | number | undefined>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined || headers === null) return out;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (isSecretHeader(name)) {
      out[name] = REDACTED;
      continue;
    }
    out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}
