import { createAnthropicProvider, createOpenAIProvider } from '@llm-edge/providers';
import { startSimulator } from '@llm-edge/simulator';
import { expect, it } from 'vitest';
import { Router } from './index';

it('README: call OpenAI, fall back to Anthropic', async () => {
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
  const lines: string[] = [];
  router.on('attempt', (e) => lines.push(`${e.target.id}: ${e.outcome} ${e.failoverReason ?? ''}`.trim()));

  const messages = [{ role: 'user' as const, content: 'Say hello' }];
  const { response, target } = await router.chat({ model: 'fast', messages });
  expect(target.id).toBe('claude');
  expect(response.choices[0]?.message.content).toBeTruthy();
  expect(lines).toEqual(['gpt: error overloaded: next target', 'claude: success']);

  // gpt is cooling down for the 30 s its 503 asked for, so this goes to claude directly.
  const { stream, target: streamed } = await router.chatStream({ model: 'fast', messages });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  expect(streamed.id).toBe('claude');
  expect(text.length).toBeGreaterThan(0);

  const health = router
    .health()
    .targets.map((t) => `${t.target.id} ${t.breaker} cooling=${t.cooldownUntil !== undefined}`);
  expect(health).toEqual(['gpt closed cooling=true', 'claude closed cooling=false']);
  await Promise.all([openai.close(), anthropic.close(), sim.close()]);
});
