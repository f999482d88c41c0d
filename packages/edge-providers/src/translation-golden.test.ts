import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { translateAnthropicStream } from './anthropic-stream-translator';
import type { ChatChunk } from './chat-schemas';
import { fromAnthropicResponse } from './from-anthropic-response';
import { fromGeminiResponse } from './from-gemini-response';
import { translateGeminiStream } from './gemini-stream-translator';
import { readServerSentEvents } from './http-transport';
import { translateOpenAIStream } from './openai-stream-translator';
import { parseChatRequest } from './parse-request';
import { toAnthropicRequest } from './to-anthropic-request';
import { toGeminiRequest } from './to-gemini-request';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const now = () => 1_700_000_000_000;
const newId = () => 'generated-id';

/* Feeds the SSE text in 7-byte slices so event boundaries fall mid-chunk, as on a real socket. */
async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  const all = new TextEncoder().encode(text);
  for (let i = 0; i < all.length; i += 7) yield all.slice(i, i + 7);
}

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

const golden = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

describe('golden: Anthropic', () => {
  it('translates a full unified request to a Messages request', async () => {
    const request = parseChatRequest(JSON.parse(fixture('anthropic-request.unified.json')));
    const body = toAnthropicRequest(request, true, { provider: 'anthropic', defaultMaxTokens: 4096 });
    await expect(golden(body)).toMatchFileSnapshot('./__fixtures__/anthropic-request.expected.json');
  });

  it('translates a message with text and tool_use blocks', async () => {
    const response = fromAnthropicResponse('anthropic', JSON.parse(fixture('anthropic-response.json')), now);
    await expect(golden(response)).toMatchFileSnapshot('./__fixtures__/anthropic-response.expected.json');
  });

  it('translates the stream events, tool input deltas included', async () => {
    const chunks = await collect(
      translateAnthropicStream(
        'anthropic',
        readServerSentEvents(bytes(fixture('anthropic-stream.sse'))),
        now,
      ),
    );
    await expect(golden(chunks)).toMatchFileSnapshot('./__fixtures__/anthropic-stream.expected.json');
  });
});

describe('golden: Gemini', () => {
  it('translates a full unified request to a GenerateContentRequest', async () => {
    const request = parseChatRequest(JSON.parse(fixture('gemini-request.unified.json')));
    await expect(golden(toGeminiRequest(request, 'gemini'))).toMatchFileSnapshot(
      './__fixtures__/gemini-request.expected.json',
    );
  });

  it('translates candidates, function calls and finish reasons', async () => {
    const response = fromGeminiResponse(
      'gemini',
      JSON.parse(fixture('gemini-response.json')),
      'gemini-2.5-flash',
      now,
      newId,
    );
    await expect(golden(response)).toMatchFileSnapshot('./__fixtures__/gemini-response.expected.json');
  });

  it('translates the alt=sse stream', async () => {
    const chunks = await collect(
      translateGeminiStream(
        'gemini',
        readServerSentEvents(bytes(fixture('gemini-stream.sse'))),
        'gemini-2.5-flash',
        now,
        newId,
      ),
    );
    await expect(golden(chunks)).toMatchFileSnapshot('./__fixtures__/gemini-stream.expected.json');
  });
});

describe('golden: OpenAI', () => {
  it('normalises the stream: strips usage:null and obfuscation, usage last', async () => {
    const chunks = await collect(
      translateOpenAIStream('openai', readServerSentEvents(bytes(fixture('openai-stream.sse')))),
    );
    await expect(golden(chunks)).toMatchFileSnapshot('./__fixtures__/openai-stream.expected.json');
  });
});
