// Micro-benchmark of the per-request security work, on the built package.
// Run: pnpm build && pnpm bench   (REDIS_URL enables the Redis limiter figure)
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import {
  ApiKeyStore,
  estimateChatTokens,
  generateApiKey,
  PiiScanner,
  RateLimiter,
  RequestValidator,
} from '../dist/index.js';

const paragraph =
  'Our quarterly report covers revenue, churn and the roadmap for the next two releases. ' +
  'Please summarise the key risks and propose three mitigations with owners and dates. ';

// A typical chat request: system prompt, a few turns, about 2 KB of text, two PII values. It goes
// through JSON like a real body, so its strings are flat as JSON.parse makes them.
const typical = viaJson({
  model: 'gpt-4o-mini',
  max_tokens: 512,
  messages: [
    { role: 'system', content: 'You are a concise analyst. Answer in bullet points.' },
    { role: 'user', content: paragraph.repeat(6) },
    { role: 'assistant', content: 'Here is a summary of the main points you asked about. '.repeat(4) },
    {
      role: 'user',
      content: `${paragraph.repeat(3)} Send the result to maria.rossi@example.com or call +39 06 6982 1234.`,
    },
  ],
});
const clean = viaJson({
  ...typical,
  messages: typical.messages.map((m) => ({ ...m, content: m.content.replace(/ Send the result.*$/, '') })),
});

function viaJson(value) {
  return JSON.parse(JSON.stringify(value));
}

function bench(name, iterations, fn) {
  for (let i = 0; i < Math.min(iterations, 2_000); i++) fn();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  const us = ((performance.now() - start) * 1000) / iterations;
  console.log(`${name.padEnd(52)} ${us.toFixed(2).padStart(9)} µs/op`);
}

async function benchAsync(name, iterations, fn) {
  for (let i = 0; i < Math.min(iterations, 500); i++) await fn(i);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await fn(i);
  const us = ((performance.now() - start) * 1000) / iterations;
  console.log(`${name.padEnd(52)} ${us.toFixed(2).padStart(9)} µs/op`);
}

const textBytes = typical.messages.reduce((n, m) => n + Buffer.byteLength(m.content), 0);
console.log(
  `node ${process.version}; typical request: ${typical.messages.length} messages, ${textBytes} bytes of text\n`,
);

const pii = new PiiScanner();
bench('PII redact, typical request (2 findings)', 20_000, () => pii.applyToChatRequest(typical, 'redact'));
bench('PII detect, typical request without PII', 20_000, () => pii.applyToChatRequest(clean, 'detect'));
const big = viaJson({ ...typical, messages: Array.from({ length: 20 }, () => typical.messages[1]) });
bench('PII detect, 20 messages (~20 KB)', 2_000, () => pii.applyToChatRequest(big, 'detect'));

const keys = Array.from({ length: 1_000 }, (_, i) => ({ name: `k${i}`, ...generateApiKey() }));
const store = new ApiKeyStore({ keys: keys.map(({ name, hash }) => ({ name, hash, models: ['gpt-4o*'] })) });
const headers = { authorization: `Bearer ${keys[500].key}` };
bench('API key authenticate (1000 keys, SHA-256)', 100_000, () => store.authenticate(headers));
const secret = 'server-pepper';
const hmacKey = generateApiKey({ secret });
const hmacStore = new ApiKeyStore({ secret, keys: [{ name: 'h', hash: hmacKey.hash }] });
bench('API key authenticate (HMAC-SHA-256)', 100_000, () =>
  hmacStore.authenticate({ 'x-api-key': hmacKey.key }),
);

bench('token estimate (gpt-tokenizer o200k)', 5_000, () => estimateChatTokens(typical));
const validator = new RequestValidator();
bench('validate chat request (schema + structure + tokens)', 5_000, () => validator.validateChat(typical));

const memory = new RateLimiter();
await benchAsync('rate limit reserve + reconcile, in process', 20_000, async (i) => {
  const r = await memory.reserve({ id: `key:${i % 100}`, rpm: 1e9, tpm: 1e12 }, 800);
  await memory.reconcile(r, 600);
});

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = createClient({ url, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
redis.on('error', () => {});
try {
  await redis.connect();
  const prefix = `llm-edge-bench:${process.pid}`;
  const shared = new RateLimiter({ redis, keyPrefix: prefix });
  await benchAsync(`rate limit reserve + reconcile, Redis (${url})`, 5_000, async (i) => {
    const r = await shared.reserve({ id: `key:${i % 100}`, rpm: 1e9, tpm: 1e12 }, 800);
    await shared.reconcile(r, 600);
  });
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}*` }))
    if (batch.length) await redis.del(batch);
  redis.destroy();
} catch {
  console.log(`rate limit with Redis: skipped, no Redis at ${url}`);
}
