import { type Simulator, type SimulatorRequestLogEntry, startSimulator } from '@llm-edge/simulator';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicProvider } from './anthropic-provider';
import type { ChatChunk, ChatRequest, ToolCall } from './chat-schemas';
import { ProviderError } from './errors';
import { createGeminiProvider } from './gemini-provider';
import {
  type ClosableProvider,
  createAzureOpenAIProvider,
  createOpenAICompatibleProvider,
  createOpenAIProvider,
} from './openai-provider';
import { parseChatRequest } from './parse-request';
import type { ProviderTimeouts } from './provider';

/*
 * One conformance suite run against every adapter, with the simulator as the upstream. The
 * simulator shares no code with the adapters: it is the independent witness of each wire format.
 */

interface AdapterCase {
  label: string;
  simulatorProvider: 'openai' | 'anthropic' | 'gemini';
  model: string;
  embeddingModel?: string;
  create(
    sim: Simulator,
    overrides?: { timeouts?: Partial<ProviderTimeouts>; apiKey?: string; dispatcher?: Dispatcher },
  ): ClosableProvider;
  /** Where the model under test is a deployment, not a listed model: check the documented list call instead. */
  modelListPath?: string;
  /** Checks the request the simulator received against what the provider documents. */
  checkUpstream(entry: SimulatorRequestLogEntry, stream: boolean): void;
  /** A request field this wire format cannot honour, which must be rejected before any upstream call. */
  unsupported?: { field: Record<string, unknown>; param: string };
}

const API_KEY = 'sk-conformance';

const cases: AdapterCase[] = [
  {
    label: 'openai',
    simulatorProvider: 'openai',
    model: 'gpt-4o-mini',
    embeddingModel: 'text-embedding-3-small',
    create: (sim, o) =>
      createOpenAIProvider({
        apiKey: o?.apiKey ?? API_KEY,
        baseURL: `${sim.url}/v1`,
        timeouts: o?.timeouts ?? {},
        ...(o?.dispatcher ? { dispatcher: o.dispatcher } : {}),
      }),
    checkUpstream(entry, stream) {
      expect(entry.method).toBe('POST');
      expect(entry.path).toBe('/v1/chat/completions');
      expect(entry.headers['authorization']).toBe('[redacted]');
      expect(entry.headers['content-type']).toBe('application/json');
      const body = entry.body as Record<string, unknown>;
      expect(body['model']).toBe('gpt-4o-mini');
      expect(body['messages']).toEqual([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ]);
      expect(body['max_completion_tokens']).toBe(50);
      if (stream) expect(body['stream_options']).toEqual({ include_usage: true });
      else expect(body['stream']).toBeUndefined();
    },
  },
  {
    label: 'openai-compatible (max_tokens quirk)',
    simulatorProvider: 'openai',
    model: 'gpt-4o-mini',
    embeddingModel: 'text-embedding-3-small',
    create: (sim, o) =>
      createOpenAICompatibleProvider({
        name: 'local-vllm',
        apiKey: o?.apiKey ?? API_KEY,
        baseURL: `${sim.url}/v1`,
        quirks: { maxTokensField: 'max_tokens' },
        timeouts: o?.timeouts ?? {},
        ...(o?.dispatcher ? { dispatcher: o.dispatcher } : {}),
      }),
    checkUpstream(entry, stream) {
      expect(entry.path).toBe('/v1/chat/completions');
      const body = entry.body as Record<string, unknown>;
      expect(body['max_tokens']).toBe(50);
      expect(body['max_completion_tokens']).toBeUndefined();
      expect(body['stream']).toBe(stream ? true : undefined);
    },
  },
  {
    label: 'azure-openai',
    simulatorProvider: 'openai',
    model: 'gpt-4o-mini',
    embeddingModel: 'text-embedding-3-small',
    create: (sim, o) =>
      createAzureOpenAIProvider({
        apiKey: o?.apiKey ?? API_KEY,
        baseURL: sim.url,
        apiVersion: '2024-10-21',
        timeouts: o?.timeouts ?? {},
        ...(o?.dispatcher ? { dispatcher: o.dispatcher } : {}),
      }),
    modelListPath: '/openai/models?api-version=2024-10-21',
    checkUpstream(entry, stream) {
      expect(entry.method).toBe('POST');
      expect(entry.path).toBe('/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21');
      expect(entry.headers['api-key']).toBe('[redacted]');
      expect(entry.headers['authorization']).toBeUndefined();
      const body = entry.body as Record<string, unknown>;
      expect(body['max_completion_tokens']).toBe(50);
      if (stream) expect(body['stream_options']).toEqual({ include_usage: true });
    },
  },
  {
    label: 'anthropic',
    simulatorProvider: 'anthropic',
    model: 'claude-haiku-4-5',
    create: (sim, o) =>
      createAnthropicProvider({
        apiKey: o?.apiKey ?? API_KEY,
        baseURL: sim.url,
        timeouts: o?.timeouts ?? {},
        ...(o?.dispatcher ? { dispatcher: o.dispatcher } : {}),
      }),
    unsupported: { field: { n: 2 }, param: 'n' },
    checkUpstream(entry, stream) {
      expect(entry.method).toBe('POST');
      expect(entry.path).toBe('/v1/messages');
      expect(entry.headers['x-api-key']).toBe('[redacted]');
      expect(entry.headers['anthropic-version']).toBe('2023-06-01');
      expect(entry.headers['authorization']).toBeUndefined();
      expect(entry.body).toEqual({
        model: 'claude-haiku-4-5',
        max_tokens: 50,
        system: 'Be brief.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }],
        ...(stream ? { stream: true } : {}),
      });
    },
  },
  {
    label: 'gemini',
    simulatorProvider: 'gemini',
    model: 'gemini-2.5-flash',
    embeddingModel: 'gemini-embedding-001',
    create: (sim, o) =>
      createGeminiProvider({
        apiKey: o?.apiKey ?? API_KEY,
        baseURL: sim.url,
        timeouts: o?.timeouts ?? {},
        ...(o?.dispatcher ? { dispatcher: o.dispatcher } : {}),
      }),
    unsupported: { field: { logprobs: true }, param: 'logprobs' },
    checkUpstream(entry, stream) {
      expect(entry.method).toBe('POST');
      expect(entry.path).toBe(
        stream
          ? '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
          : '/v1beta/models/gemini-2.5-flash:generateContent',
      );
      expect(entry.headers['x-goog-api-key']).toBe('[redacted]');
      expect(entry.body).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        generationConfig: { maxOutputTokens: 50 },
      });
    },
  },
];

const REPLY_TEXT = 'Hello there, friend.';
const WEATHER_ARGS = { city: 'Paris', unit: 'celsius' };

const helloRequest = (model: string): ChatRequest =>
  parseChatRequest({
    model,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello' },
    ],
    max_completion_tokens: 50,
  });

const weatherRequest = (model: string): ChatRequest =>
  parseChatRequest({
    model,
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' }, unit: { type: 'string' } },
            required: ['city'],
          },
        },
      },
    ],
  });

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (e) {
    if (ProviderError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a ProviderError');
}

/** Accumulates streamed tool-call deltas by index, as OpenAI clients do. */
function accumulateToolCalls(chunks: ChatChunk[]): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const chunk of chunks) {
    for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
      calls[delta.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } };
      const call = calls[delta.index]!;
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.function.name += delta.function.name;
      if (delta.function?.arguments) call.function.arguments += delta.function.arguments;
    }
  }
  return calls;
}

async function waitFor<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe.each(cases)('provider conformance: $label', (adapter) => {
  let sim: Simulator;
  let provider: ClosableProvider;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 7, timeScale: 0, apiKeys: [API_KEY] });
    provider = adapter.create(sim);
  });
  afterAll(async () => {
    await provider.close();
    await sim.close();
  });
  beforeEach(() => {
    sim.setScenario({
      replies: [
        {
          match: { lastUserMessage: 'weather' },
          toolCalls: [{ name: 'get_weather', arguments: WEATHER_ARGS }],
        },
        { match: { lastUserMessage: 'hello' }, text: REPLY_TEXT },
      ],
    });
    sim.reset();
  });

  const onlyEntry = () => {
    const log = sim.requestLog();
    expect(log).toHaveLength(1);
    return log[0]!;
  };

  it('chat: answers with the text, finish stop and usage; upstream request as documented', async () => {
    const response = await provider.chat(helloRequest(adapter.model));
    expect(response.object).toBe('chat.completion');
    expect(response.choices).toHaveLength(1);
    expect(response.choices[0]?.message).toMatchObject({ role: 'assistant', content: REPLY_TEXT });
    expect(response.choices[0]?.finish_reason).toBe('stop');
    expect(response.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(response.usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.usage?.total_tokens).toBe(
      (response.usage?.prompt_tokens ?? 0) + (response.usage?.completion_tokens ?? 0),
    );
    const entry = onlyEntry();
    expect(entry.outcome).toBe('completed');
    adapter.checkUpstream(entry, false);
  });

  it('keep-alive: sequential chats and streams reuse one connection, none cut short', async () => {
    // Counts every TCP connection the adapter opens to the simulator.
    let opened = 0;
    const connect = buildConnector({});
    const agent = new Agent({
      connect: (options, callback) => {
        opened++;
        return connect(options, callback);
      },
    });
    const pooled = adapter.create(sim, { dispatcher: agent });
    const origin = new URL(sim.url).origin;
    const free = () => (agent.stats as Record<string, { free?: number } | undefined>)[origin]?.free ?? 0;
    try {
      for (let i = 0; i < 3; i++) {
        expect((await pooled.chat(helloRequest(adapter.model))).choices[0]?.message.content).toBe(REPLY_TEXT);
        await waitFor(() => (free() === 1 ? true : undefined), 'the connection back in the pool');
        const chunks = await collect(await pooled.chatStream(helloRequest(adapter.model)));
        expect(chunks.at(-1)?.usage).toBeTruthy();
        await waitFor(() => (free() === 1 ? true : undefined), 'the connection back in the pool');
      }
      expect(opened).toBe(1);
      expect(sim.requestLog().map((e) => e.outcome)).toEqual(Array(6).fill('completed'));
    } finally {
      await pooled.close();
      await agent.close();
    }
  });

  it('chatStream: content deltas add up, one finish, usage chunk last', async () => {
    const chunks = await collect(await provider.chatStream(helloRequest(adapter.model)));
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(REPLY_TEXT);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const finishes = chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter(Boolean);
    expect(finishes).toEqual(['stop']);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined)).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const entry = onlyEntry();
    expect(entry.stream).toBe(true);
    expect(entry.outcome).toBe('completed');
    adapter.checkUpstream(entry, true);
  });

  it('tools: a tool call round-trips with its arguments, non-stream and streamed', async () => {
    const response = await provider.chat(weatherRequest(adapter.model));
    const calls = response.choices[0]?.message.tool_calls ?? [];
    expect(response.choices[0]?.finish_reason).toBe('tool_calls');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.function.name).toBe('get_weather');
    expect(JSON.parse(calls[0]!.function.arguments)).toEqual(WEATHER_ARGS);
    expect(calls[0]?.id).not.toBe('');

    const chunks = await collect(await provider.chatStream(weatherRequest(adapter.model)));
    const streamed = accumulateToolCalls(chunks);
    expect(streamed).toHaveLength(1);
    expect(streamed[0]?.function.name).toBe('get_weather');
    expect(JSON.parse(streamed[0]!.function.arguments)).toEqual(WEATHER_ARGS);
    expect(chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter(Boolean)).toEqual([
      'tool_calls',
    ]);
  });

  it('tools: the tool result goes back upstream and the model answers', async () => {
    sim.setScenario({
      replies: [
        {
          match: { lastUserMessage: 'weather' },
          toolCalls: [{ name: 'get_weather', arguments: WEATHER_ARGS }],
          times: 1,
        },
        { text: 'It is 21 degrees.' },
      ],
    });
    const first = await provider.chat(weatherRequest(adapter.model));
    const call = first.choices[0]!.message.tool_calls![0]!;
    const followUp = parseChatRequest({
      ...weatherRequest(adapter.model),
      messages: [
        ...weatherRequest(adapter.model).messages,
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21}' },
      ],
    });
    const second = await provider.chat(followUp);
    expect(second.choices[0]?.message.content).toBe('It is 21 degrees.');
    expect(second.choices[0]?.finish_reason).toBe('stop');
    const body = JSON.stringify(sim.requestLog()[1]?.body);
    expect(body).toContain('temp_c');
    expect(body).toContain('get_weather');
  });

  it.each([
    ['rate_limit', 'rate_limit', 429],
    ['server_error', 'server', 500],
    ['unavailable', 'overloaded', 503],
  ] as const)('errors: fault %s → kind %s (non-stream and stream)', async (fault, kind, status) => {
    sim.setScenario({ faults: [{ kind: fault, count: 2 }] });
    const e1 = await failure(provider.chat(helloRequest(adapter.model)));
    const e2 = await failure(provider.chatStream(helloRequest(adapter.model)));
    for (const error of [e1, e2]) {
      expect({
        kind: error.kind,
        status: error.status,
        retryable: error.retryable,
        provider: error.provider,
      }).toEqual({
        kind,
        status,
        retryable: true,
        provider: provider.name,
      });
      expect(error.providerMessage).toBeTruthy();
    }
    if (fault === 'rate_limit') expect(e1.retryAfterMs).toBe(1000);
  });

  it('errors: an invalid API key is kind auth, not retryable', async () => {
    const bad = adapter.create(sim, { apiKey: 'wrong' });
    const error = await failure(bad.chat(helloRequest(adapter.model)));
    expect({ kind: error.kind, retryable: error.retryable }).toEqual({ kind: 'auth', retryable: false });
    await bad.close();
  });

  it('errors: an unknown model is kind not_found', async () => {
    const error = await failure(provider.chat(helloRequest(`${adapter.model}-nope`)));
    expect(error.kind).toBe('not_found');
  });

  it('errors: a stream cut mid-way throws from the iterator', async () => {
    sim.setScenario({ faults: [{ kind: 'disconnect', afterChunks: 1 }] });
    const stream = await provider.chatStream(helloRequest(adapter.model));
    const error = await failure(collect(stream));
    expect(['network', 'server']).toContain(error.kind);
    expect(error.retryable).toBe(true);
  });

  it('errors: a malformed stream event is kind server', async () => {
    sim.setScenario({ faults: [{ kind: 'malformed_sse', afterChunks: 1 }] });
    const error = await failure(collect(await provider.chatStream(helloRequest(adapter.model))));
    expect(error.kind).toBe('server');
  });

  it('abort before the answer cancels the upstream request (client_closed)', async () => {
    sim.setScenario({ faults: [{ kind: 'hang' }] });
    const controller = new AbortController();
    const pending = provider.chat(helloRequest(adapter.model), { signal: controller.signal });
    await waitFor(() => sim.requestLog()[0], 'the request to reach the simulator');
    controller.abort();
    expect((await failure(pending)).kind).toBe('aborted');
    const outcome = await waitFor(
      () => (sim.requestLog()[0]?.outcome === 'client_closed' ? 'client_closed' : undefined),
      'the simulator to see the client close',
    );
    expect(outcome).toBe('client_closed');
  });

  it('abort mid-stream cancels the upstream stream (client_closed)', async () => {
    sim.setScenario({ faults: [{ kind: 'trickle', intervalMs: 200 }] });
    const controller = new AbortController();
    const stream = await provider.chatStream(helloRequest(adapter.model), { signal: controller.signal });
    let seen = 0;
    const error = await failure(
      (async () => {
        for await (const _chunk of stream) {
          seen++;
          controller.abort();
        }
      })(),
    );
    expect(seen).toBe(1);
    expect(error.kind).toBe('aborted');
    await waitFor(
      () => (sim.requestLog()[0]?.outcome === 'client_closed' ? true : undefined),
      'the simulator to see the client close',
    );
  });

  it('timeouts: a hung upstream is kind timeout and the upstream is closed', async () => {
    sim.setScenario({ faults: [{ kind: 'hang' }] });
    const hasty = adapter.create(sim, { timeouts: { firstByteMs: 100 } });
    const error = await failure(hasty.chat(helloRequest(adapter.model)));
    expect({ kind: error.kind, type: error.providerType, retryable: error.retryable }).toEqual({
      kind: 'timeout',
      type: 'timeout:first_byte',
      retryable: true,
    });
    await waitFor(
      () => (sim.requestLog()[0]?.outcome === 'client_closed' ? true : undefined),
      'the simulator to see the client close',
    );
    await hasty.close();
  });

  it('timeouts: a stream that stalls between chunks is kind timeout (idle)', async () => {
    sim.setScenario({ faults: [{ kind: 'trickle', intervalMs: 400 }] });
    const hasty = adapter.create(sim, { timeouts: { idleMs: 100 } });
    const error = await failure(collect(await hasty.chatStream(helloRequest(adapter.model))));
    expect({ kind: error.kind, type: error.providerType }).toEqual({ kind: 'timeout', type: 'timeout:idle' });
    await hasty.close();
  });

  it('fidelity: a field the wire format cannot honour is rejected before any upstream call', async () => {
    const request = parseChatRequest({
      ...helloRequest(adapter.model),
      ...adapter.unsupported?.field,
      top_k: 5,
    });
    if (!adapter.unsupported) {
      // OpenAI-family targets forward unknown fields verbatim.
      expect(provider.checkChatRequest(request)).toBeUndefined();
      await provider.chat(request);
      expect((onlyEntry().body as Record<string, unknown>)['top_k']).toBe(5);
      return;
    }
    const error = await failure(provider.chat(request));
    expect({ kind: error.kind, status: error.status, retryable: error.retryable }).toEqual({
      kind: 'unsupported',
      status: 400,
      retryable: false,
    });
    expect([adapter.unsupported.param, 'top_k']).toContain(error.param);
    expect((await failure(provider.chatStream(request))).kind).toBe('unsupported');
    const checked = provider.checkChatRequest(request);
    expect({ kind: checked?.kind, param: checked?.param }).toEqual({
      kind: 'unsupported',
      param: error.param,
    });
    expect(provider.checkChatRequest(helloRequest(adapter.model))).toBeUndefined();
    expect(sim.requestLog()).toHaveLength(0);
  });

  it('listModels includes the model under test, or answers the documented list call', async () => {
    const models = await provider.listModels();
    if (adapter.modelListPath) {
      // Azure lists base models, not deployments: the deployment under test is not among them.
      expect(models.length).toBeGreaterThan(0);
      expect(onlyEntry().path).toBe(adapter.modelListPath);
      return;
    }
    expect(models.map((m) => m.id)).toContain(adapter.model);
  });

  it('embeddings: vectors per input, or a clear unsupported where the API has none', async () => {
    if (!adapter.embeddingModel) {
      const error = await failure(provider.embeddings({ model: adapter.model, input: 'x' }));
      expect({ kind: error.kind, param: error.param }).toEqual({ kind: 'unsupported', param: 'model' });
      expect(provider.checkEmbeddingsRequest({ model: adapter.model, input: 'x' })?.kind).toBe('unsupported');
      expect(sim.requestLog()).toHaveLength(0);
      expect(provider.capabilities(adapter.model).embeddings).toBe(false);
      return;
    }
    const response = await provider.embeddings({ model: adapter.embeddingModel, input: ['alpha', 'beta'] });
    expect(response.data.map((d) => d.index)).toEqual([0, 1]);
    const first = response.data[0]!.embedding;
    expect(Array.isArray(first) && first.length > 0).toBe(true);
    const b64 = await provider.embeddings({
      model: adapter.embeddingModel,
      input: 'alpha',
      encoding_format: 'base64',
    });
    expect(typeof b64.data[0]?.embedding).toBe('string');
  });
});
