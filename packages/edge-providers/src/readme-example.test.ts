import { startSimulator } from '@llm-edge/simulator';
import { expect, it } from 'vitest';
import {
  type ChatResponse,
  createAnthropicProvider,
  createOpenAIProvider,
  ProviderError,
  parseChatRequest,
} from './index';

it('README: call OpenAI, fall back to Anthropic by hand', async () => {
  const sim = await startSimulator({
    scenario: { faults: [{ kind: 'unavailable', match: { provider: 'openai' } }] },
  });
  const openai = createOpenAIProvider({ apiKey: 'sk-test', baseURL: `${sim.url}/v1` });
  const anthropic = createAnthropicProvider({ apiKey: 'sk-test', baseURL: sim.url });

  const request = parseChatRequest({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello' }],
  });
  let response: ChatResponse;
  const failures: string[] = [];
  try {
    response = await openai.chat(request);
  } catch (error) {
    if (!ProviderError.isInstance(error) || !error.retryable) throw error;
    failures.push(`${error.kind} ${error.status}`);
    response = await anthropic.chat({ ...request, model: 'claude-haiku-4-5' });
  }
  expect(failures).toEqual(['overloaded 503']);
  expect(response.choices[0]?.message.content).toBeTruthy();
  expect(response.usage?.total_tokens).toBeGreaterThan(0);

  let text = '';
  let usageSeen = false;
  for await (const chunk of await anthropic.chatStream({ ...request, model: 'claude-haiku-4-5' })) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usageSeen = true;
  }
  expect(text.length).toBeGreaterThan(0);
  expect(usageSeen).toBe(true);
  expect(sim.requestLog().map((e) => `${e.provider}:${e.outcome}`)).toEqual([
    'openai:fault:unavailable',
    'anthropic:completed',
    'anthropic:completed',
  ]);
  await Promise.all([openai.close(), anthropic.close(), sim.close()]);
});
