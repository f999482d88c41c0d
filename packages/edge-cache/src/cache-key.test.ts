import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { canonicalJson, createCacheKey, createKeyGenerator, DEFAULT_CACHE_KEY_OPTIONS } from './cache-key';
import { InvalidCacheOptionError, InvalidKeyInputError } from './errors';

const request = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Name three primes.' },
  ],
  temperature: 0.7,
  top_p: 1,
  max_tokens: 64,
  tools: [
    { type: 'function', function: { name: 'lookup', parameters: { type: 'object', minimum: 0.123456 } } },
  ],
};

describe('createCacheKey', () => {
  it('is a SHA-256 hex digest, prefixed by the namespace when there is one', () => {
    expect(createCacheKey(request)).toMatch(/^[0-9a-f]{64}$/);
    expect(createCacheKey(request, { namespace: 'tenant-a' })).toMatch(/^tenant-a:[0-9a-f]{64}$/);
  });

  it('ignores object key order at every depth', () => {
    const reordered = {
      tools: [
        { function: { parameters: { minimum: 0.123456, type: 'object' }, name: 'lookup' }, type: 'function' },
      ],
      max_tokens: 64,
      top_p: 1,
      temperature: 0.7,
      messages: [
        { content: 'You are terse.', role: 'system' },
        { content: 'Name three primes.', role: 'user' },
      ],
      model: 'gpt-4o-mini',
    };
    expect(createCacheKey(reordered)).toBe(createCacheKey(request));
  });

  it('keeps array order significant', () => {
    const swapped = { ...request, messages: [...request.messages].reverse() };
    expect(createCacheKey(swapped)).not.toBe(createCacheKey(request));
  });

  it('leaves the excluded fields out of the key', () => {
    const delivered = {
      ...request,
      stream: true,
      stream_options: { include_usage: true },
      user: 'end-user-17',
      safety_identifier: 'hash-17',
      prompt_cache_key: 'pc-1',
      metadata: { trace: 'x' },
      store: true,
      service_tier: 'flex',
    };
    expect(createCacheKey(delivered)).toBe(createCacheKey(request));
    expect(canonicalJson(delivered)).toBe(canonicalJson(request));
  });

  it('keys every other field, so a change of model, sampling, tools or output limits splits the cache', () => {
    const base = createCacheKey(request);
    const variants: Record<string, unknown>[] = [
      { ...request, model: 'gpt-4o' },
      { ...request, temperature: 0.71 },
      { ...request, max_tokens: 65 },
      { ...request, seed: 1 },
      { ...request, n: 2 },
      { ...request, response_format: { type: 'json_object' } },
      { ...request, tools: [] },
      { ...request, tool_choice: 'none' },
      { ...request, messages: [{ role: 'user', content: 'Name three primes!' }] },
    ];
    const keys = new Set(variants.map((variant) => createCacheKey(variant)));
    expect(keys.size).toBe(variants.length);
    expect(keys.has(base)).toBe(false);
  });

  it('rounds the configured top-level floats and nothing nested', () => {
    expect(createCacheKey({ ...request, temperature: 0.70000001 })).toBe(createCacheKey(request));
    expect(createCacheKey({ ...request, temperature: 0.7, top_p: 0.999 })).toBe(
      createCacheKey({ ...request, top_p: 1.0 }),
    );
    expect(canonicalJson({ temperature: -0.001 })).toBe('{"temperature":0}');
    // A number inside a tool schema is part of the contract with the model: never rounded.
    const schemaChanged = {
      ...request,
      tools: [
        { type: 'function', function: { name: 'lookup', parameters: { type: 'object', minimum: 0.1234 } } },
      ],
    };
    expect(createCacheKey(schemaChanged)).not.toBe(createCacheKey(request));
  });

  it('treats undefined fields as absent, like JSON', () => {
    expect(createCacheKey({ ...request, seed: undefined })).toBe(createCacheKey(request));
  });

  it('separates namespaces', () => {
    const keyOf = createKeyGenerator({ namespace: 'tenant-a' });
    expect(keyOf(request)).not.toBe(keyOf(request, { namespace: 'tenant-b' }));
    expect(keyOf(request).slice('tenant-a:'.length)).toBe(createCacheKey(request));
  });

  it('checks every namespace it has not seen, however many it has', () => {
    const keyOf = createKeyGenerator();
    for (let i = 0; i < 2_000; i++) {
      expect(keyOf(request, { namespace: `t${i}` })).toBe(`t${i}:${createCacheKey(request)}`);
    }
    expect(keyOf(request, { namespace: 't1999' })).toBe(`t1999:${createCacheKey(request)}`);
    expect(() => keyOf(request, { namespace: 'x y' })).toThrow(InvalidCacheOptionError);
    expect(() => keyOf(request, { namespace: 'x y' })).toThrow(InvalidCacheOptionError);
    expect(() => keyOf(request, { namespace: 5 as unknown as string })).toThrow(InvalidCacheOptionError);
  });

  it('follows the given exclusions and precisions instead of the defaults', () => {
    const keyOf = createKeyGenerator({ exclude: ['requestId'], precision: { score: 1 } });
    expect(keyOf({ q: 'a', requestId: 1, score: 0.44 })).toBe(keyOf({ q: 'a', requestId: 2, score: 0.4 }));
    expect(keyOf({ q: 'a', stream: true })).not.toBe(keyOf({ q: 'a' }));
    expect(DEFAULT_CACHE_KEY_OPTIONS.exclude).toContain('stream');
  });

  it('hashes a golden request to a fixed key, so keys stay stable across releases', () => {
    expect(canonicalJson({ temperature: 0.5, model: 'm', messages: [{ role: 'user', content: 'hi' }] })).toBe(
      '{"messages":[{"content":"hi","role":"user"}],"model":"m","temperature":0.5}',
    );
    expect(
      createCacheKey({ temperature: 0.5, model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    ).toBe('47d5db1e94e1a9736796936689da7ab1fc4c3c3e7eeb654807cda1bb08a3a685');
  });

  it('keys a top-level `__proto__` field like any other instead of dropping it', () => {
    // JSON.parse makes `__proto__` an own field; copied into an ordinary object it became the
    // copy's prototype and left the key, so these two requests shared an entry.
    const withProto = JSON.parse('{"__proto__":{"x":1},"a":1}');
    expect(canonicalJson(withProto)).toBe('{"__proto__":{"x":1},"a":1}');
    expect(createCacheKey(withProto)).not.toBe(createCacheKey({ a: 1 }));
  });

  it('orders numeric-looking keys as strings, as every release has', () => {
    expect(canonicalJson({ logit_bias: { '9': 1, '10': 2, x: 0 } })).toBe(
      '{"logit_bias":{"10":2,"9":1,"x":0}}',
    );
  });

  it('refuses values without a canonical JSON form instead of letting them collide', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const value of [
      undefined,
      { x: Number.NaN },
      { x: Number.POSITIVE_INFINITY },
      { x: 1n },
      cyclic,
      () => 1,
    ]) {
      expect(() => createCacheKey(value)).toThrow(InvalidKeyInputError);
    }
    try {
      createCacheKey({ x: Number.NaN });
    } catch (error) {
      expect(InvalidKeyInputError.isInstance(error)).toBe(true);
      expect((error as InvalidKeyInputError).code).toBe('LLM_EDGE_CACHE_INVALID_KEY_INPUT');
    }
  });

  it('validates its options once, naming the bad field', () => {
    const bad = (options: unknown, field: string) => {
      try {
        createKeyGenerator(options as never);
        expect.unreachable('should have thrown');
      } catch (error) {
        expect(InvalidCacheOptionError.isInstance(error)).toBe(true);
        expect((error as InvalidCacheOptionError).field).toBe(field);
      }
    };
    bad({ namespace: '' }, 'namespace');
    bad({ namespace: 'has space' }, 'namespace');
    bad({ namespace: 'glob*' }, 'namespace');
    bad({ exclude: 'stream' }, 'exclude');
    bad({ precision: { temperature: -1 } }, 'precision.temperature');
    bad({ precision: { temperature: 1.5 } }, 'precision.temperature');
    expect(() => createKeyGenerator()(request, { namespace: 'x y' })).toThrow(InvalidCacheOptionError);
  });
});

describe('key stability across processes', () => {
  const cacheKeyModule = fileURLToPath(new URL('./cache-key.ts', import.meta.url));
  // Node strips the TypeScript types itself; the hook adds the `.ts` our extensionless imports omit.
  const childScript = `
    import { registerHooks } from 'node:module';
    registerHooks({
      resolve(specifier, context, next) {
        try { return next(specifier, context); }
        catch (error) { if (specifier.startsWith('.')) return next(specifier + '.ts', context); throw error; }
      },
    });
    const { createCacheKey } = await import(${JSON.stringify(cacheKeyModule)});
    const inputs = JSON.parse(process.argv[1]);
    process.stdout.write(JSON.stringify(inputs.map((input) => createCacheKey(input, { namespace: 'tenant-a' }))));
  `;

  it('gives the same key in a separate Node process, whatever the field order', async () => {
    const reversed = (value: Record<string, unknown>) => Object.fromEntries(Object.entries(value).reverse());
    const inputs = [
      request,
      reversed(request),
      { ...reversed(request), stream: true, temperature: 0.700001 },
    ];
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '--no-warnings', '-e', childScript, JSON.stringify(inputs)],
      { env: { ...process.env, LC_ALL: 'tr_TR.UTF-8', TZ: 'Pacific/Chatham' } },
    );
    const childKeys = JSON.parse(stdout) as string[];
    const parentKey = createCacheKey(request, { namespace: 'tenant-a' });
    expect(childKeys).toEqual([parentKey, parentKey, parentKey]);
  });
});
