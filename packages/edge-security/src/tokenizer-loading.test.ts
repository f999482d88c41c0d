import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ChatRequest } from '@llm-edge/providers';
import { describe, expect, it } from 'vitest';
import { TEST_DIST } from '../test/global-setup';
import { estimateChatTokens, estimateEmbeddingsTokens } from './token-estimate';

// A fresh Node process per build format: the package is loaded from the build of the current
// sources, and a module hook records every gpt-tokenizer module that Node resolves, through
// `import` or `require` alike.
const childScript = `
  import { createRequire, registerHooks } from 'node:module';
  import { pathToFileURL } from 'node:url';
  const [entry, format, requestJson] = process.argv.slice(1);
  const tokenizerModules = [];
  registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      if (resolved.url.includes('/gpt-tokenizer/')) tokenizerModules.push(resolved.url);
      return resolved;
    },
  });
  const security =
    format === 'cjs' ? createRequire(import.meta.url)(entry) : await import(pathToFileURL(entry).href);
  const atImport = [...tokenizerModules];
  const estimate = security.estimateChatTokens(JSON.parse(requestJson));
  const embeddings = security.estimateEmbeddingsTokens({ model: 'text-embedding-3-small', input: 'a second count' });
  process.stdout.write(JSON.stringify({ atImport, afterEstimate: tokenizerModules, estimate, embeddings }));
`;

interface ChildReport {
  atImport: string[];
  afterEstimate: string[];
  estimate: unknown;
  embeddings: number;
}

async function loadInChild(format: 'esm' | 'cjs', request: ChatRequest): Promise<ChildReport> {
  const entry = join(TEST_DIST, format === 'cjs' ? 'index.cjs' : 'index.js');
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '--no-warnings',
    '-e',
    childScript,
    entry,
    format,
    JSON.stringify(request),
  ]);
  return JSON.parse(stdout) as ChildReport;
}

const request: ChatRequest = {
  model: 'gpt-4o-mini',
  max_tokens: 64,
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Count the tokens of this sentence, <|endoftext|> included.' },
  ],
};

describe('tokenizer loading', () => {
  for (const format of ['esm', 'cjs'] as const) {
    it(`${format} build: importing the package does not load gpt-tokenizer; the first estimate does`, async () => {
      const report = await loadInChild(format, request);
      expect(report.atImport).toEqual([]);
      expect(report.afterEstimate.some((url) => url.includes('o200k_base'))).toBe(true);
      expect(report.estimate).toEqual(estimateChatTokens(request));
      expect(report.embeddings).toBe(
        estimateEmbeddingsTokens({ model: 'text-embedding-3-small', input: 'a second count' }),
      );
    });
  }
});

// Validation checks the context window; a request that fits even counting one token per UTF-8
// byte is checked without the tokenizer, and only one near its window pays for an exact count.
const validateScript = `
  import { registerHooks } from 'node:module';
  import { pathToFileURL } from 'node:url';
  const [entry, requestJson] = process.argv.slice(1);
  const tokenizerModules = [];
  registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      if (resolved.url.includes('/gpt-tokenizer/')) tokenizerModules.push(resolved.url);
      return resolved;
    },
  });
  const { RequestValidator } = await import(pathToFileURL(entry).href);
  const validator = new RequestValidator();
  const request = JSON.parse(requestJson);
  validator.validateChat(request);
  const afterRoomyWindow = tokenizerModules.length;
  // 'hello ' is one token but six bytes: near this window only the exact count can admit it.
  const tight = { ...request, messages: [{ role: 'user', content: 'hello '.repeat(40) }] };
  let admitted = true;
  try {
    validator.validateChat(tight, { model: { contextWindow: 40 + 64 + 12 } });
  } catch {
    admitted = false;
  }
  process.stdout.write(JSON.stringify({ afterRoomyWindow, afterTightWindow: tokenizerModules.length, admitted }));
`;

describe('context-window check', () => {
  it('does not tokenize a request that fits by bytes; counts exactly one near its window', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '--no-warnings',
      '-e',
      validateScript,
      join(TEST_DIST, 'index.js'),
      JSON.stringify(request),
    ]);
    const report = JSON.parse(stdout) as {
      afterRoomyWindow: number;
      afterTightWindow: number;
      admitted: boolean;
    };
    expect(report.afterRoomyWindow).toBe(0);
    expect(report.afterTightWindow).toBeGreaterThan(0);
    expect(report.admitted).toBe(true);
  });
});
