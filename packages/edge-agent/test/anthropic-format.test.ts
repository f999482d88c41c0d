import type Anthropic from '@anthropic-ai/sdk';
import { BadRequestError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from './stack';

type CreateParams = Anthropic.MessageCreateParamsNonStreaming;

/** Sends a request the SDK's types do not describe (fields older clients send, or bad input). */
function loose(params: Record<string, unknown>): CreateParams {
  return params as unknown as CreateParams;
}

describe('Anthropic format in: every request field honoured or refused by name', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => {
    stack.sim.reset();
  });

  const refusal = (params: CreateParams) =>
    stack.anthropic.messages.create(params, { headers: { 'cache-control': 'no-store' } }).then(
      () => undefined,
      (e: unknown) => e,
    );

  it('metadata.user_id: Anthropic target gets metadata.user_id, OpenAI target safety_identifier, a Gemini target refuses it by that name', async () => {
    const ask = (model: string) =>
      stack.anthropic.messages.create({
        model,
        max_tokens: 32,
        metadata: { user_id: 'user-7f3a' },
        messages: [{ role: 'user', content: `who am I, ${model}?` }],
      });
    await ask('claude-haiku-4-5');
    await ask('gpt-4o-mini');
    const [anthropic, openai] = stack.sim.requestLog();
    expect(anthropic).toMatchObject({ provider: 'anthropic', body: { metadata: { user_id: 'user-7f3a' } } });
    expect(openai).toMatchObject({ provider: 'openai', body: { safety_identifier: 'user-7f3a' } });
    expect(openai?.body).not.toHaveProperty('user');

    const refused = await refusal({
      model: 'gemini-2.5-flash',
      max_tokens: 32,
      metadata: { user_id: 'user-7f3a' },
      messages: [{ role: 'user', content: 'who am I, gemini?' }],
    });
    expect(refused).toBeInstanceOf(BadRequestError);
    const body = (refused as BadRequestError).error as {
      type: string;
      error: { type: string; message: string };
    };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^metadata\.user_id\b/);
    expect(stack.sim.requestLog()).toHaveLength(2);
  });

  it('top_k: passed on to an OpenAI-format target, refused by name for an Anthropic target without calling it', async () => {
    await stack.anthropic.messages.create(
      loose({
        model: 'gpt-4o-mini',
        max_tokens: 32,
        top_k: 5,
        messages: [{ role: 'user', content: 'top k' }],
      }),
    );
    expect(stack.sim.requestLog()[0]?.body).toMatchObject({ top_k: 5 });

    const refused = await refusal(
      loose({
        model: 'claude-haiku-4-5',
        max_tokens: 32,
        top_k: 5,
        messages: [{ role: 'user', content: 'top k' }],
      }),
    );
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringMatching(/\btop_k\b/) },
    });
    expect(stack.sim.requestLog()).toHaveLength(1);
  });

  it.each([
    ['extended thinking', { thinking: { type: 'enabled', budget_tokens: 2048 } }, 'thinking'],
    ['an unknown top-level field', { colour: 'blue' }, 'colour'],
    ['top-level cache_control', { cache_control: { type: 'ephemeral' } }, 'cache_control'],
    [
      'thinking blocks in the history',
      {
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig' }] },
          { role: 'user', content: 'go on' },
        ],
      },
      'messages[1].content[0].type',
    ],
    [
      'an image inside a tool result',
      {
        messages: [
          { role: 'user', content: 'look' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'snap', input: {} }] },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                content: [
                  {
                    type: 'image',
                    source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
                  },
                ],
              },
            ],
          },
        ],
      },
      'messages[2].content[0].content[0].type',
    ],
  ])(
    '%s: 400 invalid_request_error naming the field; nothing reaches the upstream',
    async (_what, extra, field) => {
      const refused = await refusal(
        loose({
          model: 'claude-haiku-4-5',
          max_tokens: 32,
          messages: [{ role: 'user', content: 'x' }],
          ...extra,
        }),
      );
      expect(refused).toBeInstanceOf(BadRequestError);
      const error = (refused as BadRequestError).error as {
        type: string;
        error: { type: string; message: string };
      };
      expect(error.type).toBe('error');
      expect(error.error.type).toBe('invalid_request_error');
      expect(error.error.message).toContain(`${field}: `);
      expect(stack.sim.requestLog()).toEqual([]);
    },
  );

  it('stop_sequences beyond what a Gemini target takes are refused under the client field name', async () => {
    const refused = await refusal({
      model: 'gemini-2.5-flash',
      max_tokens: 32,
      stop_sequences: ['a', 'b', 'c', 'd', 'e', 'f'],
      messages: [{ role: 'user', content: 'six stops' }],
    });
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).error).toMatchObject({
      error: {
        type: 'invalid_request_error',
        message: expect.stringMatching(/^stop_sequences \(sent to the target as stop\)/),
      },
    });
    expect(stack.sim.requestLog()).toEqual([]);
  });

  it('output_config.format reaches an OpenAI target as a JSON schema response format', async () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, celsius: { type: 'number' } },
      required: ['city', 'celsius'],
      additionalProperties: false,
    };
    const message = await stack.anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 128,
      output_config: { format: { type: 'json_schema', schema } },
      messages: [{ role: 'user', content: 'Weather in Oslo as JSON' }],
    });
    expect(stack.sim.requestLog()[0]?.body).toMatchObject({
      response_format: { type: 'json_schema', json_schema: { schema } },
    });
    const text = message.content[0]?.type === 'text' ? message.content[0].text : '';
    expect(JSON.parse(text)).toEqual({ city: expect.any(String), celsius: expect.any(Number) });
  });

  it('a stream ends with the usage the upstream reported, input tokens included', async () => {
    for (const model of ['gpt-4o-mini', 'claude-haiku-4-5']) {
      stack.sim.reset();
      const final = await stack.anthropic.messages
        .stream(
          {
            model,
            max_tokens: 64,
            stop_sequences: ['STOP'],
            messages: [{ role: 'user', content: `count my tokens, ${model}` }],
          },
          { headers: { 'cache-control': 'no-store' } },
        )
        .finalMessage();
      const upstream = stack.sim.requestLog()[0];
      expect(upstream?.promptTokens).toBeGreaterThan(0);
      expect(final.usage.input_tokens).toBe(upstream?.promptTokens);
      expect(final.usage.output_tokens).toBe(upstream?.completionTokens);
      expect(final.stop_reason).toBe('end_turn');
      expect(final.stop_sequence).toBeNull();
    }
  });
});
