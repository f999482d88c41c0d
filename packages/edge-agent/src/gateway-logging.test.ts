import { EventEmitter, once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogDestination } from '@llm-edge/monitoring';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from './config-loader';
import { createGateway, type Gateway } from './gateway';

const { config } = parseConfig(
  {
    providers: { sim: { type: 'simulator' } },
    simulator: { timeScale: 0 },
    targets: [{ id: 'mini', provider: 'sim', model: 'gpt-4o-mini' }],
    security: { auth: false },
    telemetry: { logLevel: 'info', metrics: true },
  },
  {},
);

let gateway: Gateway | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function chat(url: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'log me' }] }),
  });
}

describe('request log destination', () => {
  it('writes request lines through the asynchronous destination the CLI uses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-edge-gateway-log-'));
    dirs.push(dir);
    const path = join(dir, 'requests.log');
    const destination = createLogDestination({ dest: path });
    await once(destination as unknown as EventEmitter, 'ready');
    gateway = createGateway(config, { logDestination: destination });
    await gateway.start();
    const response = await chat(gateway.url);
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 20));
    destination.flushSync();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line['reqId'] === requestId)).toMatchObject({ status: 200, target: 'mini' });
  });

  it('counts each line a bounded destination dropped as a logging telemetry failure', async () => {
    const destination = Object.assign(new EventEmitter(), { write: (_line: string) => true });
    gateway = createGateway(config, { logDestination: destination });
    await gateway.start();
    destination.emit('drop', '{"msg":"lost"}\n');
    destination.emit('drop', '{"msg":"lost"}\n');
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/llm_edge_telemetry_failures_total\{component="logging"\} 2\b/);
  });
});
