// Measures what the retry layer adds to a call. Run after `pnpm build`: `pnpm bench`.
import {
  constantBackoff,
  createSeededRandom,
  decorrelatedJitterBackoff,
  exponentialJitterBackoff,
  isRetryableError,
  RetryBudget,
  RetryPolicy,
} from '../dist/index.js';

async function measure(name, iterations, body) {
  for (let i = 0; i < Math.min(iterations, 5000); i++) await body(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await body(i);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const perOp = elapsedNs / iterations;
  return { name, iterations, 'ns/op': Math.round(perOp), 'ops/s': Math.round(1e9 / perOp) };
}

const ok = async () => 1;
const policy = new RetryPolicy({ backoff: constantBackoff({ baseDelayMs: 0 }) });
const budgeted = new RetryPolicy({
  backoff: constantBackoff({ baseDelayMs: 0 }),
  budget: new RetryBudget({ ratio: 1 }),
});
const overloaded = Object.assign(new Error('HTTP 503'), { status: 503 });
const fetchFailed = new TypeError('fetch failed', {
  cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
});
const budget = new RetryBudget();
const random = createSeededRandom(1);
const jitter = exponentialJitterBackoff();
const decorrelated = decorrelatedJitterBackoff();

const rows = [
  await measure('bare await fn() (baseline)', 200_000, ok),
  await measure('policy.execute(fn), succeeds first time', 200_000, () => policy.execute(ok)),
  await measure('policy.execute(fn) with a shared RetryBudget', 200_000, () => budgeted.execute(ok)),
  await measure('policy.execute(fn), one 503 then success (0 ms delay)', 50_000, () => {
    let calls = 0;
    return policy.execute(async () => {
      calls += 1;
      if (calls === 1) throw overloaded;
      return calls;
    });
  }),
  await measure('isRetryableError({ status: 503 })', 1_000_000, () => isRetryableError(overloaded)),
  await measure("isRetryableError(TypeError 'fetch failed' + cause)", 1_000_000, () =>
    isRetryableError(fetchFailed),
  ),
  await measure('RetryBudget recordRequest() + tryRetry()', 1_000_000, () => {
    budget.recordRequest();
    budget.tryRetry();
  }),
  await measure('exponentialJitterBackoff().delay()', 1_000_000, (i) =>
    jitter.delay((i % 10) + 1, random, 0),
  ),
  await measure('decorrelatedJitterBackoff().delay()', 1_000_000, (i) =>
    decorrelated.delay((i % 10) + 1, random, 400),
  ),
];

console.log(`@llm-edge/retry bench — Node ${process.version}, ${process.platform}/${process.arch}`);
console.table(rows);
