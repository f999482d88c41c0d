import { describe, expect, it } from 'vitest';
import { embeddingsResponseSchema } from './chat-schemas';
import { ProviderError } from './errors';
import { fromOpenAIEmbeddings, isPlainEmbeddingsResponse } from './from-openai-embeddings';
import { upstreamJsonText } from './upstream-json-text';

function answer(): Record<string, unknown> {
  return {
    object: 'list',
    model: 'text-embedding-3-small',
    data: [
      { object: 'embedding', index: 0, embedding: [0.25, -0.5, 1e-7] },
      { object: 'embedding', index: 1, embedding: 'AACAPwAAAEA=' },
    ],
    usage: { prompt_tokens: 4, total_tokens: 4 },
  };
}

function rejection(body: unknown): ProviderError {
  try {
    fromOpenAIEmbeddings('openai', body);
  } catch (error) {
    if (ProviderError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ProviderError');
}

describe('fromOpenAIEmbeddings', () => {
  it('returns the upstream object itself, with its text and the fields the schema does not name', () => {
    const body = { ...answer(), id: 'emb-1', x_extra: { kept: true } };
    const text = JSON.stringify(body, null, 1);
    const response = fromOpenAIEmbeddings('openai', body, text);
    expect(response).toBe(body);
    expect(upstreamJsonText(response)).toBe(text);
    expect(body.x_extra).toEqual({ kept: true });
  });

  it('keeps no text without one', () => {
    expect(upstreamJsonText(fromOpenAIEmbeddings('openai', answer()))).toBeUndefined();
  });

  const malformed: [string, (body: Record<string, unknown>) => void, string][] = [
    ['object not list', (b) => (b['object'] = 'embedding'), 'object'],
    ['model missing', (b) => delete b['model'], 'model'],
    ['data not an array', (b) => (b['data'] = {}), 'data'],
    [
      'item not an embedding',
      (b) => ((b['data'] as Record<string, unknown>[])[0]!['object'] = 'x'),
      'data[0].object',
    ],
    ['negative index', (b) => ((b['data'] as Record<string, unknown>[])[0]!['index'] = -1), 'data[0].index'],
    [
      'fractional index',
      (b) => ((b['data'] as Record<string, unknown>[])[0]!['index'] = 0.5),
      'data[0].index',
    ],
    [
      'a vector element not a number',
      (b) => ((b['data'] as Record<string, unknown>[])[0]!['embedding'] = [0.1, '0.2']),
      'data[0].embedding',
    ],
    [
      'an infinite vector element (what JSON.parse makes of 1e999)',
      (b) => ((b['data'] as Record<string, unknown>[])[0]!['embedding'] = [0.1, Number.POSITIVE_INFINITY]),
      'data[0].embedding',
    ],
    ['usage missing', (b) => delete b['usage'], 'usage'],
    [
      'a token count not an integer',
      (b) => ((b['usage'] as Record<string, unknown>)['total_tokens'] = '4'),
      'usage.total_tokens',
    ],
  ];

  for (const [name, spoil, path] of malformed) {
    it(`a malformed answer (${name}) is kind server naming ${path}, as the schema says`, () => {
      const body = answer();
      spoil(body);
      expect(isPlainEmbeddingsResponse(body)).toBe(false);
      expect(embeddingsResponseSchema.safeParse(body).success).toBe(false);
      const error = rejection(body);
      expect({ kind: error.kind, provider: error.provider }).toEqual({ kind: 'server', provider: 'openai' });
      expect(error.message).toContain('sent a malformed embeddings response');
      expect(error.issues?.[0]?.path).toContain(path);
      expect(upstreamJsonText(body)).toBeUndefined();
    });
  }

  it('a body that is not an object is kind server', () => {
    expect(rejection('nope').kind).toBe('server');
    expect(rejection(null).kind).toBe('server');
    expect(rejection([]).kind).toBe('server');
  });

  it('accepts what the schema accepts: an empty list, vectors as arrays or base64', () => {
    const cases = [answer(), { ...answer(), data: [] }];
    for (const body of cases) {
      expect(isPlainEmbeddingsResponse(body)).toBe(true);
      expect(embeddingsResponseSchema.safeParse(body).success).toBe(true);
    }
  });
});
