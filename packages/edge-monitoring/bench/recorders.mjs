// Per-request cost of the monitoring calls the gateway makes on every request.
// Run after `pnpm build`: `pnpm bench` (node bench/recorders.mjs).
import { performance } from 'node:perf_hooks';
import {
  createGenAiTracing,
  createLogger,
  createMetrics,
  createUsageAccumulator,
  logRequest,
} from '../dist/index.js';

const ITERATIONS = 200_000;
const sink = { write: () => {} };
const logger = createLogger({ destination: sink });
// An extra redaction path sends request lines through pino's generic serialiser, as every line went before.
const genericLogger = createLogger({ destination: sink, redactPaths: ['unused.path'] });
const metrics = createMetrics();
const tracing = createGenAiTracing();
const usage = createUsageAccumulator({
  metrics,
  price: () => ({ inputUsd: 0.000001, cachedInputUsd: 0, outputUsd: 0.000002, totalUsd: 0.000003 }),
});

const record = {
  requestId: 'req_0123456789',
  route: 'chat.completions',
  status: 200,
  latencyMs: 12.3456,
  ttftMs: 4.2,
  overheadMs: 0.21,
  keyName: 'team-a',
  provider: 'openai',
  model: 'gpt-4o-mini',
  target: 'openai-mini',
  inputTokens: 9,
  outputTokens: 2,
  costUsd: 0.000003,
  cache: 'MISS',
};

function bench(name, fn) {
  for (let i = 0; i < 10_000; i += 1) fn(i);
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i += 1) fn(i);
  const nsPerOp = ((performance.now() - start) * 1e6) / ITERATIONS;
  console.log(`${name.padEnd(44)} ${nsPerOp.toFixed(0).padStart(7)} ns/op`);
}

console.log(`node ${process.version}, ${ITERATIONS} iterations each`);
bench('logRequest (one line, redaction on)', () => logRequest(logger, record));
bench('logRequest through pino (extra redact path)', () => logRequest(genericLogger, record));
bench('metrics.recordRequest', () =>
  metrics.recordRequest({
    route: 'chat.completions',
    provider: 'openai',
    model: 'gpt-4o-mini',
    status: 200,
    durationMs: 12,
  }),
);
bench('metrics.recordOverhead', () => metrics.recordOverhead({ route: 'chat.completions', overheadMs: 0.2 }));
bench('usage.record (tokens + cost metrics)', () =>
  usage.record({
    key: 'team-a',
    provider: 'openai',
    model: 'gpt-4o-mini',
    usage: { inputTokens: 9, outputTokens: 2 },
  }),
);
bench('tracing span start+end (no SDK, no-op)', () => {
  const span = tracing.startInferenceSpan({ operation: 'chat', provider: 'openai', model: 'gpt-4o-mini' });
  span.setResponse({ id: 'x', usage: { inputTokens: 9, outputTokens: 2 } });
  span.end();
});
