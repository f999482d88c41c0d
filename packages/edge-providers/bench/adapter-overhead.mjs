// Per-call cost of each adapter against the simulator (no simulated latency), next to a bare
// undici request carrying the same OpenAI payload. Run after `pnpm build`: `pnpm bench`.
import { performance } from 'node:perf_hooks';
import { startSimulator } from '@llm-edge/simulator';
import { request } from 'undici';
import {
  createAnthropicProvider,
  createGeminiProvider,
  createOpenAIProvider,
  parseChatRequest,
} from '../dist/index.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const WARMUP = 200;
const sim = await startSimulator({
  seed: 1,
  timeScale: 0,
  scenario: { content: { mode: 'lorem', length: { min: 32, max: 32 } } },
});

const body = (model) => ({
  model,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello' },
  ],
  max_tokens: 64,
});

async function time(label, fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const samples = [];
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  const total = performance.now() - start;
  samples.sort((a, b) => a - b);
  const p = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))].toFixed(3);
  console.log(
    `${label.padEnd(34)} ${(CALLS / (total / 1000)).toFixed(0).padStart(7)} calls/s  p50 ${p(0.5)} ms  p99 ${p(0.99)} ms`,
  );
}

const openai = createOpenAIProvider({ apiKey: 'k', baseURL: `${sim.url}/v1` });
const anthropic = createAnthropicProvider({ apiKey: 'k', baseURL: sim.url });
const gemini = createGeminiProvider({ apiKey: 'k', baseURL: sim.url });
const drain = async (stream) => {
  for await (const _ of stream);
};

console.log(`node ${process.version}, ${CALLS} sequential calls each, simulator timeScale 0`);
await time('bare undici POST (baseline)', async () => {
  const res = await request(`${sim.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    body: JSON.stringify(body('gpt-4o-mini')),
  });
  await res.body.json();
});
await time('openai chat', () => openai.chat(parseChatRequest(body('gpt-4o-mini'))));
await time('anthropic chat', () => anthropic.chat(parseChatRequest(body('claude-haiku-4-5'))));
await time('gemini chat', () => gemini.chat(parseChatRequest(body('gemini-2.5-flash'))));
await time('openai chatStream', async () =>
  drain(await openai.chatStream(parseChatRequest(body('gpt-4o-mini')))),
);
await time('anthropic chatStream', async () =>
  drain(await anthropic.chatStream(parseChatRequest(body('claude-haiku-4-5')))),
);
await time('gemini chatStream', async () =>
  drain(await gemini.chatStream(parseChatRequest(body('gemini-2.5-flash')))),
);

await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
await sim.close();
