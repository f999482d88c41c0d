import { describe, expect, it } from 'vitest';
import { DEFAULT_OTLP_TRACES_ENDPOINT, parseConfig, parseDocument } from './config-loader';
import { maskConfig } from './config-mask';
import { defaultConfigDocument } from './default-config';
import { interpolateEnv } from './env-interpolation';
import { AgentError } from './errors';

const minimal = {
  providers: { sim: { type: 'simulator' } },
  targets: [{ id: 'a', provider: 'sim', model: 'gpt-4o-mini' }],
};

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    expect(AgentError.isInstance(error)).toBe(true);
    return [...(error as AgentError).issues];
  }
  throw new Error('expected a config error');
}

describe('env interpolation', () => {
  it('replaces ${VAR} and ${VAR:-default}, keeps $${ literal', () => {
    const out = interpolateEnv(
      { a: '${A}', b: '${B:-fallback}', c: 'x-${A}-y', d: 'cost $${X}', e: 5, f: ['${A}'] },
      { A: 'one' },
    );
    expect(out).toEqual({ a: 'one', b: 'fallback', c: 'x-one-y', d: 'cost ${X}', e: 5, f: ['one'] });
  });

  it('drops a whole-value reference to an unset variable and rejects an embedded one by path', () => {
    expect(interpolateEnv({ a: '${NOPE}', b: 1 }, {})).toEqual({ b: 1 });
    const issues = issuesOf(() => interpolateEnv({ p: { q: ['ok', 'Bearer ${NOPE}'] } }, {}));
    expect(issues).toEqual([{ path: 'p.q[1]', message: 'environment variable NOPE is not set' }]);
  });
});

describe('parseConfig', () => {
  it('fills defaults: host 127.0.0.1, PORT from the environment, 8080 without it', () => {
    expect(parseConfig(minimal, {}).config.server).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(parseConfig(minimal, { PORT: '9123' }).config.server.port).toBe(9123);
    const cfg = parseConfig(minimal, {}).config;
    expect(cfg.cache).toMatchObject({
      enabled: true,
      ttlSeconds: 3600,
      routes: ['chat', 'messages', 'embeddings'],
    });
    expect(cfg.security.pii.mode).toBe('redact');
    expect(cfg.redis.url).toBeUndefined();
  });

  it('coerces interpolated numbers and booleans', () => {
    const { config } = parseConfig(
      { ...minimal, server: { port: '${P}' }, cache: { enabled: '${C:-false}' } },
      { P: '7001' },
    );
    expect(config.server.port).toBe(7001);
    expect(config.cache.enabled).toBe(false);
  });

  it('names every bad field by its path', () => {
    const issues = issuesOf(() =>
      parseConfig(
        {
          server: { port: 70_000, colour: 'blue' },
          providers: { oa: { type: 'openai' }, x: { type: 'nope' } },
          targets: [
            { id: 't', provider: 'missing', model: 'm' },
            { id: 't', provider: 'oa', model: '' },
          ],
          aliases: [{ name: 'fast', targets: ['t', 'ghost'], strategy: 'random' }],
        },
        {},
      ),
    );
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('server.port');
    expect(paths).toContain('server.colour');
    expect(paths).toContain('providers.x.type');
    expect(paths).toContain('targets[1].model');
    expect(paths).toContain('aliases[0].strategy');
  });

  it('checks references between providers, targets and aliases', () => {
    const issues = issuesOf(() =>
      parseConfig(
        {
          providers: { oa: { type: 'openai' } },
          targets: [
            { id: 't', provider: 'missing', model: 'm' },
            { id: 't', provider: 'oa', model: 'm' },
          ],
          aliases: [{ name: 'fast', targets: ['t', 'ghost'] }],
        },
        {},
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'targets[0].provider' }),
        expect.objectContaining({ path: 'targets[1].id', message: 'duplicate target id "t"' }),
        expect.objectContaining({ path: 'aliases[0].targets[1]', message: 'unknown target "ghost"' }),
        expect.objectContaining({ path: 'providers.oa.apiKey' }),
      ]),
    );
  });

  it('drops an optional provider without a key, with its targets and emptied aliases', () => {
    const doc = {
      providers: {
        sim: { type: 'simulator' },
        anthropic: { type: 'anthropic', apiKey: '${ANTHROPIC_API_KEY}', optional: true },
      },
      targets: [
        { id: 'a', provider: 'sim', model: 'gpt-4o-mini' },
        { id: 'b', provider: 'anthropic', model: 'claude-sonnet-4-5' },
      ],
      aliases: [
        { name: 'both', targets: ['b', 'a'] },
        { name: 'claude', targets: ['b'] },
      ],
    };
    const { config, notices } = parseConfig(doc, {});
    expect(Object.keys(config.providers)).toEqual(['sim']);
    expect(config.targets.map((t) => t.id)).toEqual(['a']);
    expect(config.aliases).toEqual([expect.objectContaining({ name: 'both', targets: ['a'] })]);
    expect(notices).toHaveLength(2);
    const withKey = parseConfig(doc, { ANTHROPIC_API_KEY: 'sk-ant-123456789' }).config;
    expect(withKey.targets).toHaveLength(2);
  });

  it('requires exactly one of hash or key on a gateway key', () => {
    const missing = issuesOf(() =>
      parseConfig({ ...minimal, security: { keys: [{ name: 'k', key: '${UNSET}' }] } }, {}),
    );
    expect(missing).toEqual([expect.objectContaining({ path: 'security.keys[0].key' })]);
    const both = issuesOf(() =>
      parseConfig({ ...minimal, security: { keys: [{ name: 'k', key: 'abc', hash: 'sha256:00' }] } }, {}),
    );
    expect(both).toEqual([{ path: 'security.keys[0].hash', message: 'set only one of `hash` or `key`' }]);
  });

  it('partitions the cache by key unless told to share it', () => {
    expect(parseConfig(minimal, {}).config.cache.partition).toBe('key');
    expect(parseConfig({ ...minimal, cache: { partition: 'shared' } }, {}).config.cache.partition).toBe(
      'shared',
    );
    expect(issuesOf(() => parseConfig({ ...minimal, cache: { partition: 'tenant' } }, {}))).toEqual([
      expect.objectContaining({ path: 'cache.partition' }),
    ]);
  });

  it('exports no spans by default; an OTLP exporter takes its endpoint from the config or the environment', () => {
    expect(parseConfig(minimal, {}).config.telemetry.tracing).toEqual({
      exporter: 'none',
      headers: {},
      serviceName: 'llm-edge',
      sampleRatio: 1,
    });
    const otlp = { ...minimal, telemetry: { tracing: { exporter: 'otlp' } } };
    expect(parseConfig(otlp, {}).config.telemetry.tracing.endpoint).toBe(DEFAULT_OTLP_TRACES_ENDPOINT);
    expect(
      parseConfig(otlp, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).config.telemetry.tracing
        .endpoint,
    ).toBe('http://collector:4318/v1/traces');
    expect(
      parseConfig(otlp, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom',
      }).config.telemetry.tracing.endpoint,
    ).toBe('http://traces:4318/custom');
    const configured = {
      ...minimal,
      telemetry: { tracing: { exporter: 'otlp', endpoint: 'http://127.0.0.1:9/v1/traces' } },
    };
    expect(
      parseConfig(configured, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).config.telemetry
        .tracing.endpoint,
    ).toBe('http://127.0.0.1:9/v1/traces');
    expect(issuesOf(() => parseConfig(otlp, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }))).toEqual([
      expect.objectContaining({ path: 'telemetry.tracing.endpoint' }),
    ]);
    expect(
      issuesOf(() => parseConfig({ ...minimal, telemetry: { tracing: { sampleRatio: 2 } } }, {})),
    ).toEqual([expect.objectContaining({ path: 'telemetry.tracing.sampleRatio' })]);
  });

  it('the built-in config is L1 only, even with REDIS_URL set', () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:6379' };
    const { config } = parseConfig(defaultConfigDocument(env), env, 'default');
    expect(config.redis.url).toBeUndefined();
    expect(config.cache.enabled).toBe(true);
  });

  it('reports YAML syntax errors with the file name', () => {
    expect(() => parseDocument('a: [1, 2', 'bad.yaml')).toThrow(/bad\.yaml/);
    expect(parseDocument('{"a": 1}', 'x.json')).toEqual({ a: 1 });
  });
});

describe('maskConfig', () => {
  it('masks provider keys, gateway keys, auth headers and URL passwords, not TLS paths', () => {
    const { config } = parseConfig(
      {
        providers: {
          oa: {
            type: 'openai',
            apiKey: 'sk-proj-abcdefghijklmnopqrstuvwxyz',
            headers: { Authorization: 'Bearer secret-value-123', 'x-trace': 'keep' },
          },
        },
        targets: [{ id: 'a', provider: 'oa', model: 'gpt-4o-mini' }],
        server: { tls: { cert: '/etc/tls/cert.pem', key: '/etc/tls/key.pem' } },
        redis: { url: 'redis://user:hunter2-password@redis.local:6379' },
        security: { keys: [{ name: 'app', key: 'gw-very-secret-key-value' }] },
        telemetry: { tracing: { headers: { 'x-honeycomb-team': 'collector-secret-value' } } },
      },
      {},
    );
    const text = JSON.stringify(maskConfig(config));
    expect(text).not.toContain('collector-secret-value');
    expect(text).not.toContain('abcdefghijklmnopqrstuvwxyz');
    expect(text).not.toContain('secret-value-123');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('gw-very-secret-key-value');
    expect(text).toContain('/etc/tls/key.pem');
    expect(text).toContain('keep');
  });
});
