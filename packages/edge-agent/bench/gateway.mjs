// Prints the gateway's own overhead (x-llm-edge-overhead-ms) and end-to-end latency per request,
// one client at a time, against an upstream simulator with zero latency in a separate process.
//   pnpm --filter @llm-edge/agent build && pnpm --filter @llm-edge/agent bench
// The full load suite (autocannon, concurrency, RSS) is the repository's performance benchmark;
// this script is the quick figure the package README quotes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { createGateway } from '../dist/index.js';

const N = Number(process.env.BENCH_REQUESTS ?? 2000);
const KEY = 'sk-bench-0123456789abcdef';

async function startUpstream() {
  const code = `import('@llm-edge/simulator').then(async ({ startSimulator }) => {
    const sim = await startSimulator({ timeScale: 0, seed: 1 });
    process.stdout.write(sim.url + '\\n');
  });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [data] = await once(child.stdout, 'data');
  return { url: String(data).trim(), child };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(url, name, makeBody, headers = {}) {
  const overhead = [];
  const total = [];
  for (let i = 0; i < N + 200; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
      body: JSON.stringify(makeBody(i)),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${name}: status ${res.status}`);
    if (i < 200) continue; // warm-up
    total.push(performance.now() - started);
    overhead.push(Number(res.headers.get('x-llm-edge-overhead-ms')));
  }
  overhead.sort((a, b) => a - b);
  total.sort((a, b) => a - b);
  const f = (v) => v.toFixed(3).padStart(8);
  console.log(
    `${name.padEnd(34)} overhead p50 ${f(percentile(overhead, 50))} p99 ${f(percentile(overhead, 99))}   ` +
      `total p50 ${f(percentile(total, 50))} p99 ${f(percentile(total, 99))}  (ms, n=${N})`,
  );
}

const upstream = await startUpstream();
const gateway = createGateway(
  {
    server: { port: 0 },
    providers: { openai: { type: 'simulator', api: 'openai', url: upstream.url } },
    targets: [{ id: 'mini', provider: 'openai', model: 'gpt-4o-mini' }],
    security: { keys: [{ name: 'bench', key: KEY, rpm: 1_000_000, tpm: 1_000_000_000 }] },
    telemetry: { logLevel: 'warn' },
  },
  { env: {} },
);
await gateway.start();
console.log(
  `node ${process.version}, ${availableParallelism()} CPUs, ${new Date().toISOString().slice(0, 10)}`,
);
const prompt = (i) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Hello number ${i}` }] });
await measure(gateway.url, 'non-stream, cache bypass', prompt, { 'cache-control': 'no-store' });
await measure(gateway.url, 'non-stream, cache HIT (L1)', () => prompt(0));
await measure(gateway.url, 'stream, cache bypass', (i) => ({ ...prompt(i), stream: true }), {
  'cache-control': 'no-store',
});
await gateway.stop();
upstream.child.kill();
