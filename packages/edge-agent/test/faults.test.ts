import { APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  counter,
  GATEWAY_KEY,
  latencyScenario,
  PROVIDER_KEY,
  stackConfig,
  startStack,
  type TestStack,
} from './stack';

const FIRST_BYTE_MS = 400;

describe('upstream faults from the simulator', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({
      sim: { timeScale: 1, scenario: latencyScenario() },
      config: (simUrl) => {
        const base = stackConfig(simUrl, {
          // No cooldown or open breaker carried from one test to the next; no whole-route retry passes.
          routing: {
            retry: { maxRetries: 0 },
            cooldown: { defaultMs: 1, maxMs: 1 },
            breaker: { consecutiveFailures: 100 },
          },
          cache: { enabled: false },
        });
        const timeouts = { connectMs: 1_000, firstByteMs: FIRST_BYTE_MS, idleMs: FIRST_BYTE_MS };
        for (const provider of Object.values(base.providers ?? {})) Object.assign(provider, { timeouts });
        return base;
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => {
    stack.sim.reset();
  });

  it('503 on the first target: the alias fails over to the next one', async () => {
    stack.sim.setScenario(
      latencyScenario({}, { faults: [{ kind: 'unavailable', match: { model: 'gpt-4o-mini' }, count: 1 }] }),
    );
    const before = await stack.metrics();
    const { data, response } = await stack.openai.chat.completions
      .create({ model: 'resilient', messages: [{ role: 'user', content: 'fail over on 503' }] })
      .withResponse();
    expect(response.headers.get('x-llm-edge-target')).toBe('haiku');
    expect(data.choices[0]?.message.content).toEqual(expect.any(String));
    const log = stack.sim.requestLog();
    expect(log.map((e) => [e.model, e.status])).toEqual([
      ['gpt-4o-mini', 503],
      ['claude-haiku-4-5', 200],
    ]);
    const after = await stack.metrics();
    const outcome = { target: 'gpt-mini', outcome: 'error:overloaded' };
    expect(counter(after, 'llm_edge_upstream_attempts_total', outcome)).toBe(
      counter(before, 'llm_edge_upstream_attempts_total', outcome) + 1,
    );
    expect(
      counter(after, 'llm_edge_upstream_attempts_total', { target: 'haiku', outcome: 'success' }),
    ).toBeGreaterThan(
      counter(before, 'llm_edge_upstream_attempts_total', { target: 'haiku', outcome: 'success' }),
    );
  });

  it('a hanging first target times out after its first-byte budget and the next one answers', async () => {
    stack.sim.setScenario(
      latencyScenario({}, { faults: [{ kind: 'hang', match: { model: 'gpt-4o-mini' }, count: 1 }] }),
    );
    const timedOut = { target: 'gpt-mini', outcome: 'error:timeout' };
    const before = counter(await stack.metrics(), 'llm_edge_upstream_attempts_total', timedOut);
    const started = performance.now();
    const { response } = await stack.openai.chat.completions
      .create({ model: 'resilient', messages: [{ role: 'user', content: 'fail over on hang' }] })
      .withResponse();
    const elapsed = performance.now() - started;
    expect(response.headers.get('x-llm-edge-target')).toBe('haiku');
    // The hang never ends by itself: the gateway gave up on it after its first-byte budget and closed it.
    expect(elapsed).toBeGreaterThanOrEqual(FIRST_BYTE_MS);
    const [hung, served] = stack.sim.requestLog();
    expect(hung).toMatchObject({ model: 'gpt-4o-mini', fault: 'hang', outcome: 'client_closed' });
    expect(served).toMatchObject({ model: 'claude-haiku-4-5', status: 200 });
    expect(counter(await stack.metrics(), 'llm_edge_upstream_attempts_total', timedOut)).toBe(before + 1);
  });

  it('a hanging first target on a stream: the Anthropic client still gets a full stream from the next target', async () => {
    stack.sim.setScenario(
      latencyScenario({}, { faults: [{ kind: 'hang', match: { model: 'gpt-4o-mini' }, count: 1 }] }),
    );
    const final = await stack.anthropic.messages
      .stream({
        model: 'resilient',
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'stream fail over on hang' }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe('end_turn');
    expect(stack.sim.requestLog().map((e) => e.model)).toEqual(['gpt-4o-mini', 'claude-haiku-4-5']);
  });

  it('every target failing: a 5xx by the last upstream failure, in each client shape, counted', async () => {
    stack.sim.setScenario(
      latencyScenario(
        {},
        {
          faults: [
            { kind: 'unavailable', match: { model: 'gpt-4o-mini' } },
            { kind: 'server_error', match: { model: 'claude-haiku-4-5' } },
          ],
        },
      ),
    );
    const error = await stack.openai.chat.completions
      .create({ model: 'resilient', messages: [{ role: 'user', content: 'all fail' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBeGreaterThanOrEqual(502);
    expect(JSON.stringify((error as APIError).error)).not.toContain(PROVIDER_KEY);
    const anthropicError = await stack.anthropic.messages
      .create({ model: 'resilient', max_tokens: 16, messages: [{ role: 'user', content: 'all fail' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(anthropicError).toBeInstanceOf(AnthropicAPIError);
    expect((anthropicError as AnthropicAPIError).error).toMatchObject({
      type: 'error',
      error: { type: expect.any(String) },
    });
    const metrics = await stack.metrics();
    expect(
      counter(metrics, 'llm_edge_requests_total', {
        route: 'chat.completions',
        status: String((error as APIError).status),
      }),
    ).toBeGreaterThan(0);
  });

  it('an upstream refusing the request: 400 with its words and field when malformed, 502 when it refuses the gateway key', async () => {
    const refuse = (fault: Record<string, unknown>) =>
      stack.sim.setScenario(
        latencyScenario(
          {},
          { faults: [{ kind: 'error', match: { model: 'gpt-4o-mini' }, count: 1, ...fault }] },
        ),
      );
    const ask = () =>
      stack.openai.chat.completions
        .create({ model: 'resilient', messages: [{ role: 'user', content: 'refused' }] })
        .then(
          () => undefined,
          (e: unknown) => e as APIError,
        );

    refuse({
      status: 400,
      errorCode: 'invalid_value',
      param: 'temperature',
      message: 'temperature is out of range',
    });
    const malformed = await ask();
    expect(malformed).toBeInstanceOf(APIError);
    expect(malformed?.status).toBe(400);
    expect(malformed?.error).toMatchObject({
      message: 'temperature is out of range',
      param: 'temperature',
      code: 'LLM_EDGE_REQUEST_REJECTED',
      type: 'invalid_request_error',
    });

    refuse({
      status: 401,
      errorCode: 'invalid_api_key',
      message: `Incorrect API key provided: ${PROVIDER_KEY}`,
    });
    const credentials = await ask();
    expect(credentials).toBeInstanceOf(APIError);
    expect(credentials?.status).toBe(502);
    expect(JSON.stringify(credentials?.error)).not.toContain(PROVIDER_KEY);
    // Neither refusal was tried on the next target: it would refuse the same request.
    expect(stack.sim.requestLog().map((e) => e.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
  });

  it('mid-stream disconnect: the OpenAI client gets a clean error, not a hang, and the gateway goes on', async () => {
    stack.sim.setScenario(
      latencyScenario(
        {},
        { faults: [{ kind: 'disconnect', match: { model: 'gpt-4o-mini' }, afterChunks: 3, count: 1 }] },
      ),
    );
    const cut = { target: 'gpt-mini', outcome: 'stream_error:network' };
    const unreachable = { code: 'upstream_unreachable', route: 'chat.completions' };
    const before = await stack.metrics();
    const stream = await stack.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'cut me off' }],
    });
    let received = 0;
    const failure = await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) received++;
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(received).toBeGreaterThan(0);
    expect(failure).toBeInstanceOf(APIError);
    expect(String((failure as Error).message)).not.toContain(PROVIDER_KEY);

    // Counted once each: the attempt that broke mid-stream, and the error the client was sent.
    const after = await stack.metrics();
    expect(counter(after, 'llm_edge_upstream_attempts_total', cut)).toBe(
      counter(before, 'llm_edge_upstream_attempts_total', cut) + 1,
    );
    expect(counter(after, 'llm_edge_errors_total', unreachable)).toBe(
      counter(before, 'llm_edge_errors_total', unreachable) + 1,
    );

    const next = await stack.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'still alive' }],
    });
    expect(next.choices[0]?.message.content).toEqual(expect.any(String));
  });

  it('mid-stream disconnect: the Anthropic client gets a clean error event, and it is counted', async () => {
    const cutOnce = () =>
      stack.sim.setScenario(
        latencyScenario(
          {},
          {
            faults: [{ kind: 'disconnect', match: { model: 'claude-haiku-4-5' }, afterChunks: 3, count: 1 }],
          },
        ),
      );
    const cut = { target: 'haiku', outcome: 'stream_error:network' };
    const before = await stack.metrics();
    cutOnce();
    const stream = stack.anthropic.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 128,
      messages: [{ role: 'user', content: 'cut me off too' }],
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const failure = await stream.finalMessage().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(text.length).toBeGreaterThan(0);
    // The SDK raises an `event: error` as an APIError without a status, typed from the event.
    expect(failure).toBeInstanceOf(AnthropicAPIError);
    const error = failure as AnthropicAPIError;
    expect(error.status).toBeUndefined();
    expect(error.type).toBe('api_error');
    expect(error.error).toMatchObject({
      type: 'error',
      error: { type: 'api_error', message: expect.any(String) },
    });
    expect(JSON.stringify(error.error)).not.toContain(PROVIDER_KEY);
    expect(stack.sim.requestLog()[0]?.outcome).toBe('fault:disconnect');
    expect(counter(await stack.metrics(), 'llm_edge_upstream_attempts_total', cut)).toBe(
      counter(before, 'llm_edge_upstream_attempts_total', cut) + 1,
    );

    // On the wire: the stream's last event is the error, and nothing (no message_stop) follows it.
    cutOnce();
    const response = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': GATEWAY_KEY,
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 128,
        stream: true,
        messages: [{ role: 'user', content: 'cut me off on the wire' }],
      }),
    });
    expect(response.status).toBe(200);
    const events = (await response.text())
      .split('\n\n')
      .filter((frame) => frame.trim() !== '')
      .map((frame) => ({
        event: /^event: (.*)$/m.exec(frame)?.[1],
        data: JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? 'null') as unknown,
      }));
    expect(events[0]?.event).toBe('message_start');
    expect(events.some((e) => e.event === 'content_block_delta')).toBe(true);
    expect(events.map((e) => e.event)).not.toContain('message_stop');
    expect(events.at(-1)).toEqual({
      event: 'error',
      data: {
        type: 'error',
        error: { type: 'api_error', message: expect.any(String) },
        request_id: response.headers.get('x-request-id'),
      },
    });
  });
});
