import type { ChatChunk } from '@llm-edge/providers';
import { describe, expect, it } from 'vitest';
import { CommittedStream, isTokenChunk, type StreamEnd } from './committed-stream';

const chunk = (delta: ChatChunk['choices'][number]['delta'], extra: Partial<ChatChunk> = {}): ChatChunk => ({
  id: 'c1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta, finish_reason: null }],
  ...extra,
});

describe('isTokenChunk', () => {
  it('does not count a role-only or empty-content opening chunk as a token', () => {
    expect(isTokenChunk(chunk({ role: 'assistant' }))).toBe(false);
    expect(isTokenChunk(chunk({ role: 'assistant', content: '' }))).toBe(false);
  });

  it('counts text, refusals, tool-call fragments, finish reasons and usage', () => {
    expect(isTokenChunk(chunk({ content: 'Hi' }))).toBe(true);
    expect(isTokenChunk(chunk({ refusal: 'No' }))).toBe(true);
    expect(isTokenChunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{' } }] }))).toBe(true);
    expect(isTokenChunk({ ...chunk({}), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })).toBe(
      true,
    );
    expect(
      isTokenChunk({
        ...chunk({}),
        choices: [],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }),
    ).toBe(true);
  });
});

/** An upstream iterator over fixed chunks that records whether it was closed early. */
function upstream(chunks: ChatChunk[]) {
  let i = 0;
  const state = { returned: false };
  const iterator: AsyncIterator<ChatChunk> = {
    next: async () =>
      i < chunks.length ? { done: false, value: chunks[i++]! } : { done: true, value: undefined },
    return: async () => {
      state.returned = true;
      return { done: true, value: undefined };
    },
  };
  return { iterator, state };
}

describe('CommittedStream', () => {
  it('replays the held chunks, then the rest of the same upstream, and reports the end once', async () => {
    const rest = [chunk({ content: ' world' }), chunk({ content: '!' })];
    const { iterator } = upstream(rest);
    const ends: StreamEnd[] = [];
    const held = [chunk({ role: 'assistant' }), chunk({ content: 'Hello' })];
    const stream = new CommittedStream([...held], false, iterator, new AbortController().signal, (e) =>
      ends.push(e),
    );
    const seen: ChatChunk[] = [];
    for await (const c of stream) seen.push(c);
    expect(seen).toEqual([...held, ...rest]);
    expect(ends).toEqual([{ outcome: 'completed', chunks: 4 }]);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(ends).toHaveLength(1);
  });

  it('closes the upstream when ended before reading', async () => {
    const { iterator, state } = upstream([chunk({ content: 'x' })]);
    const ends: StreamEnd[] = [];
    const stream = new CommittedStream(
      [chunk({ content: 'a' })],
      false,
      iterator,
      new AbortController().signal,
      (e) => ends.push(e),
    );
    await stream.return();
    expect(state.returned).toBe(true);
    expect(ends).toEqual([{ outcome: 'cancelled', chunks: 0 }]);
  });

  it('reports an upstream failure as an error end and rethrows it unchanged', async () => {
    const failure = new Error('cut');
    const iterator: AsyncIterator<ChatChunk> = { next: () => Promise.reject(failure) };
    const ends: StreamEnd[] = [];
    const stream = new CommittedStream(
      [chunk({ content: 'a' })],
      false,
      iterator,
      new AbortController().signal,
      (e) => ends.push(e),
    );
    await stream.next();
    await expect(stream.next()).rejects.toBe(failure);
    expect(ends).toEqual([{ outcome: 'error', chunks: 1, error: failure }]);
  });
});
