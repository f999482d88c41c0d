import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createAnthropicProvider, createOpenAIProvider } from '@llm-edge/providers';
import { startSimulator } from '@llm-edge/simulator';
import { afterEach, expect, it, vi } from 'vitest';
import { Router } from './index';

/*
 * The README's example, line for line, between the two markers below (only `@llm-edge/routing` is
 * imported from './index' here). The first test proves the copy is exact, so `pnpm typecheck`
 * checks the README's code under the strict base config and the second test runs it.
 */

const MARKERS = /\/\/ README example: begin\n([\s\S]*?)\n[ ]*\/\/ README example: end/;

afterEach(() => {
  vi.restoreAllMocks();
});

it('README: the example in the README is the code this file runs', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /```ts\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no ts code block');
  const self = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const lines = block.split('\n');
  const imports = lines.filter((line) => line.startsWith('import '));
  for (const line of imports) expect(self).toContain(line.replace("'@llm-edge/routing'", "'./index'"));
  const region = MARKERS.exec(self)?.[1];
  if (region === undefined) throw new Error('the README example markers are missing');
  const body = region
    .split('\n')
    .map((line) => line.replace(/^ {2}/, ''))
    .join('\n');
  expect(body).toBe(lines.slice(imports.length).join('\n').trim());
});

it('README: call OpenAI, fall back to Anthropic', async () => {
  const logged: unknown[][] = [];
  const written: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logged.push(args);
  });
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });

  // README example: begin
  const sim = await startSimulator({
    scenario: {
      faults: [{ kind: 'unavailable', match: { provider: 'openai' }, count: 1, retryAfterSeconds: 30 }],
    },
  });
  const openai = createOpenAIProvider({ apiKey: 'sk-test', baseURL: `${sim.url}/v1` });
  const anthropic = createAnthropicProvider({ apiKey: 'sk-ant-test', baseURL: sim.url });

  const router = new Router({
    providers: { openai, anthropic },
    targets: [
      { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' },
      { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', priority: 1 },
    ],
    aliases: [{ name: 'fast', targets: ['gpt', 'claude'] }],
  });
  router.on('attempt', (e) => console.log(`${e.target.id}: ${e.outcome} ${e.failoverReason ?? ''}`));

  const messages = [{ role: 'user' as const, content: 'Say hello' }];
  const { response, target } = await router.chat({ model: 'fast', messages });
  // gpt: error overloaded: next target
  // claude: success
  console.log(target.id, response.choices[0]?.message.content);

  // gpt now cools down for the 30 s its 503 asked for, so this stream goes to claude directly.
  const { stream } = await router.chatStream({ model: 'fast', messages });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');

  console.log(router.health().targets.map((t) => [t.target.id, t.breaker, t.cooldownUntil]));
  await Promise.all([openai.close(), anthropic.close(), sim.close()]);
  // README example: end

  vi.restoreAllMocks();
  expect(logged[0]).toEqual(['gpt: error overloaded: next target']);
  expect(logged[1]).toEqual(['claude: success ']);
  expect(logged[2]).toEqual(['claude', expect.stringMatching(/\S/)]);
  // The stream went to claude directly: one more successful attempt, nothing on gpt.
  expect(logged[3]).toEqual(['claude: success ']);
  expect(written.join('')).toMatch(/\S/);
  expect(logged[4]).toEqual([
    [
      ['gpt', 'closed', expect.any(Number)],
      ['claude', 'closed', undefined],
    ],
  ]);
  expect(logged).toHaveLength(5);
});
