// Prints (1) the router's own cost per call (in-process provider, no network) and (2) what hedging does to
// the latency tail when one target is slow to start. Run after a build: `pnpm build && pnpm bench`.
import { createAnthropicProvider, createOpenAIProvider } from '@llm-edge/providers';
import { startSimulator } from '@llm-edge/simulator';
import { Router } from '../dist/index.js';

const request = (model) => ({ model, messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 16 });

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** An in-process provider answering at once, so the figure is the router's own work. */
function instantProvider() {
  const response = {
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop', logprobs: null },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  };
  return {
    specificationVersion: 'v1',
    name: 'instant',
    kind: 'openai-compatible',
    capabilities: () => ({
      streaming: true,
      tools: true,
      vision: false,
      jsonSchema: false,
      embeddings: false,
    }),
    chat: async (req) => ({ ...response, model: req.model }),
    chatStream: async () => {
      throw new Error('not used by this benchmark');
    },
    embeddings: async () => {
      throw new Error('not used by this benchmark');
    },
    listModels: async () => [],
  };
}

async function overhead() {
  const provider = instantProvider();
  const n = 100_000;
  const rows = {};
  for (const [label, strategy, hedgeDelayMs] of [
    ['priority', 'priority', undefined],
    ['weighted', 'weighted', undefined],
    ['least-latency', 'least-latency', undefined],
    ['priority + hedging armed', 'priority', 1000],
  ]) {
    const router = new Router({
      providers: { instant: provider },
      targets: [
        { id: 'a', provider: 'instant', model: 'gpt-4o-mini' },
        { id: 'b', provider: 'instant', model: 'gpt-4o', priority: 1 },
        { id: 'c', provider: 'instant', model: 'claude-haiku-4-5', priority: 2 },
      ],
      aliases: [
        { name: 'fast', targets: ['a', 'b', 'c'], strategy, ...(hedgeDelayMs ? { hedgeDelayMs } : {}) },
      ],
    });
    const run = async (fn) => {
      for (let i = 0; i < 5000; i++) await fn();
      const start = performance.now();
      for (let i = 0; i < n; i++) await fn();
      return ((performance.now() - start) / n) * 1000;
    };
    const direct = await run(() => provider.chat(request('gpt-4o-mini')));
    const routed = await run(() => router.chat(request('fast')));
    rows[label] = {
      'direct µs/call': direct.toFixed(2),
      'routed µs/call': routed.toFixed(2),
      'router µs/call': (routed - direct).toFixed(2),
    };
  }
  console.log(
    `router overhead per non-stream call, in-process provider answering at once, ${n} sequential calls:`,
  );
  console.table(rows);
}

async function hedging() {
  // gpt-4o-mini: TTFT median 30 ms but a long tail (p99 900 ms); claude-haiku-4-5 steady around 60 ms.
  const scenario = {
    profiles: {
      'gpt-4o-mini': { ttftMs: { p50: 30, p99: 900 }, itlMs: { p50: 1, p99: 2 } },
      'claude-haiku-4-5': { ttftMs: { p50: 60, p99: 90 }, itlMs: { p50: 1, p99: 2 } },
    },
  };
  const n = 200;
  const results = {};
  for (const hedgeDelayMs of [undefined, 100]) {
    const sim = await startSimulator({ seed: 7, timeScale: 1, scenario });
    const openai = createOpenAIProvider({ apiKey: 'sk-bench', baseURL: `${sim.url}/v1` });
    const anthropic = createAnthropicProvider({ apiKey: 'sk-ant-bench', baseURL: sim.url });
    const router = new Router({
      providers: { openai, anthropic },
      targets: [
        { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' },
        { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 1 },
      ],
      aliases: [
        { name: 'fast', targets: ['gpt', 'claude'], ...(hedgeDelayMs === undefined ? {} : { hedgeDelayMs }) },
      ],
    });
    const ttfts = [];
    let hedges = 0;
    let claudeWins = 0;
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      const { stream, target, attempts } = await router.chatStream(request('fast'));
      ttfts.push(performance.now() - start);
      for await (const _chunk of stream) {
        // drain
      }
      if (attempts.some((a) => a.hedge)) hedges++;
      if (target.id === 'claude') claudeWins++;
    }
    ttfts.sort((a, b) => a - b);
    results[hedgeDelayMs === undefined ? 'no hedging' : `hedge after ${hedgeDelayMs} ms`] = {
      p50: percentile(ttfts, 50).toFixed(0),
      p95: percentile(ttfts, 95).toFixed(0),
      p99: percentile(ttfts, 99).toFixed(0),
      max: ttfts.at(-1).toFixed(0),
      hedged: hedges,
      'won by claude': claudeWins,
    };
    await openai.close();
    await anthropic.close();
    await sim.close();
  }
  console.log(
    `\nstreamed chat, time until chatStream() resolves (first token) in ms over ${n} sequential requests (simulator timeScale 1):`,
  );
  console.table(results);
}

await overhead();
await hedging();
