import { type Simulator, startSimulator } from '@llm-edge/simulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicProvider } from './anthropic-provider';
import { ProviderError } from './errors';
import { createGeminiProvider } from './gemini-provider';
import { type ClosableProvider, createAzureOpenAIProvider, createOpenAIProvider } from './openai-provider';
import { parseChatRequest } from './parse-request';

/* Provider-specific error bodies, produced by the simulator's fault overrides, mapped to kinds. */

const ask = (model: string) => parseChatRequest({ model, messages: [{ role: 'user', content: 'hi' }] });

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (e) {
    if (ProviderError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a ProviderError');
}

let sim: Simulator;
let openai: ClosableProvider;
let azure: ClosableProvider;
let anthropic: ClosableProvider;
let gemini: ClosableProvider;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, timeScale: 0 });
  openai = createOpenAIProvider({ apiKey: 'k', baseURL: `${sim.url}/v1` });
  azure = createAzureOpenAIProvider({ apiKey: 'k', baseURL: sim.url });
  anthropic = createAnthropicProvider({ apiKey: 'k', baseURL: sim.url });
  gemini = createGeminiProvider({ apiKey: 'k', baseURL: sim.url });
});
afterAll(async () => {
  await Promise.all([openai.close(), azure.close(), anthropic.close(), gemini.close()]);
  await sim.close();
});
beforeEach(() => sim.reset());

describe('OpenAI-family error bodies', () => {
  it('context_length_exceeded → context_length, not retryable', async () => {
    sim.setScenario({
      faults: [
        {
          kind: 'error',
          status: 400,
          errorType: 'invalid_request_error',
          errorCode: 'context_length_exceeded',
          param: 'messages',
        },
      ],
    });
    const error = await failure(openai.chat(ask('gpt-4o-mini')));
    expect({ kind: error.kind, retryable: error.retryable, param: error.param }).toEqual({
      kind: 'context_length',
      retryable: false,
      param: 'messages',
    });
  });

  it('Azure content filter → content_filter', async () => {
    sim.setScenario({
      faults: [
        { kind: 'error', status: 400, errorType: 'invalid_request_error', errorCode: 'content_filter' },
      ],
    });
    expect((await failure(azure.chat(ask('gpt-4o-mini')))).kind).toBe('content_filter');
  });

  it('insufficient_quota → rate_limit that is not retryable', async () => {
    sim.setScenario({
      faults: [{ kind: 'rate_limit', errorType: 'insufficient_quota', errorCode: 'insufficient_quota' }],
    });
    const error = await failure(openai.chat(ask('gpt-4o-mini')));
    expect({ kind: error.kind, retryable: error.retryable }).toEqual({
      kind: 'rate_limit',
      retryable: false,
    });
  });

  it('retry-after-ms wins over retry-after', async () => {
    sim.setScenario({ faults: [{ kind: 'rate_limit', retryAfterMs: 1500, retryAfterSeconds: 9 }] });
    expect((await failure(openai.chat(ask('gpt-4o-mini')))).retryAfterMs).toBe(1500);
  });
});

describe('Anthropic error bodies', () => {
  it('529 overloaded_error → overloaded, retryable, with Retry-After', async () => {
    sim.setScenario({ faults: [{ kind: 'overloaded' }] });
    const error = await failure(anthropic.chat(ask('claude-haiku-4-5')));
    expect({
      kind: error.kind,
      status: error.status,
      retryable: error.retryable,
      type: error.providerType,
    }).toEqual({
      kind: 'overloaded',
      status: 529,
      retryable: true,
      type: 'overloaded_error',
    });
    expect(error.retryAfterMs).toBe(1000);
  });

  it('an enforced spend limit is a rate_limit that is not retried', async () => {
    sim.setScenario({
      faults: [{ kind: 'rate_limit', errorDetails: { error_code: 'enforced_spend_limit_reached' } }],
    });
    const error = await failure(anthropic.chat(ask('claude-haiku-4-5')));
    expect({ kind: error.kind, retryable: error.retryable }).toEqual({
      kind: 'rate_limit',
      retryable: false,
    });
  });
});

describe('Gemini error bodies', () => {
  it('RESOURCE_EXHAUSTED with RetryInfo.retryDelay → rate_limit with retryAfterMs', async () => {
    sim.setScenario({ faults: [{ kind: 'rate_limit', retryAfterSeconds: 7 }] });
    const error = await failure(gemini.chat(ask('gemini-2.5-flash')));
    expect({ kind: error.kind, retryAfterMs: error.retryAfterMs, type: error.providerType }).toEqual({
      kind: 'rate_limit',
      retryAfterMs: 7000,
      type: 'RESOURCE_EXHAUSTED',
    });
  });
});
