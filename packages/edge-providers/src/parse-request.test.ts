import { describe, expect, it } from 'vitest';
import { ProviderError } from './errors';
import { parseChatRequest, parseEmbeddingsRequest } from './parse-request';

function issuesOf(body: unknown) {
  try {
    parseChatRequest(body);
  } catch (e) {
    if (ProviderError.isInstance(e))
      return { kind: e.kind, param: e.param, issues: e.issues, message: e.message };
    throw e;
  }
  throw new Error('expected a validation error');
}

describe('parseChatRequest', () => {
  it('accepts a full request and keeps unknown top-level fields', () => {
    const req = parseChatRequest({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'auto' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
      ],
      tools: [{ type: 'function', function: { name: 'look', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'look' } },
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      temperature: 0.2,
      stream: true,
      stream_options: { include_usage: true },
      top_k: 40,
    });
    expect(req.model).toBe('gpt-4o-mini');
    expect(req['top_k']).toBe(40);
  });

  it('names the JSON path of a bad field inside a content part', () => {
    const r = issuesOf({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 7 } }] }],
    });
    expect(r.kind).toBe('bad_request');
    expect(r.param).toBe('messages[0].content[0].image_url.url');
    expect(r.message).toContain('messages[0].content[0].image_url.url');
  });

  it('reports unknown nested fields by path', () => {
    const r = issuesOf({ model: 'm', messages: [{ role: 'user', content: 'hi', colour: 'red' }] });
    expect(r.issues).toEqual([{ path: 'messages[0].colour', message: 'unknown field' }]);
  });

  it('reports a bad role and missing required fields', () => {
    expect(issuesOf({ model: 'm', messages: [{ role: 'robot', content: 'x' }] }).param).toBe(
      'messages[0].role',
    );
    expect(issuesOf({ messages: [{ role: 'user', content: 'x' }] }).param).toBe('model');
    expect(issuesOf({ model: 'm', messages: [] }).param).toBe('messages');
    expect(issuesOf(null).param).toBe('$');
  });

  it('checks ranges and cross-field rules', () => {
    expect(issuesOf({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }).param).toBe(
      'temperature',
    );
    expect(issuesOf({ model: 'm', messages: [{ role: 'user', content: 'x' }], top_logprobs: 2 }).param).toBe(
      'top_logprobs',
    );
    expect(
      issuesOf({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        tool_choice: { type: 'function', function: { name: 'nope' } },
      }).param,
    ).toBe('tool_choice.function.name');
  });
});

describe('parseEmbeddingsRequest', () => {
  it('accepts strings and token arrays, rejects unknown fields', () => {
    expect(parseEmbeddingsRequest({ model: 'e', input: ['a', 'b'] }).input).toEqual(['a', 'b']);
    expect(parseEmbeddingsRequest({ model: 'e', input: [[1, 2]] }).input).toEqual([[1, 2]]);
    expect(() => parseEmbeddingsRequest({ model: 'e', input: 'a', extra: 1 })).toThrow(
      /extra: unknown field/,
    );
  });
});
