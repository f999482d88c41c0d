// The proxy's own cost: requests/s and latency through createProxyServer (with a handler that
// answers at once, so everything measured is the HTTP layer) against a bare node:http server
// returning the same bytes, plus the overhead the proxy reports in x-llm-edge-overhead-ms.
// Run after `pnpm build`: `pnpm bench`. Load runs in a worker thread of the same process.
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createMetrics } from '@llm-edge/monitoring';
import { createProxyServer, serializedJsonResult } from '../dist/index.js';

const RESPONSE = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o-mini',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Hi!' }, logprobs: null, finish_reason: 'stop' },
  ],
  usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
});
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20000);

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function load(url, concurrency) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), {
      workerData: {
        url,
        path: '/v1/chat/completions',
        body: BODY,
        concurrency,
        requests: REQUESTS,
        warmup: 2000,
      },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

const bare = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(RESPONSE),
    });
    res.end(RESPONSE);
  });
});
await new Promise((resolve) => bare.listen(0, '127.0.0.1', resolve));
const bareUrl = `http://127.0.0.1:${bare.address().port}`;

const ok = async () => serializedJsonResult(RESPONSE);
const proxy = createProxyServer({
  metrics: createMetrics(),
  handlers: {
    chatCompletions: ok,
    embeddings: ok,
    models: ok,
    anthropicMessages: ok,
    readiness: () => ({ ready: true }),
  },
});
const proxyUrl = await proxy.listen();

console.log(
  `node ${process.version}, ${cpus().length} CPUs, ${REQUESTS} requests per run after 2000 warm-up`,
);
console.log(
  'concurrency | bare rps | proxy rps | ratio | bare p50/p99 ms | proxy p50/p99 ms | reported overhead p50/p99 ms',
);
for (const concurrency of [1, 16, 64]) {
  for (let run = 0; run < 2; run += 1) {
    const b = await load(bareUrl, concurrency);
    const p = await load(proxyUrl, concurrency);
    const bareRps = REQUESTS / b.seconds;
    const proxyRps = REQUESTS / p.seconds;
    const fmt = (n) => n.toFixed(3);
    console.log(
      [
        String(concurrency).padStart(11),
        bareRps.toFixed(0).padStart(8),
        proxyRps.toFixed(0).padStart(9),
        (proxyRps / bareRps).toFixed(2).padStart(5),
        `${fmt(percentile(b.latencies, 50))}/${fmt(percentile(b.latencies, 99))}`.padStart(15),
        `${fmt(percentile(p.latencies, 50))}/${fmt(percentile(p.latencies, 99))}`.padStart(16),
        `${fmt(percentile(p.overheads, 50))}/${fmt(percentile(p.overheads, 99))}`.padStart(28),
      ].join(' | '),
    );
  }
}
await proxy.close();
bare.close();
