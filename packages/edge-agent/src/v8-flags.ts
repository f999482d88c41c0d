/**
 * The environment variable that replaces the V8 flags `llm-edge start` runs the gateway with:
 * unset for {@link DEFAULT_V8_FLAGS}, `none` (or empty) for Node's own defaults, or a
 * space-separated list of flags to use instead.
 */
export const V8_FLAGS_ENV = 'LLM_EDGE_V8_FLAGS';

/**
 * The V8 flags `llm-edge start` adds unless told otherwise ({@link V8_FLAGS_ENV}).
 *
 * On a 64-bit machine with a few GB of memory V8 lets the young generation grow far beyond what a
 * gateway needs, sized for throughput of allocation-heavy programs; a gateway allocates tens of KB
 * per request and keeps little of it, so most of that is RSS that buys nothing. Capping the
 * semi-space at 8 MB keeps the young generation at 16 MB. A 16 MB semi-space spent less CPU in
 * short runs (what survives each scavenge is the in-flight requests' state, copied less often
 * with more room) but not measurably less over longer ones, and held 20–90 MB more RSS under
 * sustained load. Nothing here caps the old generation: a busy gateway with many open streams must
 * be able to grow its heap rather than run out of it.
 */
export const DEFAULT_V8_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** `--max_semi_space_size=8` → `max-semi-space-size`; `undefined` for what is not a flag. */
function flagName(arg: string): string | undefined {
  if (!arg.startsWith('--')) return undefined;
  const name = arg.slice(2).split('=', 1)[0]!;
  return name.replaceAll('_', '-');
}

/**
 * The flags a `start` process still has to be re-executed with: those of {@link V8_FLAGS_ENV} (or
 * {@link DEFAULT_V8_FLAGS}) that neither the node command line (`execArgv`) nor `NODE_OPTIONS`
 * already sets. A flag the operator set wins over the default; an empty result means the process
 * runs as it is (which is also what ends the re-execution: the new process has them all).
 */
export function missingV8Flags(
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const wanted = env[V8_FLAGS_ENV];
  const trimmed = wanted?.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  const flags = trimmed === undefined ? DEFAULT_V8_FLAGS : trimmed.split(/\s+/);
  const present = new Set<string>();
  for (const arg of [...execArgv, ...(env['NODE_OPTIONS'] ?? '').split(/\s+/)]) {
    const name = flagName(arg);
    if (name !== undefined) present.add(name);
  }
  return flags.filter((flag) => {
    const name = flagName(flag);
    return name !== undefined && !present.has(name);
  });
}

/** What {@link reexecWithV8Flags} needs of the running process. */
export interface ReexecProcess {
  readonly execPath: string;
  readonly execArgv: readonly string[];
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `process.execve` where Node has it (22.15+ and 23.11+ on POSIX). */
  readonly execve?: ((file: string, args?: readonly string[], env?: NodeJS.ProcessEnv) => never) | undefined;
}

/**
 * Replaces this process (same pid, same standard streams, via `process.execve`) by the same
 * command run with the missing V8 flags ({@link missingV8Flags}), because heap sizes can only be
 * set when V8 starts. Returns without doing anything when no flag is missing, when the platform
 * has no `execve` (Windows), or when `execve` fails: the gateway then runs with Node's defaults.
 */
export function reexecWithV8Flags(proc: ReexecProcess): void {
  const script = proc.argv[1];
  if (proc.execve === undefined || script === undefined) return;
  const flags = missingV8Flags(proc.execArgv, proc.env);
  if (flags.length === 0) return;
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(proc.env)) if (value !== undefined) env[name] = value;
  try {
    proc.execve(proc.execPath, [proc.execPath, ...flags, ...proc.execArgv, ...proc.argv.slice(1)], env);
  } catch {
    // execve is refused (a sandbox, a seccomp profile): run on with Node's own heap sizing.
  }
}
