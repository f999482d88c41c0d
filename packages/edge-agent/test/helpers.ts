import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { TEST_CLI } from './global-setup';

/** The CLI built from the current sources by the global setup. */
export const CLI = TEST_CLI;

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/** Collects a child's output and resolves when a line matches. */
export class ChildOutput {
  readonly lines: string[] = [];
  private readonly waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(child: ChildProcess) {
    let buffer = '';
    const onData = (data: Buffer) => {
      buffer += data.toString('utf8');
      let nl = buffer.indexOf('\n');
      while (nl !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.lines.push(line);
        for (const w of [...this.waiters]) {
          const m = line.match(w.re);
          if (m) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
        nl = buffer.indexOf('\n');
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  }

  /** Resolves with the first line (already seen or future) matching `re`; rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const m = line.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out waiting for ${re}; output so far:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      this.waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** A child process with its output. */
export interface Spawned {
  child: ChildProcess;
  output: ChildOutput;
  /** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Spawns a command with piped output. */
export function spawnChild(
  command: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Spawned {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new ChildOutput(child);
  return {
    child,
    output,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}

/** Starts the built `llm-edge` CLI (node flags `nodeArgs` before it); resolves once it prints its URL. */
export async function startGatewayProcess(
  args: string[],
  env: Record<string, string | undefined> = {},
  nodeArgs: string[] = [],
): Promise<Spawned & { url: string }> {
  const spawned = spawnChild(process.execPath, [...nodeArgs, CLI, ...args], env);
  const exited = once(spawned.child, 'exit').then(() => {
    throw new Error(`llm-edge exited early:\n${spawned.output.text()}`);
  });
  const match = await Promise.race([spawned.output.waitFor(/listening on (http\S+)/), exited]);
  exited.catch(() => undefined);
  return { ...spawned, url: match[1]! };
}

/**
 * A throwaway Redis server on a free port, without persistence, which a test may stop and start
 * again on the same port. It never touches the shared Redis on 6379.
 */
export class ThrowawayRedis {
  private proc: Spawned | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async create(): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    const proc = spawnChild('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    proc.child.on('error', () => undefined);
    try {
      await proc.output.waitFor(/Ready to accept connections/, 10_000);
    } catch (error) {
      await proc.stop();
      throw new Error(
        `could not start redis-server on port ${this.port} (install Redis: apt-get install redis-server): ${String(error)}`,
      );
    }
    this.proc = proc;
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = undefined;
  }
}
