import { describe, expect, it } from 'vitest';
import { DEFAULT_V8_FLAGS, missingV8Flags, type ReexecProcess, reexecWithV8Flags } from './v8-flags';

describe('missingV8Flags', () => {
  it('asks for the defaults when nothing is set', () => {
    expect(missingV8Flags([], {})).toEqual([...DEFAULT_V8_FLAGS]);
  });

  it('asks for nothing once the process has them (what ends the re-execution)', () => {
    expect(missingV8Flags([...DEFAULT_V8_FLAGS], {})).toEqual([]);
  });

  it('LLM_EDGE_V8_FLAGS=none or empty turns them off', () => {
    expect(missingV8Flags([], { LLM_EDGE_V8_FLAGS: 'none' })).toEqual([]);
    expect(missingV8Flags([], { LLM_EDGE_V8_FLAGS: ' ' })).toEqual([]);
  });

  it('LLM_EDGE_V8_FLAGS replaces the defaults; what is not a flag is ignored', () => {
    expect(
      missingV8Flags([], { LLM_EDGE_V8_FLAGS: ' --max-semi-space-size=2  --max-old-space-size=900 x.js' }),
    ).toEqual(['--max-semi-space-size=2', '--max-old-space-size=900']);
  });

  it('a flag set on the node command line or in NODE_OPTIONS wins, in either spelling', () => {
    expect(missingV8Flags(['--max_semi_space_size=32'], {})).toEqual([]);
    expect(missingV8Flags([], { NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=1' })).toEqual([]);
    expect(
      missingV8Flags(['--max-old-space-size=64'], {
        LLM_EDGE_V8_FLAGS: '--max-semi-space-size=2 --max-old-space-size=900',
      }),
    ).toEqual(['--max-semi-space-size=2']);
  });
});

describe('reexecWithV8Flags', () => {
  function fakeProcess(overrides: Partial<ReexecProcess> = {}): { proc: ReexecProcess; calls: unknown[][] } {
    const calls: unknown[][] = [];
    const proc: ReexecProcess = {
      execPath: '/usr/bin/node',
      execArgv: ['--enable-source-maps'],
      argv: ['/usr/bin/node', '/opt/llm-edge/cli.js', 'start', '--port', '8080'],
      env: { PATH: '/usr/bin', UNSET: undefined },
      // A real execve never returns; this one records the call and fails like a refused one.
      execve: (file, args, env) => {
        calls.push([file, args, env]);
        throw new Error('recorded');
      },
      ...overrides,
    };
    return { proc, calls };
  }

  it('re-executes the same command with the flags first and the environment kept', () => {
    const { proc, calls } = fakeProcess();
    reexecWithV8Flags(proc);
    expect(calls).toEqual([
      [
        '/usr/bin/node',
        [
          '/usr/bin/node',
          ...DEFAULT_V8_FLAGS,
          '--enable-source-maps',
          '/opt/llm-edge/cli.js',
          'start',
          '--port',
          '8080',
        ],
        { PATH: '/usr/bin' },
      ],
    ]);
  });

  it('does nothing when no flag is missing', () => {
    const { proc, calls } = fakeProcess({ execArgv: [...DEFAULT_V8_FLAGS] });
    reexecWithV8Flags(proc);
    expect(calls).toEqual([]);
  });

  it('runs on without the flags where execve is missing or refused', () => {
    expect(() => reexecWithV8Flags(fakeProcess({ execve: undefined }).proc)).not.toThrow();
    const refused = fakeProcess({
      execve: () => {
        throw new Error('EPERM');
      },
    });
    expect(() => reexecWithV8Flags(refused.proc)).not.toThrow();
  });
});
