import { describe, expect, it } from 'vitest';
import { chatResponseSchema } from './chat-schemas';
import { ProviderError } from './errors';
import { fromOpenAIResponse, isPlainChatResponse } from './from-openai-response';
import { upstreamJsonText } from './upstream-json-text';

const now = () => 1_700_000_000_000;

function answer(): Record<string, unknown> {
  return {
    id: 'c1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop', logprobs: null },
    ],
    usage: {
      prompt_tokens: 3,
      completion_tokens: 1,
      total_tokens: 4,
      prompt_tokens_details: { cached_tokens: 0 },
    },
  };
}

/** A valid answer that the structural check leaves to the schema. */
function toolCallAnswer(): Record<string, unknown> {
  const body = answer();
  body['choices'] = [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    },
  ];
  return body;
}

function rejection(body: unknown): ProviderError {
  try {
    fromOpenAIResponse('openai', body, now);
  } catch (error) {
    if (ProviderError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ProviderError');
}

describe('fromOpenAIResponse', () => {
  it('returns the upstream object itself, provider-specific fields kept', () => {
    const body = { ...answer(), x_extra: { kept: true } };
    expect(fromOpenAIResponse('openai', body, now)).toBe(body);
    expect(body.x_extra).toEqual({ kept: true });
  });

  it('fills the fields compatible servers leave out', () => {
    const body: Record<string, unknown> = {
      id: 'c1',
      model: 'm',
      choices: [{ message: { role: 'assistant' } }],
      usage: null,
    };
    const response = fromOpenAIResponse('local', body, now);
    expect(response).toEqual({
      id: 'c1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'm',
      choices: [
        { index: 0, message: { role: 'assistant', content: null }, finish_reason: null, logprobs: null },
      ],
    });
  });

  it('accepts valid answers the structural check leaves to the schema (tool calls)', () => {
    const body = toolCallAnswer();
    expect(isPlainChatResponse(body)).toBe(false);
    expect(fromOpenAIResponse('openai', body, now)).toBe(body);
  });

  const malformed: [string, (body: Record<string, unknown>) => void, string][] = [
    ['id not a string', (b) => (b['id'] = 7), 'id'],
    ['created not an integer', (b) => (b['created'] = 1.5), 'created'],
    ['choices not an array', (b) => (b['choices'] = {}), 'choices'],
    [
      'unknown finish reason',
      (b) => ((b['choices'] as Record<string, unknown>[])[0]!['finish_reason'] = 'done'),
      'choices[0].finish_reason',
    ],
    [
      'message role not assistant',
      (b) => ((b['choices'] as Record<string, Record<string, unknown>>[])[0]!['message']!['role'] = 'user'),
      'choices[0].message.role',
    ],
    [
      'negative token count',
      (b) => ((b['usage'] as Record<string, unknown>)['prompt_tokens'] = -1),
      'usage.prompt_tokens',
    ],
    [
      'token details not an object',
      (b) => ((b['usage'] as Record<string, unknown>)['prompt_tokens_details'] = null),
      'usage.prompt_tokens_details',
    ],
  ];

  for (const [name, spoil, path] of malformed) {
    it(`a malformed answer (${name}) is kind server naming ${path}, as the schema says`, () => {
      const body = answer();
      spoil(body);
      expect(isPlainChatResponse(body)).toBe(false);
      expect(chatResponseSchema.safeParse(body).success).toBe(false);
      const error = rejection(body);
      expect({ kind: error.kind, provider: error.provider }).toEqual({ kind: 'server', provider: 'openai' });
      expect(error.message).toContain('sent a malformed chat completion');
      expect(error.message).toContain(path);
      expect(error.issues?.[0]?.path).toBe(path);
    });
  }

  it('a body that is not an object is kind server', () => {
    expect(rejection('nope').kind).toBe('server');
    expect(rejection(null).kind).toBe('server');
  });

  it('never accepts what the schema refuses', () => {
    const spoilers: ((b: Record<string, unknown>) => void)[] = [
      (b) => (b['system_fingerprint'] = 1),
      (b) => (b['service_tier'] = {}),
      (b) => (b['model'] = null),
      (b) => ((b['usage'] as Record<string, unknown>)['total_tokens'] = '4'),
      (b) =>
        ((b['usage'] as Record<string, unknown>)['completion_tokens_details'] = { reasoning_tokens: 0.5 }),
      (b) => ((b['choices'] as Record<string, Record<string, unknown>>[])[0]!['message']!['refusal'] = 3),
      (b) => ((b['choices'] as Record<string, Record<string, unknown>>[])[0]!['message']!['content'] = 3),
      (b) => ((b['choices'] as Record<string, unknown>[])[0]!['index'] = -1),
      (b) => (b['choices'] = [null]),
    ];
    for (const spoil of spoilers) {
      const body = answer();
      spoil(body);
      expect(isPlainChatResponse(body)).toBe(false);
      expect(chatResponseSchema.safeParse(body).success).toBe(false);
    }
    expect(isPlainChatResponse(answer())).toBe(true);
    expect(chatResponseSchema.safeParse(answer()).success).toBe(true);
  });

  describe('the upstream text of an answer', () => {
    it('is kept for an answer that needed nothing filled in, on either check', () => {
      const plain = answer();
      const text = `${JSON.stringify(plain, null, 2)}\n`;
      expect(upstreamJsonText(fromOpenAIResponse('openai', plain, now, text))).toBe(text);

      const withTools = toolCallAnswer();
      expect(isPlainChatResponse(withTools)).toBe(false);
      const toolsText = JSON.stringify(withTools);
      expect(upstreamJsonText(fromOpenAIResponse('openai', withTools, now, toolsText))).toBe(toolsText);
    });

    const fills: [string, (body: Record<string, unknown>) => void][] = [
      ['object missing', (b) => delete b['object']],
      ['created null', (b) => (b['created'] = null)],
      ['choice index missing', (b) => delete (b['choices'] as Record<string, unknown>[])[0]!['index']],
      ['logprobs missing', (b) => delete (b['choices'] as Record<string, unknown>[])[0]!['logprobs']],
      [
        'finish_reason missing',
        (b) => delete (b['choices'] as Record<string, unknown>[])[0]!['finish_reason'],
      ],
      [
        'content missing',
        (b) => delete (b['choices'] as Record<string, Record<string, unknown>>[])[0]!['message']!['content'],
      ],
      ['usage null', (b) => (b['usage'] = null)],
    ];
    for (const [name, spoil] of fills) {
      it(`is not kept when a field was filled in (${name}), since the text no longer matches`, () => {
        const body = answer();
        spoil(body);
        const response = fromOpenAIResponse('local', body, now, JSON.stringify(body));
        expect(upstreamJsonText(response)).toBeUndefined();
        expect(isPlainChatResponse(response as unknown as Record<string, unknown>)).toBe(true);
      });
    }

    it('keeps explicit nulls as they came (they need no filling)', () => {
      const body = answer();
      const choice = (body['choices'] as Record<string, unknown>[])[0]!;
      choice['finish_reason'] = null;
      (choice['message'] as Record<string, unknown>)['content'] = null;
      const text = JSON.stringify(body);
      expect(upstreamJsonText(fromOpenAIResponse('openai', body, now, text))).toBe(text);
    });

    it('is not kept without a text, nor for a rejected answer', () => {
      expect(upstreamJsonText(fromOpenAIResponse('openai', answer(), now))).toBeUndefined();
      const spoiled = { ...answer(), id: 7 };
      expect(() => fromOpenAIResponse('openai', spoiled, now, JSON.stringify(spoiled))).toThrow(
        ProviderError,
      );
      expect(upstreamJsonText(spoiled)).toBeUndefined();
    });
  });
});
