import { AgentError, type ConfigIssue } from './errors';

// ${NAME}, ${NAME:-default}; `$${` writes a literal `${`.
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

/** Formats a path of object keys and array indices as `a.b[0].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed config document.
 *
 * A value that is exactly one reference to an unset variable without a default is dropped, so an
 * optional field stays absent and a required one is reported by the schema under its own path.
 * A reference to an unset variable inside a longer string is an error naming the field.
 */
export function interpolateEnv(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  const issues: ConfigIssue[] = [];
  const out = walk(value, env, [], issues);
  if (issues.length > 0) {
    throw new AgentError(
      'LLM_EDGE_CONFIG_ENV',
      `Invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues },
    );
  }
  return out;
}

function walk(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: PropertyKey[],
  issues: ConfigIssue[],
): unknown {
  if (typeof value === 'string') return substitute(value, env, path, issues);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((item, index) => {
      const next = walk(item, env, [...path, index], issues);
      if (next !== undefined) out.push(next);
    });
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const next = walk(item, env, [...path, key], issues);
      if (next !== undefined) out[key] = next;
    }
    return out;
  }
  return value;
}

function substitute(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: PropertyKey[],
  issues: ConfigIssue[],
): string | undefined {
  if (!text.includes('$')) return text;
  const whole = WHOLE_REFERENCE.exec(text);
  if (whole) {
    const name = whole[1]!;
    const fallback = whole[2];
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    return fallback;
  }
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const set = env[name!];
    if (set !== undefined && set !== '') return set;
    if (fallback !== undefined) return fallback;
    issues.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
    return '';
  });
}
