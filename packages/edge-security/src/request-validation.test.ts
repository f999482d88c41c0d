import type { ChatRequest } from '@llm-edge/providers';
import { describe, expect, it } from 'vitest';
import { RequestValidationError, SecurityOptionsError } from './errors';
import { RequestValidator, validateChatRequest } from './request-validation';
import {
  countTextTokens,
  estimateChatTokens,
  estimateEmbeddingsTokens,
  usageTotalTokens,
} from './token-estimate';

const small = { contextWindow: 1_000, maxOutputTokens: 300 };
const validator = new RequestValidator({ resolveModel: (m) => (m === 'small-model' ? small : undefined) });

function refusal(fn: () => unknown): RequestValidationError {
  try {
    fn();
  } catch (error) {
    if (RequestValidationError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a RequestValidationError');
}

const base = (extra: Record<string, unknown> = {}) => ({
  model: 'small-model',
  messages: [{ role: 'user', content: 'Hello' }],
  ...extra,
});

describe('RequestValidator: schema and ranges', () => {
  it('accepts a valid request and returns a token estimate', () => {
    const result = validator.validateChat(base({ max_tokens: 100, n: 2 }));
    expect(result.request.model).toBe('small-model');
    expect(result.model).toEqual(small);
    expect(result.tokens.outputTokens).toBe(200);
    expect(result.tokens.promptTokens).toBeGreaterThan(3);
    expect(result.bodyBytes).toBe(Buffer.byteLength(JSON.stringify(base({ max_tokens: 100, n: 2 }))));
  });

  it.each([
    [base({ temperature: 2.5 }), 'temperature'],
    [base({ temperature: -0.1 }), 'temperature'],
    [base({ top_p: 1.5 }), 'top_p'],
    [base({ n: 0 }), 'n'],
    [base({ n: 17 }), 'n'],
    [base({ max_tokens: 0 }), 'max_tokens'],
    [base({ max_tokens: 'many' }), 'max_tokens'],
    [base({ presence_penalty: 3 }), 'presence_penalty'],
    [{ messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [base({ messages: [] }), 'messages'],
    [base({ messages: [{ role: 'robot', content: 'x' }] }), 'messages[0].role'],
    [base({ messages: [{ role: 'user', content: 42 }] }), 'messages[0].content'],
    [base({ messages: [{ role: 'user', content: 'x', extra: 1 }] }), 'messages[0].extra'],
    [base({ stream_options: { include_usage: true } }), 'stream_options'],
    [base({ tool_choice: 'required' }), 'tool_choice'],
  ])('names the bad field (%#: %s)', (body, field) => {
    const error = refusal(() => validator.validateChat(body));
    expect(error.status).toBe(400);
    expect(error.code).toBe('LLM_EDGE_INVALID_REQUEST');
    expect(error.param).toBe(field);
    expect(error.issues[0]!.path).toBe(field);
    expect(error.message).toContain(field);
  });

  it('refuses a non-object body', () => {
    expect(refusal(() => validator.validateChat('hello')).param).toBe('$');
    expect(refusal(() => validator.validateChat(null)).code).toBe('LLM_EDGE_INVALID_REQUEST');
  });
});

describe('RequestValidator: model limits', () => {
  it('refuses max_tokens above the model output limit', () => {
    const error = refusal(() => validator.validateChat(base({ max_tokens: 301 })));
    expect(error).toMatchObject({ code: 'LLM_EDGE_INVALID_REQUEST', param: 'max_tokens' });
    const completion = refusal(() => validator.validateChat(base({ max_completion_tokens: 500 })));
    expect(completion.param).toBe('max_completion_tokens');
  });

  it('refuses a prompt plus max_tokens beyond the context window', () => {
    const long = 'word '.repeat(900);
    expect(
      validator.validateChat(base({ messages: [{ role: 'user', content: long }] })).tokens.promptTokens,
    ).toBeLessThan(1_000);
    const error = refusal(() =>
      validator.validateChat(base({ max_tokens: 300, messages: [{ role: 'user', content: long }] })),
    );
    expect(error).toMatchObject({ status: 400, code: 'LLM_EDGE_CONTEXT_LENGTH_EXCEEDED', param: 'messages' });
    const huge = refusal(() =>
      validator.validateChat(base({ messages: [{ role: 'user', content: 'word '.repeat(2_000) }] })),
    );
    expect(huge.code).toBe('LLM_EDGE_CONTEXT_LENGTH_EXCEEDED');
  });

  it('uses limits given per call (a resolved alias) over the resolver', () => {
    const error = refusal(() =>
      validator.validateChat(base({ model: 'alias', max_tokens: 50 }), { model: { maxOutputTokens: 10 } }),
    );
    expect(error.param).toBe('max_tokens');
    expect(
      validator.validateChat(base({ model: 'unknown-model', max_tokens: 1_000_000 })).model,
    ).toBeUndefined();
  });

  it('reads the providers model catalogue by default', () => {
    const defaults = new RequestValidator();
    expect(defaults.validateChat(base({ model: 'gpt-4o-mini' })).model).toMatchObject({
      contextWindow: 128_000,
      maxOutputTokens: 16_384,
    });
    expect(refusal(() => validateChatRequest(base({ model: 'gpt-4o-mini', max_tokens: 20_000 }))).param).toBe(
      'max_tokens',
    );
    expect(
      validateChatRequest(base({ model: 'my-local-model', max_tokens: 1_000_000 })).model,
    ).toBeUndefined();
  });
});

describe('RequestValidator: the token estimate is lazy', () => {
  function counting() {
    const texts: string[] = [];
    const countTokens = (text: string) => {
      texts.push(text);
      return countTextTokens(text);
    };
    return { texts, countTokens };
  }

  it('does not tokenize when no context window applies, then once on first read', () => {
    const { texts, countTokens } = counting();
    const v = new RequestValidator({ resolveModel: () => undefined, countTokens });
    const result = v.validateChat(base({ max_tokens: 50 }));
    expect(texts).toEqual([]);
    const eager = estimateChatTokens(result.request, { countTokens: countTextTokens });
    expect(result.tokens).toEqual({
      ...eager,
      outputTokens: 50,
      outputTokensPerChoice: 50,
      totalTokens: eager.promptTokens + 50,
    });
    expect(texts).toEqual(['Hello']);
    expect(result.tokens).toBe(result.tokens);
    expect(texts).toHaveLength(1);
    // Spreading or serialising the result still shows the estimate.
    expect({ ...result }.tokens).toEqual(result.tokens);
  });

  it('tokenizes during validation when the context-window check needs it, and only then', () => {
    const { texts, countTokens } = counting();
    const v = new RequestValidator({ resolveModel: () => small, countTokens });
    const result = v.validateChat(base({ max_tokens: 50 }));
    expect(texts).toEqual(['Hello']);
    expect(result.tokens.totalTokens).toBeGreaterThan(50);
    expect(texts).toHaveLength(1);
    expect(
      refusal(() =>
        v.validateChat(base({ max_tokens: 300, messages: [{ role: 'user', content: 'word '.repeat(800) }] })),
      ).code,
    ).toBe('LLM_EDGE_CONTEXT_LENGTH_EXCEEDED');
  });

  it('counts embeddings inputs only when read', () => {
    const { texts, countTokens } = counting();
    const v = new RequestValidator({ countTokens });
    const result = v.validateEmbeddings({ model: 'text-embedding-3-small', input: ['a b', 'c'] });
    expect(texts).toEqual([]);
    expect(result.tokens).toBe(estimateEmbeddingsTokens(result.request, countTextTokens));
    expect(texts.length).toBeGreaterThan(0);
  });
});

describe('RequestValidator: message structure', () => {
  const call = (id: string) => ({ id, type: 'function', function: { name: 'f', arguments: '{}' } });

  it('accepts tool results that answer the preceding tool calls', () => {
    const body = base({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, tool_calls: [call('a'), call('b')] },
        { role: 'tool', tool_call_id: 'b', content: '2' },
        { role: 'tool', tool_call_id: 'a', content: '1' },
        { role: 'assistant', content: 'done' },
      ],
    });
    expect(validator.validateChat(body).request.messages).toHaveLength(5);
  });

  it.each([
    [[{ role: 'tool', tool_call_id: 'x', content: '1' }], 'messages[0].tool_call_id'],
    [
      [
        { role: 'assistant', content: null, tool_calls: [call('a')] },
        { role: 'tool', tool_call_id: 'zzz', content: '1' },
      ],
      'messages[1].tool_call_id',
    ],
    [
      [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, tool_calls: [call('a'), call('b')] },
        { role: 'tool', tool_call_id: 'a', content: '1' },
        { role: 'user', content: 'next' },
      ],
      'messages[1].tool_calls[1].id',
    ],
    [
      [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, tool_calls: [call('a'), call('a')] },
      ],
      'messages[1].tool_calls[1].id',
    ],
    [
      [
        { role: 'assistant', content: null, tool_calls: [call('a')] },
        { role: 'tool', tool_call_id: 'a', content: '1' },
        { role: 'tool', tool_call_id: 'a', content: '1' },
      ],
      'messages[2].tool_call_id',
    ],
    [
      [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: null },
      ],
      'messages[1].content',
    ],
  ])('refuses a broken conversation (%#)', (messages, field) => {
    const error = refusal(() => validator.validateChat(base({ messages })));
    expect(error.code).toBe('LLM_EDGE_INVALID_REQUEST');
    expect(error.issues.map((i) => i.path)).toContain(field);
  });

  it('says which tool result is unmatched, answered twice, or missing', () => {
    const error = refusal(() =>
      validator.validateChat(
        base({
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: null, tool_calls: [call('a'), call('b')] },
            { role: 'tool', tool_call_id: 'a', content: '1' },
            { role: 'tool', tool_call_id: 'a', content: '1' },
            { role: 'tool', tool_call_id: 'c', content: '1' },
            { role: 'user', content: 'next' },
            { role: 'tool', tool_call_id: 'b', content: '2' },
          ],
        }),
      ),
    );
    expect(error.issues).toEqual([
      { path: 'messages[3].tool_call_id', message: 'answers a tool call that was already answered' },
      {
        path: 'messages[4].tool_call_id',
        message: 'does not match a tool call of the preceding assistant message',
      },
      {
        path: 'messages[1].tool_calls[1].id',
        message: 'has no tool message answering it before the next message',
      },
      {
        path: 'messages[6].tool_call_id',
        message: 'does not match a tool call of the preceding assistant message',
      },
    ]);
  });
});

describe('RequestValidator: size limits', () => {
  const tight = new RequestValidator({
    maxBodyBytes: 2_000,
    maxMessages: 3,
    maxTotalChars: 100,
    maxTools: 1,
    maxN: 2,
  });

  it('answers 413 for an oversized body, by the given or measured size', () => {
    const error = refusal(() => tight.validateChat(base(), { bodyBytes: 2_001 }));
    expect(error).toMatchObject({
      status: 413,
      code: 'LLM_EDGE_REQUEST_TOO_LARGE',
      type: 'request_too_large',
      param: '$',
    });
    const measured = refusal(() => tight.validateChat(base({ user: 'x'.repeat(2_100) })));
    expect(measured.status).toBe(413);
  });

  it('limits messages, characters, tools and n, naming each', () => {
    const messages = Array.from({ length: 4 }, () => ({ role: 'user', content: 'x'.repeat(30) }));
    const tools = ['a', 'b'].map((name) => ({ type: 'function', function: { name } }));
    const error = refusal(() => tight.validateChat(base({ messages, tools, n: 3 })));
    expect(error.issues.map((i) => i.path).sort()).toEqual(['messages', 'messages', 'n', 'tools']);
  });

  it('rejects bad options naming the field', () => {
    expect(() => new RequestValidator({ maxMessages: 0 })).toThrow(SecurityOptionsError);
    expect(() => new RequestValidator({ maxBodyBytes: 1.5 })).toThrow(/maxBodyBytes/);
  });

  it('validates embeddings', () => {
    const ok = tight.validateEmbeddings({ model: 'text-embedding-3-small', input: ['hello', 'world'] });
    expect(ok.tokens).toBeGreaterThanOrEqual(2);
    expect(refusal(() => tight.validateEmbeddings({ model: 'e', input: 'x'.repeat(101) })).param).toBe(
      'input',
    );
    expect(refusal(() => tight.validateEmbeddings({ model: 'e', input: [] })).param).toBe('input');
  });
});

describe('token estimate', () => {
  const request: ChatRequest = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Describe' },
          { type: 'image_url', image_url: { url: 'https://x.test/i.png', detail: 'low' } },
        ],
      },
    ],
  };

  it('counts text with per-message overhead, images, and the output allowance', () => {
    const text = countTextTokens('You are terse.\nDescribe');
    const estimate = estimateChatTokens(request);
    expect(estimate.promptTokens).toBe(text + 3 + 3 * 2 + 85);
    expect(estimate.outputTokens).toBe(1024);
    expect(estimateChatTokens(request, { maxOutputTokens: 100 }).outputTokens).toBe(100);
    expect(estimateChatTokens({ ...request, max_tokens: 7, n: 3 }).outputTokens).toBe(21);
    expect(estimateChatTokens(request, { countTokens: (t) => t.length }).promptTokens).toBe(
      'You are terse.\nDescribe'.length + 3 + 6 + 85,
    );
  });

  it('treats special-token text as ordinary text', () => {
    expect(countTextTokens('hello <|endoftext|> world')).toBeGreaterThan(3);
  });

  it('estimates long texts without tokenizing all of them', () => {
    const long = 'abc '.repeat(100_000);
    expect(countTextTokens(long)).toBeGreaterThan(100_000);
  });

  it('counts embeddings inputs and usage totals', () => {
    expect(estimateEmbeddingsTokens({ model: 'e', input: [1, 2, 3] })).toBe(3);
    expect(estimateEmbeddingsTokens({ model: 'e', input: [[1, 2], [3]] })).toBe(3);
    expect(estimateEmbeddingsTokens({ model: 'e', input: 'hello world' })).toBe(2);
    expect(usageTotalTokens({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })).toBe(15);
    expect(usageTotalTokens({ prompt_tokens: 10, completion_tokens: 5 })).toBe(15);
  });
});
