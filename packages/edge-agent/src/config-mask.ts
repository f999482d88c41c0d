const SECRET_FIELDS = new Set(['apikey', 'key', 'password', 'secret', 'token']);
const SECRET_HEADERS = /^(authorization|proxy-authorization|x-api-key|api-key|x-goog-api-key|cookie)$/i;

/** Shows a secret's presence and length class without its value: `sk-…(51 chars)`. */
export function maskSecret(value: string): string {
  if (value.length <= 8) return '***';
  return `${value.slice(0, 3)}…(${value.length} chars)`;
}

/** Removes the password from a URL such as `redis://user:pw@host:6379`. */
export function maskUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return value;
  }
}

/**
 * A deep copy of a config with every secret masked: provider keys, gateway keys, secret-bearing
 * headers and URL passwords. Used by `llm-edge print-config` and start-up logging.
 */
export function maskConfig<T>(config: T): T {
  return mask(config, '', '', '') as T;
}

function mask(value: unknown, field: string, parent: string, grandparent: string): unknown {
  if (typeof value === 'string') {
    const inHeaders = parent === 'headers';
    // `tls.key` is a file path, not a secret.
    const secretField = !inHeaders && parent !== 'tls' && SECRET_FIELDS.has(field.toLowerCase());
    // Collectors authenticate with headers of every name (`dd-api-key`, `x-honeycomb-team`, …).
    const collectorHeader = inHeaders && grandparent === 'tracing';
    if ((inHeaders && SECRET_HEADERS.test(field)) || secretField || collectorHeader) {
      return maskSecret(value);
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return maskUrl(value);
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => mask(item, '', field, parent));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mask(v, k, field, parent);
    return out;
  }
  return value;
}
