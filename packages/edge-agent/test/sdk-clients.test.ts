import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { latencyScenario, startStack, type TestStack } from './stack';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('official SDKs through the gateway to the simulator', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ sim: { timeScale: 1, scenario: latencyScenario() } });
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => {
    stack.sim.setScenario(latencyScenario());
    stack.sim.reset();
  });

  it('openai: chat completion, then the same request is a cache HIT that never reaches the upstream', async () => {
    const messages = [{ role: 'user' as const, content: 'openai chat cache test' }];
    const first = await stack.openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    expect(first.data.choices[0]?.message.content).toEqual(expect.any(String));
    expect(first.data.usage?.total_tokens).toBeGreaterThan(0);
    expect(first.response.headers.get('x-llm-edge-target')).toBe('gpt-mini');
    expect(first.response.headers.get('x-llm-edge-cache')).toBe('MISS');
    expect(first.response.headers.get('x-request-id')).toMatch(/.+/);
    expect(Number(first.response.headers.get('x-llm-edge-overhead-ms'))).toBeGreaterThanOrEqual(0);

    const second = await stack.openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    expect(second.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    expect(second.response.headers.get('x-llm-edge-target')).toBe('gpt-mini');
    expect(second.data).toEqual(first.data);
    expect(stack.sim.requestLog()).toHaveLength(1);
  });

  it('openai: a stream, usage only when asked, then replayed from the cache as a stream', async () => {
    const messages = [{ role: 'user' as const, content: 'openai stream test' }];
    const stream = await stack.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageChunks++;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usageChunks).toBe(1);

    const { data: replay, response } = await stack.openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages, stream: true })
      .withResponse();
    expect(response.headers.get('x-llm-edge-cache')).toBe('HIT');
    let replayed = '';
    let replayUsage = 0;
    for await (const chunk of replay) {
      replayed += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) replayUsage++;
    }
    expect(replayed).toBe(text);
    expect(replayUsage).toBe(0);
    // A non-stream request for the same prompt is served from the recorded stream.
    const whole = await stack.openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(whole.choices[0]?.message.content).toBe(text);
    expect(stack.sim.requestLog()).toHaveLength(1);
  });

  it('openai: tools, non-stream and stream', async () => {
    const request = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
      tools: [weatherTool],
      tool_choice: 'required' as const,
    };
    const completion = await stack.openai.chat.completions.create(request);
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    expect(call?.type === 'function' ? call.function.name : undefined).toBe('get_weather');

    const stream = stack.openai.chat.completions.stream({
      ...request,
      messages: [{ role: 'user', content: 'Weather in Rome?' }],
    });
    const final = await stream.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    expect(streamed?.type === 'function' ? streamed.function.name : undefined).toBe('get_weather');
    expect(() => JSON.parse(streamed?.type === 'function' ? streamed.function.arguments : '')).not.toThrow();
  });

  it('openai: embeddings', async () => {
    const result = await stack.openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['one', 'two'],
    });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('openai: model list shows aliases and targets', async () => {
    const ids: string[] = [];
    for await (const model of stack.openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(
      expect.arrayContaining(['resilient', 'openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5']),
    );
  });

  it('openai format in, Anthropic provider out (chat and stream)', async () => {
    const completion = await stack.openai.chat.completions
      .create({
        model: 'claude-haiku-4-5',
        messages: [{ role: 'user', content: 'openai in, anthropic out' }],
      })
      .withResponse();
    expect(completion.response.headers.get('x-llm-edge-target')).toBe('haiku');
    expect(completion.data.choices[0]?.message.content).toEqual(expect.any(String));
    expect(stack.sim.requestLog()[0]).toMatchObject({ provider: 'anthropic', path: '/v1/messages' });

    const stream = await stack.openai.chat.completions.create({
      model: 'claude-haiku-4-5',
      stream: true,
      messages: [{ role: 'user', content: 'openai in, anthropic out, streamed' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
  });

  it('openai format in, Gemini provider out', async () => {
    const completion = await stack.openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'openai in, gemini out' }],
    });
    expect(completion.choices[0]?.message.content).toEqual(expect.any(String));
    expect(stack.sim.requestLog()[0]?.provider).toBe('gemini');
  });

  it('anthropic: messages to an Anthropic target, non-stream and stream', async () => {
    const message = await stack.anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'anthropic in, anthropic out' }],
    });
    expect(message.type).toBe('message');
    expect(message.model).toBe('claude-haiku-4-5');
    expect(message.content[0]?.type).toBe('text');
    expect(message.usage.output_tokens).toBeGreaterThan(0);

    const stream = stack.anthropic.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'anthropic stream in, anthropic out' }],
    });
    const final = await stream.finalMessage();
    expect(final.content[0]?.type === 'text' ? final.content[0].text.length : 0).toBeGreaterThan(0);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('anthropic format in, OpenAI provider out, with tools (non-stream and stream)', async () => {
    const tools = [
      {
        name: 'get_weather',
        description: 'Current weather of a city',
        input_schema: {
          type: 'object' as const,
          properties: { city: { type: 'string' } },
          required: ['city'],
        },
      },
    ];
    const message = await stack.anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 128,
      tools,
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    });
    expect(stack.sim.requestLog()[0]).toMatchObject({ provider: 'openai', path: '/v1/chat/completions' });
    expect(message.stop_reason).toBe('tool_use');
    const toolUse = message.content.find((b) => b.type === 'tool_use');
    expect(toolUse?.type === 'tool_use' ? toolUse.name : undefined).toBe('get_weather');
    expect(toolUse?.type === 'tool_use' ? toolUse.input : undefined).toEqual(expect.any(Object));

    // The tool result goes back in Anthropic form and reaches OpenAI as a tool message.
    const followUp = await stack.anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 128,
      tools,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: message.content },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: toolUse?.type === 'tool_use' ? toolUse.id : '',
              content: '3C',
            },
          ],
        },
      ],
    });
    expect(followUp.content.length).toBeGreaterThan(0);
    const upstream = stack.sim.requestLog()[1]?.body as { messages: { role: string }[] };
    expect(upstream.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);

    const stream = stack.anthropic.messages.stream({
      model: 'gpt-4o-mini',
      max_tokens: 128,
      tools,
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'Weather in Bergen?' }],
    });
    const final = await stream.finalMessage();
    const streamedTool = final.content.find((b) => b.type === 'tool_use');
    expect(streamedTool?.type === 'tool_use' ? streamedTool.name : undefined).toBe('get_weather');
    expect(final.stop_reason).toBe('tool_use');
  });

  it('identical concurrent requests share one upstream call (non-stream and stream)', async () => {
    // The upstream takes 150 ms to answer, so all the requests overlap with the first.
    stack.sim.setScenario(latencyScenario({ 'gpt-4o': 150 }));
    const messages = [{ role: 'user' as const, content: 'coalesce me' }];
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => stack.openai.chat.completions.create({ model: 'gpt-4o', messages })),
    );
    expect(new Set(answers.map((a) => a.choices[0]?.message.content)).size).toBe(1);
    expect(stack.sim.requestLog()).toHaveLength(1);

    const streamMessages = [{ role: 'user' as const, content: 'coalesce my stream' }];
    const results = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const { data: stream, response } = await stack.openai.chat.completions
          .create({ model: 'gpt-4o', messages: streamMessages, stream: true })
          .withResponse();
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        return { text, target: response.headers.get('x-llm-edge-target') };
      }),
    );
    const texts = results.map((r) => r.text);
    expect(results.map((r) => r.target)).toEqual(['gpt', 'gpt', 'gpt', 'gpt']);
    expect(new Set(texts).size).toBe(1);
    expect(stack.sim.requestLog()).toHaveLength(2);
  });
});
