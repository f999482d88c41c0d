import type { ChatChunk } from '@llm-edge/providers';
import { describe, expect, it } from 'vitest';
import {
  AnthropicStreamTranslator,
  anthropicMessagesRequestSchema,
  anthropicToUnified,
  unifiedToAnthropic,
} from './anthropic-client-format';

const chunk = (delta: ChatChunk['choices'][number]['delta'], finish: string | null = null): ChatChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, finish_reason: finish as ChatChunk['choices'][number]['finish_reason'] }],
});

describe('anthropicToUnified', () => {
  it('maps system, tool use and tool results to unified messages', () => {
    const request = anthropicMessagesRequestSchema.parse({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be brief.' }],
      stop_sequences: ['END'],
      tools: [
        { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '21C' }] },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
    });
    expect(anthropicToUnified(request)).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      stop: ['END'],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '21C' },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
  });

  it('rejects a request without max_tokens', () => {
    const result = anthropicMessagesRequestSchema.safeParse({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['max_tokens']);
  });
});

describe('unifiedToAnthropic', () => {
  it('maps content, tool calls, stop reason and usage', () => {
    const message = unifiedToAnthropic(
      {
        id: 'chatcmpl-abc',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            logprobs: null,
            message: {
              role: 'assistant',
              content: 'Let me look.',
              tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
            },
          },
        ],
        usage: {
          prompt_tokens: 10,
          completion_tokens: 5,
          total_tokens: 15,
          prompt_tokens_details: { cached_tokens: 4 },
        },
      },
      'claude-haiku-4-5',
    );
    expect(message).toEqual({
      id: 'msg_abc',
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [
        { type: 'text', text: 'Let me look.', citations: null },
        { type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 6,
        output_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 4,
      },
    });
  });
});

describe('AnthropicStreamTranslator', () => {
  it('emits the Anthropic event sequence for text then a tool call', () => {
    const t = new AnthropicStreamTranslator('claude-haiku-4-5');
    const events = [
      ...t.push(chunk({ role: 'assistant', content: '' })),
      ...t.push(chunk({ content: 'Hi' })),
      ...t.push(
        chunk({
          tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }],
        }),
      ),
      ...t.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] })),
      ...t.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] })),
      ...t.push(chunk({}, 'tool_calls')),
      ...t.push({
        ...chunk({}),
        choices: [],
        usage: { prompt_tokens: 3, completion_tokens: 7, total_tokens: 10 },
      }),
      ...t.end(),
    ];
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[5]?.data).toMatchObject({
      index: 1,
      content_block: { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
    });
    expect(events[9]?.data).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { output_tokens: 7, input_tokens: 3 },
    });
  });
});
