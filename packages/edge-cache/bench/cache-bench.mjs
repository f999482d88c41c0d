// Prints key-generation and cache-layer latencies. Runs on the built package:
//   pnpm --filter @llm-edge/cache build && pnpm --filter @llm-edge/cache bench
// L2 figures are measured only when Redis answers at REDIS_URL (default redis://127.0.0.1:6379).
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { createCache, createKeyGenerator } from '../dist/index.js';
import { createRedisStore } from '../dist/redis.js';

function chatRequestOfSize(bytes) {
  const request = {
    model: 'gpt-4o-mini',
    temperature: 0.7,
    top_p: 1,
    max_tokens: 512,
    stream: true,
    user: 'user-1234',
    messages: [
      { role: 'system', content: 'You are a helpful assistant that answers briefly and precisely.' },
      { role: 'user', content: '' },
    ],
  };
  const filler = 'Summarise the following paragraph about caching layers in LLM gateways. ';
  while (JSON.stringify(request).length < bytes) request.messages[1].content += filler;
  request.messages[1].content = request.messages[1].content.slice(
    0,
    bytes - JSON.stringify(request).length + request.messages[1].content.length,
  );
  return request;
}

function summarize(samplesNs) {
  const sorted = [...samplesNs].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000;
  const meanUs = sorted.reduce((sum, value) => sum + value, 0) / sorted.length / 1000;
  return { meanUs, p50Us: pick(0.5), p99Us: pick(0.99), opsPerSec: 1e6 / meanUs };
}

async function measure(name, iterations, op) {
  for (let i = 0; i < Math.min(2000, iterations); i += 1) await op(i);
  const samples = new Array(iterations);
  for (let i = 0; i < iterations; i += 1) {
    const start = process.hrtime.bigint();
    await op(i);
    samples[i] = Number(process.hrtime.bigint() - start);
  }
  return { name, iterations, ...summarize(samples) };
}

function measureSync(name, iterations, op) {
  for (let i = 0; i < Math.min(2000, iterations); i += 1) op(i);
  const samples = new Array(iterations);
  for (let i = 0; i < iterations; i += 1) {
    const start = process.hrtime.bigint();
    op(i);
    samples[i] = Number(process.hrtime.bigint() - start);
  }
  return { name, iterations, ...summarize(samples) };
}

const request = chatRequestOfSize(2048);
const response = {
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'x'.repeat(1800) } }],
  usage: { prompt_tokens: 500, completion_tokens: 450, total_tokens: 950 },
};
const keyOf = createKeyGenerator({ namespace: 'tenant-a' });
const results = [];

results.push(measureSync('key: 2 KB chat request', 50_000, () => keyOf(request)));

const memory = createCache({ l1: { maxEntries: 10_000 } });
const keys = Array.from({ length: 1000 }, (_, i) => `tenant-a:${i.toString(16).padStart(64, '0')}`);
results.push(
  await measure('L1 set (2 KB value)', 50_000, (i) => memory.set(keys[i % keys.length], response)),
);
results.push(await measure('L1 get hit (2 KB value)', 100_000, (i) => memory.get(keys[i % keys.length])));
results.push(await measure('L1 get miss', 100_000, (i) => memory.get(`missing-${i % 1000}`)));
results.push(
  await measure('getOrSet L1 hit', 100_000, (i) =>
    memory.getOrSet(keys[i % keys.length], async () => response),
  ),
);
await memory.close();

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const store = createRedisStore({ url: redisUrl, keyPrefix: `bench:edge-cache:${randomUUID()}` });
let redisNote = `L2 over Redis at ${redisUrl}`;
try {
  await store.whenReady(AbortSignal.timeout(2000));
  const remote = createCache({ l1: false, l2: store, l2TimeoutMs: 1000 });
  results.push(
    await measure('L2 set (2 KB value, Redis)', 5000, (i) => remote.set(keys[i % keys.length], response)),
  );
  results.push(
    await measure('L2 get hit (2 KB value, Redis)', 5000, (i) => remote.get(keys[i % keys.length])),
  );
  const { l2 } = remote.stats();
  if (l2.errors > 0) redisNote += ` (${l2.errors} errors during the run)`;
  await remote.clear();
  await remote.close();
} catch {
  redisNote = `L2 not measured: no Redis answered at ${redisUrl}`;
  await store.close();
}

console.log(
  `@llm-edge/cache bench — node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown cpu'} (${os.cpus().length} cpus)`,
);
console.log(
  `chat request: ${JSON.stringify(request).length} bytes of JSON; cached value: ${JSON.stringify(response).length} bytes`,
);
console.log('');
console.log('| operation | iterations | mean µs | p50 µs | p99 µs | ops/s |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.iterations} | ${r.meanUs.toFixed(2)} | ${r.p50Us.toFixed(2)} | ${r.p99Us.toFixed(2)} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} |`,
  );
}
console.log('');
console.log(redisNote);
