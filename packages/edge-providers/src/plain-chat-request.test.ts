import { describe, expect, it } from 'vitest';
import { chatRequestSchema } from './chat-schemas';
import { parseChatRequest } from './parse-request';
import { plainChatRequest } from './plain-chat-request';

const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };

/** Bodies the plain path takes: each must come out exactly as zod returns it. */
const plain: unknown[] = [
  base,
  { ...base, stream: true, stream_options: { include_usage: true } },
  { ...base, temperature: 0, top_p: 1, max_tokens: 1, n: 128, seed: -5, user: 'u-1', store: false },
  { ...base, presence_penalty: -2, frequency_penalty: 2, max_completion_tokens: 4096 },
  {
    model: 'fast',
    messages: [
      { role: 'system', content: 'be brief', name: 'policy' },
      { role: 'developer', content: '' },
      { role: 'user', content: 'call the tool', name: 'jane' },
      { role: 'assistant' },
      { role: 'assistant', content: 'calling', name: 'bot' },
      { role: 'tool', content: '{"ok":true}', tool_call_id: 'call_1' },
    ],
    parallel_tool_calls: true,
  },
];

/** Bodies outside the plain path, valid or not: zod decides them. */
const other: unknown[] = [
  null,
  [],
  'text',
  { messages: base.messages },
  { model: '', messages: base.messages },
  { model: 'm', messages: [] },
  { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'parts' }] }] },
  { ...base, messages: [{ role: 'user' }] },
  { ...base, messages: [{ role: 'user', content: 'x', extra: 1 }] },
  { ...base, messages: [{ role: 'tool', content: 'x' }] },
  { ...base, messages: [{ role: 'tool', content: 'x', tool_call_id: '' }] },
  { ...base, messages: [{ role: 'tool', content: 'x', tool_call_id: 'c', name: 'n' }] },
  { ...base, messages: [{ role: 'wizard', content: 'x' }] },
  { ...base, messages: [{ role: 'assistant', content: null }] },
  { ...base, messages: [Object.assign(Object.create({ inherited: true }), { role: 'user', content: 'x' })] },
  { ...base, temperature: 2.5 },
  { ...base, temperature: null },
  { ...base, top_p: -0.1 },
  { ...base, max_tokens: 0 },
  { ...base, max_tokens: 1.5 },
  { ...base, n: 129 },
  { ...base, seed: 2 ** 60 },
  { ...base, stream: 'yes' },
  { ...base, stream_options: { include_usage: true, other: true } },
  { ...base, stream_options: null },
  { ...base, top_k: 40 },
  { ...base, tools: [] },
  { ...base, logprobs: true, top_logprobs: 2 },
  { ...base, top_logprobs: 2 },
  { ...base, user: 7 },
  { ...base, constructor: 'x' },
];

describe('plainChatRequest', () => {
  it.each(plain.map((body) => [JSON.stringify(body), body]))(
    'takes %s and returns what zod returns',
    (_, body) => {
      const fast = plainChatRequest(body);
      expect(fast).toBeDefined();
      expect(fast).toEqual(chatRequestSchema.parse(body));
      // A copy, like zod's: the caller's body is never handed on.
      expect(fast).not.toBe(body);
      expect((fast as { messages: unknown[] }).messages[0]).not.toBe(
        (body as { messages: unknown[] }).messages[0],
      );
    },
  );

  it.each(other.map((body) => [JSON.stringify(body) ?? String(body), body]))(
    'leaves %s to zod',
    (_, body) => {
      expect(plainChatRequest(body)).toBeUndefined();
    },
  );

  it('changes nothing about what parseChatRequest accepts or how it words a refusal', () => {
    for (const body of [...plain, ...other]) {
      const viaZod = chatRequestSchema.safeParse(body);
      let parsed: unknown;
      let error: unknown;
      try {
        parsed = parseChatRequest(body);
      } catch (e) {
        error = e;
      }
      expect(error === undefined).toBe(viaZod.success);
      if (viaZod.success) expect(parsed).toEqual(viaZod.data);
    }
  });
});
