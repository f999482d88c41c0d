/** A compiled list of allowed model names: exact names and `*` / `?` globs. */
export interface ModelMatcher {
  /** True when `model` is allowed. */
  matches(model: string): boolean;
}

const ALLOW_ALL: ModelMatcher = { matches: () => true };

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/**
 * Compiles allowed-model patterns once: exact names go into a set, globs (`gpt-4o*`, `openai/*`,
 * `claude-?-haiku`) into anchored regexes. `undefined` or a list containing `*` allows everything.
 */
export function compileModelMatcher(patterns: readonly string[] | undefined): ModelMatcher {
  if (patterns === undefined || patterns.includes('*')) return ALLOW_ALL;
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const pattern of patterns) {
    if (pattern.includes('*') || pattern.includes('?')) globs.push(globToRegExp(pattern));
    else exact.add(pattern);
  }
  return {
    matches(model: string): boolean {
      if (exact.has(model)) return true;
      for (const re of globs) if (re.test(model)) return true;
      return false;
    },
  };
}
