import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config-loader';
import { createGateway, type Gateway } from './gateway';

// An OpenAI-compatible upstream whose answers are written by hand, so the test can tell the
// upstream's own bytes from a re-serialisation: indentation, a `\u` escape, a number spelled with an
// exponent, a provider field.
const PRETTY = `{
  "id": "chatcmpl-pretty",
  "object": "chat.completion",
  "created": 1.7e9,
  "model": "m-1",
  "choices": [
    {
      "index": 0,
      "message": { "role": "assistant", "content": "caf\\u00e9 \\ud83c\\udf0a", "refusal": null },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": { "prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7 },
  "x_provider_note": { "region": "eu" }
}
`;

// An embeddings answer with number spellings JSON.stringify would change and a field the schema
// does not name.
const EMBEDDINGS = `{"object":"list","model":"emb-1","data":[{"object":"embedding","index":0,"embedding":[1.50,-2E-3,0.0]}],"usage":{"prompt_tokens":2,"total_tokens":2},"x_provider_note":"kept"}`;

// The same answer with fields a sparse compatible server leaves out.
const SPARSE =
  '{"id":"chatcmpl-sparse","model":"m-1","choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":null}';

let upstream: Server;
let upstreamCalls = 0;
const gateways: Gateway[] = [];

async function startGateway(cache: boolean): Promise<Gateway> {
  const { port } = upstream.address() as AddressInfo;
  const { config } = parseConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      providers: { up: { type: 'openai-compatible', baseURL: `http://127.0.0.1:${port}/v1` } },
      targets: [
        { id: 'm', provider: 'up', model: 'm-1' },
        { id: 'e', provider: 'up', model: 'emb-1' },
      ],
      routing: { retry: { maxRetries: 0 } },
      cache: { enabled: cache },
      security: { auth: false },
      telemetry: { logLevel: 'silent' },
    },
    {},
  );
  const gateway = createGateway(config);
  gateways.push(gateway);
  await gateway.start();
  return gateway;
}

let plain: Gateway;
let cached: Gateway;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      upstreamCalls += 1;
      const text = req.url?.endsWith('/embeddings') ? EMBEDDINGS : body.includes('sparse') ? SPARSE : PRETTY;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  plain = await startGateway(false);
  cached = await startGateway(true);
});

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.stop()));
  await new Promise((resolve) => upstream.close(resolve));
});

async function post(gateway: Gateway, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { response, text: Buffer.from(await response.arrayBuffer()).toString('utf8') };
}

const chat = (content: string) => ({ model: 'm-1', messages: [{ role: 'user', content }] });

describe('a non-streamed OpenAI-format answer', () => {
  it('reaches an OpenAI-format client as the upstream wrote it', async () => {
    const { response, text } = await post(plain, '/v1/chat/completions', chat('pretty'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(text).toBe(PRETTY);
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(PRETTY)));
  });

  it('is written anew when the gateway filled in fields the upstream left out', async () => {
    const { response, text } = await post(plain, '/v1/chat/completions', chat('sparse'));
    expect(response.status).toBe(200);
    const answer = JSON.parse(text) as Record<string, unknown>;
    expect(answer).toMatchObject({
      id: 'chatcmpl-sparse',
      object: 'chat.completion',
      choices: [{ index: 0, finish_reason: null, logprobs: null, message: { content: 'hi' } }],
    });
    expect(typeof answer['created']).toBe('number');
    expect(answer).not.toHaveProperty('usage');
  });

  it('is still translated for an Anthropic-format client', async () => {
    const { response, text } = await post(
      plain,
      '/v1/messages',
      { model: 'm-1', max_tokens: 16, messages: [{ role: 'user', content: 'pretty' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'café 🌊' }],
      usage: { input_tokens: 5, output_tokens: 2 },
    });
  });

  it('is cached as the upstream wrote it, and a hit answers the same bytes', async () => {
    const before = upstreamCalls;
    const miss = await post(cached, '/v1/chat/completions', chat('pretty, cached'));
    const hit = await post(cached, '/v1/chat/completions', chat('pretty, cached'));
    expect(upstreamCalls - before).toBe(1);
    expect(miss.response.headers.get('x-llm-edge-cache')).toBe('MISS');
    expect(hit.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    expect(miss.text).toBe(PRETTY);
    expect(hit.text).toBe(PRETTY);
  });
});

describe('an OpenAI-format embeddings answer', () => {
  it('reaches the client as the upstream wrote it, fields and number spellings kept', async () => {
    const { response, text } = await post(plain, '/v1/embeddings', { model: 'emb-1', input: 'hi' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(text).toBe(EMBEDDINGS);
  });

  it('is cached as the upstream wrote it, and a hit answers the same bytes', async () => {
    const before = upstreamCalls;
    const miss = await post(cached, '/v1/embeddings', { model: 'emb-1', input: 'cached' });
    const hit = await post(cached, '/v1/embeddings', { model: 'emb-1', input: 'cached' });
    expect(upstreamCalls - before).toBe(1);
    expect(hit.response.headers.get('x-llm-edge-cache')).toBe('HIT');
    expect(miss.text).toBe(EMBEDDINGS);
    expect(hit.text).toBe(EMBEDDINGS);
  });
});
