import { afterAll, describe, expect, it } from 'vitest';
import { createAnthropicProvider } from './anthropic-provider';
import type { ChatRequest } from './chat-schemas';
import { ProviderError } from './errors';
import { createGeminiProvider } from './gemini-provider';
import { parseChatRequest } from './parse-request';
import { toAnthropicRequest } from './to-anthropic-request';
import { toGeminiRequest } from './to-gemini-request';
import { toOpenAIRequest } from './to-openai-request';

const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const req = (extra: Record<string, unknown>): ChatRequest => parseChatRequest({ ...base, ...extra });
const anthropic = (r: ChatRequest) =>
  toAnthropicRequest(r, false, { provider: 'anthropic', defaultMaxTokens: 1024 });
const gemini = (r: ChatRequest) => toGeminiRequest(r, 'gemini');

function rejection(fn: () => unknown): {
  kind: string;
  param: string | undefined;
  status: number | undefined;
} {
  try {
    fn();
  } catch (e) {
    if (ProviderError.isInstance(e)) return { kind: e.kind, param: e.param, status: e.status };
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('Anthropic translation refuses what it cannot honour as unsupported, naming the field', () => {
  it.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ temperature: 1.5 }, 'temperature'],
    [{ presence_penalty: 0.5 }, 'presence_penalty'],
    [{ frequency_penalty: -1 }, 'frequency_penalty'],
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [{ seed: 3 }, 'seed'],
    [{ top_k: 40 }, 'top_k'],
    [{ response_format: { type: 'json_object' } }, 'response_format.type'],
    [{ reasoning_effort: 'minimal' }, 'reasoning_effort'],
    [{ store: true }, 'store'],
    [{ verbosity: 'low' }, 'verbosity'],
    [{ messages: [{ role: 'user', content: 'x', name: 'bob' }] }, 'messages[0].name'],
    [
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'high' } }],
          },
        ],
      },
      'messages[0].content[0].image_url.detail',
    ],
    [
      {
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AA' } }] },
        ],
      },
      'messages[0].content[0].image_url.url',
    ],
    [
      {
        messages: [
          { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }] },
        ],
      },
      'messages[0].content[0]',
    ],
    [
      {
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{bad' } }],
          },
        ],
      },
      'messages[1].tool_calls[0].function.arguments',
    ],
  ])('%j → %s', (extra, param) => {
    const r = rejection(() => anthropic(req(extra)));
    expect(r).toEqual({ kind: 'unsupported', param, status: 400 });
  });

  it.each([
    [{ max_tokens: 10, max_completion_tokens: 20 }, 'max_completion_tokens'],
    [
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] },
      'messages[0].content[0].image_url.url',
    ],
  ])('an invalid request %j is bad_request (%s), not unsupported', (extra, param) => {
    expect(rejection(() => anthropic(req(extra)))).toEqual({ kind: 'bad_request', param, status: 400 });
  });

  it('accepts neutral values of unsupported knobs and applies the default max_tokens', () => {
    const body = anthropic(
      req({ n: 1, presence_penalty: 0, frequency_penalty: 0, logprobs: false, store: false }),
    );
    expect(body).toEqual({
      model: 'm',
      max_tokens: 1024,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
  });

  it('maps tool_choice variants, reasoning effort and service tier', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    expect(anthropic(req({ tools, tool_choice: 'auto' }))['tool_choice']).toEqual({ type: 'auto' });
    expect(anthropic(req({ tools, tool_choice: 'none', parallel_tool_calls: false }))['tool_choice']).toEqual(
      { type: 'none' },
    );
    expect(
      anthropic(req({ tools, tool_choice: { type: 'function', function: { name: 'f' } } }))['tool_choice'],
    ).toEqual({
      type: 'tool',
      name: 'f',
    });
    expect(anthropic(req({ reasoning_effort: 'high' }))['output_config']).toEqual({ effort: 'high' });
    expect(anthropic(req({ service_tier: 'default' }))['service_tier']).toBe('standard_only');
  });

  it('turns a PDF file part into a document block', () => {
    const body = anthropic(
      req({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER', filename: 'a.pdf' } },
            ],
          },
        ],
      }),
    );
    expect(body['messages']).toEqual([
      {
        role: 'user',
        content: [
          {
            type: 'document',
            source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' },
            title: 'a.pdf',
          },
        ],
      },
    ]);
  });
});

describe('Gemini translation refuses what it cannot honour as unsupported, naming the field', () => {
  it.each([
    [{ logprobs: true }, 'logprobs'],
    [{ user: 'u1' }, 'user'],
    [{ parallel_tool_calls: false }, 'parallel_tool_calls'],
    [{ stop: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'stop'],
    [{ reasoning_effort: 'low' }, 'reasoning_effort'],
    [{ service_tier: 'auto' }, 'service_tier'],
    [{ repetition_penalty: 1.1 }, 'repetition_penalty'],
    [
      {
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
      },
      'messages[0].content[0].image_url.url',
    ],
    [{ tools: [{ type: 'function', function: { name: 'f', strict: true } }] }, 'tools[0].function.strict'],
  ])('%j → %s', (extra, param) => {
    const r = rejection(() => gemini(req(extra)));
    expect(r).toEqual({ kind: 'unsupported', param, status: 400 });
  });

  it.each([
    [{ max_tokens: 10, max_completion_tokens: 20 }, 'max_completion_tokens'],
    [
      {
        messages: [
          { role: 'user', content: 'x' },
          { role: 'tool', tool_call_id: 'nope', content: 'r' },
        ],
      },
      'messages[1].tool_call_id',
    ],
  ])('an invalid request %j is bad_request (%s), not unsupported', (extra, param) => {
    expect(rejection(() => gemini(req(extra)))).toEqual({ kind: 'bad_request', param, status: 400 });
  });

  it('maps tool_choice modes', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    expect(gemini(req({ tools, tool_choice: 'none' }))['toolConfig']).toEqual({
      functionCallingConfig: { mode: 'NONE' },
    });
    expect(gemini(req({ tools, tool_choice: 'required' }))['toolConfig']).toEqual({
      functionCallingConfig: { mode: 'ANY' },
    });
    expect(gemini(req({ tools, tool_choice: 'auto' }))['toolConfig']).toEqual({
      functionCallingConfig: { mode: 'AUTO' },
    });
  });

  it('maps json_schema to responseJsonSchema', () => {
    const body = gemini(
      req({
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      }),
    );
    expect(body['generationConfig']).toEqual({
      responseMimeType: 'application/json',
      responseJsonSchema: { type: 'object' },
    });
  });
});

describe('OpenAI-family translation', () => {
  it('forwards unknown top-level fields and forces the usage chunk on streams', () => {
    const body = toOpenAIRequest(req({ top_k: 40, stream_options: { include_obfuscation: false } }), true);
    expect(body).toEqual({
      ...base,
      top_k: 40,
      stream: true,
      stream_options: { include_obfuscation: false, include_usage: true },
    });
  });

  it('drops stream fields on non-stream calls and renames max tokens per quirk', () => {
    expect(toOpenAIRequest(req({ stream: true, stream_options: { include_usage: true } }), false)).toEqual(
      base,
    );
    expect(
      toOpenAIRequest(req({ max_completion_tokens: 9 }), false, { maxTokensField: 'max_tokens' }),
    ).toEqual({
      ...base,
      max_tokens: 9,
    });
    expect(
      toOpenAIRequest(req({ max_tokens: 9 }), false, { maxTokensField: 'max_completion_tokens' }),
    ).toEqual({
      ...base,
      max_completion_tokens: 9,
    });
    expect(toOpenAIRequest(req({}), true, { streamOptions: false })).toEqual({ ...base, stream: true });
  });
});

describe('check…Request answers what chat and embeddings would refuse, without I/O', () => {
  // Port 9 (discard) on loopback: any attempt to send would fail as a network error, not answer.
  const gemini = createGeminiProvider({ apiKey: 'k', baseURL: 'http://127.0.0.1:9' });
  const claude = createAnthropicProvider({ apiKey: 'k', baseURL: 'http://127.0.0.1:9' });
  afterAll(() => Promise.all([gemini.close(), claude.close()]));

  it('returns the unsupported error naming the field, or undefined', () => {
    const seeded = req({ seed: 7 });
    expect(claude.checkChatRequest(seeded)).toMatchObject({ kind: 'unsupported', param: 'seed' });
    expect(gemini.checkChatRequest(seeded)).toBeUndefined();
    expect(gemini.checkChatRequest(req({ user: 'u1' }))).toMatchObject({
      kind: 'unsupported',
      param: 'user',
    });
    expect(claude.checkChatRequest(req({ user: 'u1' }))).toBeUndefined();
    expect(gemini.checkEmbeddingsRequest({ model: 'text-embedding-004', input: [[1, 2]] })).toMatchObject({
      kind: 'unsupported',
      param: 'input[0]',
    });
    expect(gemini.checkEmbeddingsRequest({ model: 'text-embedding-004', input: 'x' })).toBeUndefined();
  });

  it('passes invalid requests through as bad_request', () => {
    expect(claude.checkChatRequest(req({ max_tokens: 1, max_completion_tokens: 2 }))?.kind).toBe(
      'bad_request',
    );
  });
});
