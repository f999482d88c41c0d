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
