// An upstream for the suite, run as its own process so that its CPU and memory are not the
// gateway's: `node src/upstream.ts <json spec>`. Prints one JSON line `{ "url": ... }` when
// listening, then serves until SIGTERM.
//
// Kinds:
// - `sim`: @llm-edge/simulator with timeScale 0 (no latency) and fixed-length replies;
// - `sim-paced`: the simulator streaming a fixed number of chunks at a fixed gap (timeScale 1,
//   a profile with no time to first token and `gapMs` between chunks);
// - `bare`: a bare node:http server answering every request with the same bytes (`bodyFile`),
//   the fastest fixed-response server Node can be, as a baseline;
// - `fastify`: Fastify, as the gateway's proxy configures it for bodies, answering every POST with
//   the same bytes once it has parsed the JSON body: what the server library costs over `bare`;
// - `floor`: the least a JSON proxy can be in Node, as the gateway's lower bound: node:http in,
//   an undici Pool out to `upstreamUrl`, the request and the answer each parsed and serialised
//   once, no other work. Whatever the gateway costs above it is the price of its features.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator } from '@llm-edge/simulator';
import Fastify from 'fastify';
import { Pool } from 'undici';

/** What to start. */
export type UpstreamSpec =
  | { kind: 'sim'; tokens: number }
  | { kind: 'sim-paced'; tokens: number; gapMs: number }
  | { kind: 'bare'; bodyFile: string; port?: number }
  | { kind: 'fastify'; bodyFile: string; port?: number }
  | { kind: 'floor'; upstreamUrl: string; port?: number };

const spec = JSON.parse(process.argv[2] ?? '{}') as UpstreamSpec;

let url: string;
let close: () => Promise<void>;
if (spec.kind === 'bare') {
  const body = readFileSync(spec.bodyFile);
  const length = String(body.byteLength);
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(spec.port ?? 0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
} else if (spec.kind === 'fastify') {
  const body = readFileSync(spec.bodyFile);
  const app = Fastify({ logger: false, keepAliveTimeout: 65_000, bodyLimit: 1024 * 1024 });
  app.post('/*', (_request, reply) => {
    reply.header('content-type', 'application/json').send(body);
  });
  url = await app.listen({ port: spec.port ?? 0, host: '127.0.0.1' });
  close = () => app.close();
} else if (spec.kind === 'floor') {
  const pool = new Pool(spec.upstreamUrl, { connections: 128 });
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        const answer = await pool.request({
          path: req.url ?? '/',
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-upstream' },
          body: JSON.stringify(request),
        });
        const parsed = (await answer.body.json()) as Record<string, unknown>;
        const out = JSON.stringify(parsed);
        res.writeHead(answer.statusCode, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(out),
        });
        res.end(out);
      } catch (error) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(spec.port ?? 0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pool.close();
  };
} else {
  const paced = spec.kind === 'sim-paced';
  const profile = {
    ttftMs: { p50: 0, p99: 0 },
    itlMs: { p50: paced ? spec.gapMs : 0, p99: paced ? spec.gapMs : 0 },
    // The simulator's default gate (256 at once per model) would turn away most of the
    // 1,000 open streams of the memory section; the suite measures the gateway, not the gate.
    concurrency: 100_000,
  };
  const sim = await startSimulator({
    seed: 1,
    timeScale: paced ? 1 : 0,
    // The request log is a debugging aid; keep it from holding bodies under load.
    requestLogLimit: 0,
    scenario: {
      content: { mode: 'lorem', length: { min: spec.tokens, max: spec.tokens } },
      defaultProfile: profile,
      profiles: { 'gpt-4o-mini': profile },
    },
  });
  url = sim.url;
  close = () => sim.close();
}

process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);
const stop = () => {
  close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
