import { describe, expect, it } from 'vitest';
import { generateApiKey } from './api-key-hash';
import { ApiKeyStore } from './api-key-store';
import { SecurityError } from './errors';
import { PiiScanner } from './pii-scanner';
import { RateLimiter } from './rate-limiter';
import { RequestValidator } from './request-validation';
import { SecurityGuard } from './security-guard';
import { SpendLedger } from './spend-ledger';

const team = generateApiKey({ randomBytes: () => new Uint8Array(32).fill(7) });
const other = generateApiKey({ randomBytes: () => new Uint8Array(32).fill(8) });

function guard(options: { keys?: boolean; pii?: PiiScanner } = {}) {
  return new SecurityGuard({
    ...(options.keys === false
      ? {}
      : {
          keys: new ApiKeyStore({
            keys: [
              { name: 'team', hash: team.hash, models: ['gpt-4o*'], rpm: 2, tpm: 5_000, budgetUsd: 0.01 },
              { name: 'other', hash: other.hash },
            ],
          }),
        }),
    limiter: new RateLimiter({ anonymous: { rpm: 1 } }),
    spend: new SpendLedger(),
    validator: new RequestValidator({
      resolveModel: () => ({ contextWindow: 8_000, maxOutputTokens: 1_000 }),
    }),
    ...(options.pii ? { pii: options.pii } : {}),
  });
}

const body = (content: string, model = 'gpt-4o-mini') => ({
  model,
  messages: [{ role: 'user', content }],
  max_tokens: 100,
});
const auth = { authorization: `Bearer ${team.key}` };

async function failure(promise: Promise<unknown>): Promise<SecurityError> {
  try {
    await promise;
  } catch (error) {
    if (SecurityError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a SecurityError');
}

describe('SecurityGuard: token estimate only when needed', () => {
  it('does not tokenize the prompt for a key without a tokens limit or a known context window', async () => {
    let counted = 0;
    const countTokens = (text: string) => {
      counted++;
      return text.length;
    };
    const g = new SecurityGuard({
      keys: new ApiKeyStore({
        keys: [
          { name: 'team', hash: team.hash, rpm: 10 },
          { name: 'other', hash: other.hash, tpm: 10_000 },
        ],
      }),
      validator: new RequestValidator({ resolveModel: () => undefined, countTokens }),
    });
    const free = await g.admitChat({ headers: auth, body: body('hello there') });
    expect(counted).toBe(0);
    expect(free.estimatedTokens).toBe(0);
    // Reading the estimate still gives it.
    expect(free.tokens.promptTokens).toBeGreaterThan(0);
    expect(counted).toBe(1);
    const limited = await g.admitChat({
      headers: { authorization: `Bearer ${other.key}` },
      body: body('hello there'),
    });
    expect(counted).toBe(2);
    expect(limited.estimatedTokens).toBe(limited.tokens.totalTokens);
    expect(counted).toBe(2);
  });
});

describe('SecurityGuard', () => {
  it('admits a request: key, redacted request, reservation and headers', async () => {
    const g = guard();
    const admission = await g.admitChat({ headers: auth, body: body('mail bob@example.com') });
    expect(admission.key?.name).toBe('team');
    expect(admission.request.messages[0]).toEqual({ role: 'user', content: 'mail [REDACTED_EMAIL]' });
    expect(admission.pii).toEqual({ total: 1, counts: { email: 1 } });
    expect(admission.estimatedTokens).toBe(admission.tokens.totalTokens);
    expect(admission.headers['x-ratelimit-remaining-requests']).toBe('1');
    expect(Number(admission.headers['x-ratelimit-remaining-tokens'])).toBe(5_000 - admission.estimatedTokens);
  });

  it('runs the stages in order: 401, then 400, then 403, then PII, then 429', async () => {
    const g = guard({ pii: new PiiScanner({ mode: 'block' }) });
    expect((await failure(g.admitChat({ headers: {}, body: { nonsense: true } }))).status).toBe(401);
    expect((await failure(g.admitChat({ headers: auth, body: { model: 'gpt-4o' } }))).code).toBe(
      'LLM_EDGE_INVALID_REQUEST',
    );
    expect((await failure(g.admitChat({ headers: auth, body: body('hi', 'claude-haiku-4-5') }))).status).toBe(
      403,
    );
    const blocked = await failure(g.admitChat({ headers: auth, body: body('ssn 123-45-6789') }));
    expect(blocked.code).toBe('LLM_EDGE_PII_BLOCKED');
    expect(blocked.message).not.toContain('6789');
    // None of the refusals above used the key's request allowance.
    await g.admitChat({ headers: auth, body: body('one') });
    await g.admitChat({ headers: auth, body: body('two') });
    const limited = await failure(g.admitChat({ headers: auth, body: body('three') }));
    expect(limited).toMatchObject({ status: 429, code: 'LLM_EDGE_RATE_LIMITED' });
  });

  it('a per-route PII mode overrides the scanner default', async () => {
    const g = guard();
    const detected = await g.admitChat({ headers: auth, body: body('ip 10.1.2.3'), piiMode: 'detect' });
    expect(detected.request.messages[0]).toEqual({ role: 'user', content: 'ip 10.1.2.3' });
    expect(detected.pii.counts).toEqual({ ip_address: 1 });
  });

  it('settles: reconciles tokens with usage and enforces the spend budget', async () => {
    const g = guard();
    const admission = await g.admitChat({ headers: auth, body: body('hello') });
    const settled = await g.settle(admission, {
      usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
      costUsd: 0.011,
    });
    expect(settled.tokens?.remaining).toBe(5_000 - 30);
    expect(settled.spend).toMatchObject({ spentUsd: 0.011, budgetUsd: 0.01, remainingUsd: 0 });
    const broke = await failure(g.admitChat({ headers: auth, body: body('again') }));
    expect(broke).toMatchObject({
      status: 429,
      code: 'LLM_EDGE_BUDGET_EXCEEDED',
      type: 'insufficient_quota',
    });
    // Keys without a budget are not affected.
    await expect(
      g.admitChat({ headers: { 'x-api-key': other.key }, body: body('hi') }),
    ).resolves.toBeDefined();
  });

  it('without a key store limits callers by IP', async () => {
    const g = guard({ keys: false });
    const admission = await g.admitChat({ headers: {}, clientIp: '198.51.100.4', body: body('hi') });
    expect(admission.key).toBeUndefined();
    expect(admission.subject.id).toBe('ip:198.51.100.4');
    expect(
      (await failure(g.admitChat({ headers: {}, clientIp: '198.51.100.4', body: body('hi') }))).status,
    ).toBe(429);
    await expect(
      g.admitChat({ headers: {}, clientIp: '198.51.100.5', body: body('hi') }),
    ).resolves.toBeDefined();
  });

  it('admits embeddings with PII redaction', async () => {
    const g = guard();
    const admission = await g.admitEmbeddings({
      headers: auth,
      body: { model: 'gpt-4o-embed', input: 'call +1 415 555 2671' },
    });
    expect(admission.request.input).toBe('call [REDACTED_PHONE]');
    expect(admission.estimatedTokens).toBeGreaterThan(0);
    const settled = await g.settle(admission, { tokens: 0 });
    expect(settled.tokens?.remaining).toBe(5_000);
  });
});
