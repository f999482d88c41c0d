import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { generateApiKey, hashApiKey, parseApiKeyHash, verifyApiKey } from './api-key-hash';
import { ApiKeyStore, extractApiKey } from './api-key-store';
import { AuthenticationError, PermissionError, SecurityError, SecurityOptionsError } from './errors';

// Wrap timingSafeEqual so the tests can prove every comparison goes through it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

const seeded = (byte: number) => () => new Uint8Array(32).fill(byte);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('hashing', () => {
  beforeEach(() => {
    timingSafeEqual.mockClear();
  });

  it('hashes with SHA-256, or HMAC-SHA-256 with a secret', () => {
    const sha = hashApiKey('sk-edge-test');
    expect(sha).toBe(`sha256:${crypto.createHash('sha256').update('sk-edge-test').digest('hex')}`);
    const hmac = hashApiKey('sk-edge-test', { secret: 'pepper' });
    expect(hmac).toBe(
      `hmac-sha256:${crypto.createHmac('sha256', 'pepper').update('sk-edge-test').digest('hex')}`,
    );
    expect(parseApiKeyHash(hmac)?.algorithm).toBe('hmac-sha256');
    expect(parseApiKeyHash('md5:abc')).toBeUndefined();
  });

  it('verifies through crypto.timingSafeEqual on 32-byte digests', () => {
    const hash = hashApiKey('right');
    expect(verifyApiKey('right', hash)).toBe(true);
    expect(verifyApiKey('wrong', hash)).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
    for (const [a, b] of timingSafeEqual.mock.calls) {
      expect((a as Uint8Array).length).toBe(32);
      expect((b as Uint8Array).length).toBe(32);
    }
  });

  it('treats malformed stored hashes and missing secrets as non-matching, without throwing', () => {
    expect(verifyApiKey('right', 'sha256:abcd')).toBe(false);
    expect(verifyApiKey('right', 'plain-text-key')).toBe(false);
    expect(verifyApiKey('right', hashApiKey('right', { secret: 's' }))).toBe(false);
    expect(verifyApiKey('right', hashApiKey('right', { secret: 's' }), { secret: 's' })).toBe(true);
    expect(verifyApiKey('right', hashApiKey('right', { secret: 's' }), { secret: 't' })).toBe(false);
  });

  it('generates prefixed 256-bit keys whose hash verifies', () => {
    const a = generateApiKey({ randomBytes: seeded(1) });
    expect(a.key).toBe(`sk-edge-${Buffer.alloc(32, 1).toString('base64url')}`);
    expect(verifyApiKey(a.key, a.hash)).toBe(true);
    const b = generateApiKey({ prefix: 'llm_', secret: 'pepper' });
    expect(b.key.startsWith('llm_')).toBe(true);
    expect(b.key.length).toBe(4 + 43);
    expect(b.hash.startsWith('hmac-sha256:')).toBe(true);
    expect(verifyApiKey(b.key, b.hash, { secret: 'pepper' })).toBe(true);
    expect(generateApiKey().key).not.toBe(generateApiKey().key);
    expect(() => generateApiKey({ randomBytes: () => new Uint8Array(8) })).toThrow(SecurityOptionsError);
  });
});

describe('extractApiKey', () => {
  it('reads Authorization Bearer, x-api-key and x-goog-api-key, in that order', () => {
    expect(extractApiKey({ authorization: 'Bearer k1', 'x-api-key': 'k2' })).toEqual({
      key: 'k1',
      source: 'authorization',
    });
    expect(extractApiKey({ authorization: 'bearer   k1 ' })).toEqual({ key: 'k1', source: 'authorization' });
    expect(extractApiKey({ 'x-api-key': 'k2', 'x-goog-api-key': 'k3' })).toEqual({
      key: 'k2',
      source: 'x-api-key',
    });
    expect(extractApiKey({ 'x-goog-api-key': 'k3' })).toEqual({ key: 'k3', source: 'x-goog-api-key' });
    expect(extractApiKey(new Headers({ 'X-Api-Key': 'k4' }))).toEqual({ key: 'k4', source: 'x-api-key' });
    expect(extractApiKey({ authorization: ['Bearer k5'] })).toEqual({ key: 'k5', source: 'authorization' });
    expect(extractApiKey({})).toBeUndefined();
    expect(extractApiKey({ 'x-api-key': '  ' })).toBeUndefined();
  });

  it.each([
    [{ authorization: 'Basic dXNlcjpwYXNz' }],
    [{ authorization: 'Bearer a b' }],
    [{ authorization: ['Bearer a', 'Bearer b'] }],
    [{ 'x-api-key': 'key\r\nx-injected: 1' }],
    [{ 'x-api-key': 'ключ' }],
    [{ 'x-api-key': 'k'.repeat(513) }],
  ])('refuses malformed credentials %j with 401', (headers) => {
    const error = thrown(() => extractApiKey(headers));
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as AuthenticationError).code).toBe('LLM_EDGE_INVALID_API_KEY');
  });
});

describe('ApiKeyStore', () => {
  const alpha = generateApiKey({ randomBytes: seeded(2) });
  const beta = generateApiKey({ randomBytes: seeded(3), secret: 'pepper' });
  const off = generateApiKey({ randomBytes: seeded(4) });
  const store = new ApiKeyStore({
    secret: 'pepper',
    defaults: { rpm: 30 },
    keys: [
      { name: 'alpha', hash: alpha.hash, models: ['gpt-4o-mini', 'claude-*', 'openai/gpt-?o'], tpm: 10_000 },
      { name: 'beta', hash: beta.hash, rpm: 5, budgetUsd: 2 },
      { name: 'off', hash: off.hash, disabled: true },
    ],
  });

  beforeEach(() => {
    timingSafeEqual.mockClear();
  });

  it('authenticates each SDK header style to the key record', () => {
    const a = store.authenticate({ authorization: `Bearer ${alpha.key}` });
    expect(a).toMatchObject({ id: 'key:alpha', name: 'alpha', rpm: 30, tpm: 10_000, disabled: false });
    expect(store.authenticate({ 'x-api-key': beta.key })).toMatchObject({
      name: 'beta',
      rpm: 5,
      budgetUsd: 2,
      budgetPeriod: 'month',
    });
    expect(store.authenticate(new Headers({ 'x-goog-api-key': alpha.key })).name).toBe('alpha');
    expect(timingSafeEqual).toHaveBeenCalled();
    expect(store.size).toBe(3);
    expect(JSON.stringify(store.list())).not.toContain(alpha.hash.slice(7));
  });

  it('answers 401 with stable codes and never echoes the key', () => {
    const missing = thrown(() => store.authenticate({}));
    expect(missing).toMatchObject({
      status: 401,
      code: 'LLM_EDGE_MISSING_API_KEY',
      type: 'authentication_error',
    });
    const wrongKey = `${alpha.key.slice(0, -1)}X`;
    const wrong = thrown(() => store.authenticate({ authorization: `Bearer ${wrongKey}` })) as SecurityError;
    expect(SecurityError.isInstance(wrong)).toBe(true);
    expect(wrong).toMatchObject({ status: 401, code: 'LLM_EDGE_INVALID_API_KEY' });
    expect(wrong.message).not.toContain(wrongKey);
    const disabled = thrown(() => store.authenticate({ 'x-api-key': off.key }));
    expect(disabled).toMatchObject({ status: 401, code: 'LLM_EDGE_API_KEY_DISABLED' });
    expect(store.verify(off.key)?.disabled).toBe(true);
  });

  it('an HMAC key does not verify as plain SHA-256 and vice versa', () => {
    const plainOfBeta = new ApiKeyStore({ keys: [{ name: 'x', hash: hashApiKey(beta.key) }] });
    expect(plainOfBeta.verify(beta.key)?.name).toBe('x');
    expect(store.verify(hashApiKey(beta.key))).toBeUndefined();
  });

  it('checks allowed models: exact names, globs, and all when unset', () => {
    const a = store.verify(alpha.key)!;
    const b = store.verify(beta.key)!;
    expect(store.isModelAllowed(a, 'gpt-4o-mini')).toBe(true);
    expect(store.isModelAllowed(a, 'claude-sonnet-4-5')).toBe(true);
    expect(store.isModelAllowed(a, 'openai/gpt-4o')).toBe(true);
    expect(store.isModelAllowed(a, 'openai/gpt-4.1')).toBe(false);
    expect(store.isModelAllowed(a, 'gpt-4o')).toBe(false);
    expect(store.isModelAllowed(a, 'xclaude-3')).toBe(false);
    expect(store.isModelAllowed(b, 'anything/at-all')).toBe(true);
    const denied = thrown(() => store.authorizeModel(a, 'gpt-4o'));
    expect(PermissionError.isInstance(denied)).toBe(true);
    expect(denied).toMatchObject({
      status: 403,
      code: 'LLM_EDGE_MODEL_NOT_ALLOWED',
      param: 'model',
      model: 'gpt-4o',
    });
  });

  it('refuses a record from another store', () => {
    const other = new ApiKeyStore({ keys: [{ name: 'alpha', hash: alpha.hash }] });
    expect(store.isModelAllowed(other.verify(alpha.key)!, 'gpt-4o-mini')).toBe(false);
  });

  it.each([
    [{ keys: [{ name: '', hash: alpha.hash }] }, 'keys[0].name'],
    [{ keys: [{ name: 'a', hash: 'sk-edge-plaintext' }] }, 'keys[0].hash'],
    [{ keys: [{ name: 'a', hash: beta.hash }] }, 'keys[0].hash'],
    [
      {
        keys: [
          { name: 'a', hash: alpha.hash },
          { name: 'a', hash: off.hash },
        ],
      },
      'keys[1].name',
    ],
    [
      {
        keys: [
          { name: 'a', hash: alpha.hash },
          { name: 'b', hash: alpha.hash },
        ],
      },
      'keys[1].hash',
    ],
    [{ keys: [{ name: 'a', hash: alpha.hash, rpm: 0 }] }, 'keys[0].rpm'],
    [{ keys: [{ name: 'a', hash: alpha.hash, tpm: 1.5 }] }, 'keys[0].tpm'],
    [{ keys: [{ name: 'a', hash: alpha.hash, budgetUsd: -1 }] }, 'keys[0].budgetUsd'],
    [{ keys: [{ name: 'a', hash: alpha.hash, budgetPeriod: 'week' as 'day' }] }, 'keys[0].budgetPeriod'],
    [{ keys: [{ name: 'a', hash: alpha.hash, models: ['ok', ''] }] }, 'keys[0].models[1]'],
    [{ defaults: { rpm: -5 } }, 'defaults.rpm'],
  ])('rejects bad configuration naming the field (%#)', (options, field) => {
    const error = thrown(() => new ApiKeyStore(options));
    expect(SecurityOptionsError.isInstance(error)).toBe(true);
    expect((error as SecurityOptionsError).field).toBe(field);
  });
});
