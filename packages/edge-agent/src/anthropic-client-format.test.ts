import { type ChatChunk, toValidationIssues } from '@llm-edge/providers';
import { RoutingError } from '@llm-edge/routing';
import { RequestValidationError } from '@llm-edge/security';
import { describe, expect, it } from 'vitest';
import {
  AnthropicStreamTranslator,
  anthropicMessagesRequestSchema,
  anthropicToUnified,
  translateAnthropicRequest,
  unifiedToAnthropic,
} from './anthropic-client-format';

const base = { model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

/** The issues a request fails with, as the client sees their paths and messages. */
function issuesOf(body: Record<string, unknown>): { path: string; message: string }[] {
  const result = anthropicMessagesRequestSchema.safeParse(body);
  if (result.success) return [];
  return toValidationIssues(result.error).map((i) => ({ path: i.path, message: i.message }));
}

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

describe('anthropicMessagesRequestSchema: every field translated or refused by name', () => {
  it.each([
    ['an unknown top-level field', { colour: 'blue' }, 'colour', /unknown field/],
    ['top-level cache_control', { cache_control: { type: 'ephemeral' } }, 'cache_control', /prompt-cache/],
    ['thinking enabled', { thinking: { type: 'enabled', budget_tokens: 2048 } }, 'thinking', /thinking/],
    ['adaptive thinking', { thinking: { type: 'adaptive' } }, 'thinking', /thinking/],
    ['fast mode', { speed: 'fast' }, 'speed', /fast mode/],
    ['a container', { container: 'ctr_1' }, 'container', /containers/],
    ['inference_geo', { inference_geo: 'eu' }, 'inference_geo', /routing/],
    ['max_tokens 0', { max_tokens: 0 }, 'max_tokens', /at least 1/],
    [
      'too many stop sequences',
      { stop_sequences: Array.from({ length: 17 }, (_, i) => `s${i}`) },
      'stop_sequences',
      /16/,
    ],
    [
      'a server tool',
      { tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
      'tools[0].type',
      /custom tools/,
    ],
    [
      'tool input examples',
      { tools: [{ name: 'f', input_schema: { type: 'object' }, input_examples: [{ a: 1 }] }] },
      'tools[0].input_examples',
      /examples/,
    ],
    [
      'an unknown metadata field',
      { metadata: { user_id: 'u', tier: 'gold' } },
      'metadata.tier',
      /unknown field/,
    ],
  ])('refuses %s', (_what, extra, path, message) => {
    const issues = issuesOf({ ...base, ...extra });
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toMatch(message);
  });

  it.each([
    [
      'thinking blocks',
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: 's' }] },
      'messages[1].content[0].type',
      /extended thinking/,
    ],
    [
      'redacted thinking',
      { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'x' }] },
      'messages[1].content[0].type',
      /extended thinking/,
    ],
    [
      'an image inside a tool result',
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 't1',
            content: [
              { type: 'text', text: 'see' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            ],
          },
        ],
      },
      'messages[1].content[0].content[1].type',
      /images in tool results/,
    ],
    [
      'a text block with cache_control',
      { role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }] },
      'messages[1].content[0].cache_control',
      /prompt-cache/,
    ],
    [
      'a text block with citations',
      { role: 'user', content: [{ type: 'text', text: 'x', citations: [{ type: 'char_location' }] }] },
      'messages[1].content[0].citations',
      /citations/,
    ],
    [
      'an uploaded image',
      { role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f1' } }] },
      'messages[1].content[0].source.type',
      /file ids/,
    ],
    [
      'a server tool result',
      { role: 'user', content: [{ type: 'web_search_tool_result', tool_use_id: 'x', content: [] }] },
      'messages[1].content[0].type',
      /server tools/,
    ],
    [
      'an unknown block type',
      { role: 'user', content: [{ type: 'hologram' }] },
      'messages[1].content[0].type',
      /./,
    ],
    ['an empty content array', { role: 'user', content: [] }, 'messages[1].content', /./],
  ])('refuses %s', (_what, message, path, pattern) => {
    const issues = issuesOf({ ...base, messages: [{ role: 'user', content: 'hi' }, message] });
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toMatch(pattern);
  });

  it('accepts the neutral values of settings it cannot carry', () => {
    expect(
      issuesOf({
        ...base,
        thinking: { type: 'disabled' },
        speed: 'standard',
        cache_control: null,
        container: null,
        tools: [
          {
            name: 'f',
            input_schema: { type: 'object' },
            type: 'custom',
            defer_loading: false,
            allowed_callers: ['direct'],
          },
        ],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'x', citations: null }] }],
      }),
    ).toEqual([]);
  });

  it('refuses blocks in a turn that cannot hold them, naming the block', () => {
    const request = anthropicMessagesRequestSchema.parse({
      ...base,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
      ],
    });
    const error = (() => {
      try {
        translateAnthropicRequest(request);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(RequestValidationError.isInstance(error)).toBe(true);
    expect((error as RequestValidationError).issues[0]).toEqual({
      path: 'messages[1].content[0]',
      message: 'image blocks are not accepted in an assistant turn',
    });
  });
});

describe('translateAnthropicRequest', () => {
  it('carries metadata, top_k, output_config, service_tier, system turns, documents and block order', () => {
    const request = anthropicMessagesRequestSchema.parse({
      model: 'm',
      max_tokens: 10,
      top_k: 5,
      metadata: { user_id: 'user-42' },
      output_config: { effort: 'low', format: { type: 'json_schema', schema: { type: 'object' } } },
      service_tier: 'standard_only',
      system: [
        { type: 'text', text: 'one' },
        { type: 'text', text: 'two' },
      ],
      tools: [{ name: 'f', input_schema: { type: 'object' }, strict: true }],
      messages: [
        { role: 'system', content: 'mid-conversation instruction' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'read this' },
            {
              type: 'document',
              source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' },
              title: 'a.pdf',
            },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'before' },
            { type: 'tool_result', tool_use_id: 't1', content: 'done', is_error: true },
            { type: 'text', text: 'after' },
          ],
        },
      ],
    });
    expect(translateAnthropicRequest(request).request).toEqual({
      model: 'm',
      max_tokens: 10,
      top_k: 5,
      safety_identifier: 'user-42',
      response_format: { type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object' } } },
      reasoning_effort: 'low',
      service_tier: 'default',
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' }, strict: true } }],
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: 'one' },
            { type: 'text', text: 'two' },
          ],
        },
        { role: 'system', content: 'mid-conversation instruction' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'read this' },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE', filename: 'a.pdf' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'user', content: 'before' },
        { role: 'tool', tool_call_id: 't1', content: 'Error: done' },
        { role: 'user', content: 'after' },
      ],
    });
  });

  it('names the client field in errors about the unified request', () => {
    const translation = translateAnthropicRequest(
      anthropicMessagesRequestSchema.parse({
        ...base,
        metadata: { user_id: 'u' },
        system: 'be brief',
        tools: [{ name: 'f', input_schema: { type: 'object' } }],
        messages: [
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'a' },
              { type: 'tool_use', id: 't', name: 'f', input: {} },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 't', content: 'r' },
              { type: 'text', text: 'x' },
              { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
            ],
          },
        ],
      }),
    );
    const path = translation.clientPath;
    expect(path('safety_identifier')).toBe('metadata.user_id');
    expect(path('stop')).toBe('stop_sequences');
    expect(path('parallel_tool_calls')).toBe('tool_choice.disable_parallel_tool_use');
    expect(path('tools[0].function.strict')).toBe('tools[0].strict');
    expect(path('tools[0].function.parameters.type')).toBe('tools[0].input_schema.type');
    expect(path('top_k')).toBe('top_k');
    // Unified messages: system, user, assistant, tool, user(parts).
    expect(path('messages[0].content')).toBe('system');
    expect(path('messages[2].tool_calls[0].function.arguments')).toBe('messages[1].content[1]');
    expect(path('messages[3].content')).toBe('messages[2].content[0]');
    expect(path('messages[4].content[1].image_url.url')).toBe('messages[2].content[2]');

    const refused = new RoutingError('LLM_EDGE_REQUEST_REJECTED', 'rejected', {
      status: 400,
      param: 'safety_identifier',
      publicMessage: 'safety_identifier: is not supported by the Gemini API',
    });
    const mapped = translation.clientError(refused) as RoutingError;
    expect(RoutingError.isInstance(mapped)).toBe(true);
    expect(mapped).toMatchObject({
      code: 'LLM_EDGE_REQUEST_REJECTED',
      status: 400,
      param: 'metadata.user_id',
    });
    expect(mapped.publicMessage).toBe(
      'metadata.user_id (sent to the target as safety_identifier): safety_identifier: is not supported by the Gemini API',
    );
    expect(mapped.cause).toBe(refused);
    const same = new RoutingError('LLM_EDGE_REQUEST_REJECTED', 'x', { param: 'top_k' });
    expect(translation.clientError(same)).toBe(same);

    const invalid = new RequestValidationError('LLM_EDGE_INVALID_REQUEST', [
      { path: 'messages[4].content[1].image_url.url', message: 'bad image' },
    ]);
    const renamed = translation.clientError(invalid) as RequestValidationError;
    expect(renamed.issues).toEqual([{ path: 'messages[2].content[2]', message: 'bad image' }]);
    expect(renamed.message).toContain('messages[2].content[2]: bad image');
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

  it('reports input tokens at message_start when the first chunk carries usage, and streams refusals as text', () => {
    const t = new AnthropicStreamTranslator('m');
    const events = [
      ...t.push({
        ...chunk({ refusal: 'I cannot help with that.' }),
        usage: { prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 },
      }),
      ...t.push(chunk({}, 'content_filter')),
      ...t.end(),
    ];
    expect(events[0]?.data).toMatchObject({ message: { usage: { input_tokens: 9, output_tokens: 0 } } });
    expect(events.find((e) => e.event === 'content_block_delta')?.data).toMatchObject({
      delta: { type: 'text_delta', text: 'I cannot help with that.' },
    });
    expect(events.find((e) => e.event === 'message_delta')?.data).toMatchObject({
      delta: { stop_reason: 'refusal', stop_sequence: null },
    });
  });
});
