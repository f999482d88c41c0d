import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_V8_FLAGS } from '../src/v8-flags';
import { freePort, type Spawned, startGatewayProcess } from './helpers';

// Loaded into every Node process the command starts (NODE_OPTIONS), the probe reports the process's
// pid and node flags; a re-executed process reports twice under one pid.
const PROBE = `
import cluster from 'node:cluster';
process.stderr.write('v8-probe ' + JSON.stringify({ pid: process.pid, worker: cluster.isWorker, execArgv: process.execArgv }) + '\\n');
`;

interface Probe {
  pid: number;
  worker: boolean;
  execArgv: string[];
}

const CONFIG = `
providers:
  oa:
    type: openai
    apiKey: sk-openai-abcdefghijklmnopqrstuvwxyz
targets:
  - id: mini
    provider: oa
    model: gpt-4o-mini
security:
  auth: false
`;

function probes(gateway: Spawned): Probe[] {
  return gateway.output.lines
    .filter((line) => line.startsWith('v8-probe '))
    .map((line) => JSON.parse(line.slice('v8-probe '.length)) as Probe);
}

describe('llm-edge start: V8 heap flags', () => {
  let dir: string;
  let config: string;
  let nodeOptions: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-edge-v8-'));
    config = join(dir, 'config.yaml');
    await writeFile(config, CONFIG);
    const probe = join(dir, 'probe.mjs');
    await writeFile(probe, PROBE);
    nodeOptions = `--import=${pathToFileURL(probe).href}`;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function start(nodeArgs: string[], env: Record<string, string | undefined>): Promise<Probe[]> {
    const gateway = await startGatewayProcess(
      ['start', '--config', config, '--port', '0'],
      {
        NODE_OPTIONS: nodeOptions,
        ...env,
      },
      nodeArgs,
    );
    try {
      const seen = probes(gateway);
      for (const probe of seen) expect(probe.pid).toBe(gateway.child.pid);
      return seen;
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  }

  it('re-executes itself once, in the same process, with the default flags', async () => {
    const seen = await start([], { LLM_EDGE_V8_FLAGS: undefined });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.execArgv).not.toContain(DEFAULT_V8_FLAGS[0]);
    expect(seen[1]!.execArgv).toEqual(expect.arrayContaining([...DEFAULT_V8_FLAGS]));
  });

  it('LLM_EDGE_V8_FLAGS=none runs with Node defaults, without re-executing', async () => {
    const seen = await start([], { LLM_EDGE_V8_FLAGS: 'none' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.execArgv.filter((arg) => arg.startsWith('--max-'))).toEqual([]);
  });

  it('LLM_EDGE_V8_FLAGS replaces the defaults', async () => {
    const seen = await start([], { LLM_EDGE_V8_FLAGS: '--max-semi-space-size=2 --max-old-space-size=512' });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.execArgv).toEqual(
      expect.arrayContaining(['--max-semi-space-size=2', '--max-old-space-size=512']),
    );
    expect(seen[1]!.execArgv).not.toContain(DEFAULT_V8_FLAGS[0]);
  });

  it('a flag given to node wins over the default', async () => {
    const seen = await start(['--max-semi-space-size=2'], { LLM_EDGE_V8_FLAGS: undefined });
    const last = seen.at(-1)!;
    expect(last.execArgv).toContain('--max-semi-space-size=2');
    expect(last.execArgv.filter((arg) => arg.startsWith('--max-semi-space-size'))).toHaveLength(1);
  });

  it('--workers: the workers run with the flags too', async () => {
    const port = await freePort();
    const gateway = await startGatewayProcess(
      ['start', '--config', config, '--port', String(port), '--workers', '2'],
      { NODE_OPTIONS: nodeOptions, LLM_EDGE_V8_FLAGS: undefined },
    );
    try {
      await gateway.output.waitFor(/listening on/);
      const deadline = Date.now() + 15_000;
      while (probes(gateway).filter((p) => p.worker).length < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const workers = probes(gateway).filter((p) => p.worker);
      expect(workers).toHaveLength(2);
      for (const worker of workers) {
        expect(worker.pid).not.toBe(gateway.child.pid);
        expect(worker.execArgv).toEqual(expect.arrayContaining([...DEFAULT_V8_FLAGS]));
      }
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });
});
