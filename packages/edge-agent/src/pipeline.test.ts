import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config-loader';
import { createGateway, type Gateway } from './gateway';

const logs: string[] = [];
let gateway: Gateway;

beforeAll(async () => {
  const { config } = parseConfig(
    {
      providers: { sim: { type: 'simulator' } },
      simulator: { timeScale: 0 },
      targets: [
        { id: 'mini', provider: 'sim', model: 'gpt-4o-mini' },
        { id: 'embed', provider: 'sim', model: 'text-embedding-3-small' },
      ],
      cache: { enabled: true },
      security: { auth: false },
      telemetry: { logLevel: 'info' },
    },
    {},
  );
  gateway = createGateway(config, { logDestination: { write: (line: string) => logs.push(line) } });
  await gateway.start();
});

afterAll(async () => {
  await gateway?.stop();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { response, bytes: Buffer.from(await response.arrayBuffer()) };
}

function logLine(requestId: string | null): Record<string, unknown> | undefined {
  return logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((l) => l['reqId'] === requestId);
}

describe('response cache', () => {
  it('answers a hit with the bytes of the first answer, and accounts its usage', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'cache me, byte for byte' }] };
    const miss = await post('/v1/chat/completions', body);
    const hit = await post('/v1/chat/completions', body);
    expect(miss.response.headers.get('x-llm-edge-cache')).toBe('MISS');
    expect(hit.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    expect(hit.response.headers.get('x-llm-edge-target')).toBe('mini');
    expect(hit.response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(hit.response.headers.get('content-length')).toBe(String(hit.bytes.byteLength));
    expect(hit.bytes.equals(miss.bytes)).toBe(true);

    const answer = JSON.parse(miss.bytes.toString('utf8')) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(logLine(hit.response.headers.get('x-request-id'))).toMatchObject({
      cache: 'HIT',
      target: 'mini',
      inputTokens: answer.usage.prompt_tokens,
      outputTokens: answer.usage.completion_tokens,
    });
  });

  it('replays a non-stream answer to a streaming caller', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one entry, two shapes' }] };
    const first = await post('/v1/chat/completions', body);
    const answer = JSON.parse(first.bytes.toString('utf8')) as {
      choices: Array<{ message: { content: string } }>;
    };
    const content = answer.choices[0]!.message.content;

    const stream = await post('/v1/chat/completions', { ...body, stream: true });
    expect(stream.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    let streamed = '';
    for (const frame of stream.bytes.toString('utf8').split('\n\n')) {
      const data = frame.replace(/^data: /, '');
      if (data === '' || data === '[DONE]') continue;
      const chunk = JSON.parse(data) as { choices: Array<{ delta: { content?: string } }> };
      streamed += chunk.choices[0]?.delta.content ?? '';
    }
    expect(streamed).toBe(content);
  });

  it('answers an Anthropic-format hit as the first answer was translated', async () => {
    const body = {
      model: 'gpt-4o-mini',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'cache me in the Messages shape' }],
    };
    const headers = { 'anthropic-version': '2023-06-01' };
    const miss = await post('/v1/messages', body, headers);
    const hit = await post('/v1/messages', body, headers);
    expect(miss.response.headers.get('x-llm-edge-cache')).toBe('MISS');
    expect(hit.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    const answer = JSON.parse(hit.bytes.toString('utf8')) as unknown;
    expect(answer).toEqual(JSON.parse(miss.bytes.toString('utf8')));
    expect(answer).toMatchObject({ type: 'message', model: 'gpt-4o-mini', content: [{ type: 'text' }] });
  });

  it('answers an embeddings hit with the bytes of the first answer', async () => {
    const body = { model: 'text-embedding-3-small', input: 'embed me once' };
    const miss = await post('/v1/embeddings', body);
    const hit = await post('/v1/embeddings', body);
    expect(miss.response.status).toBe(200);
    expect(hit.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    expect(hit.bytes.equals(miss.bytes)).toBe(true);
  });
});
