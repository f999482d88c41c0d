import { afterEach, describe, expect, it } from 'vitest';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver';
import { latencyScenario, stackConfig, startStack, type TestStack } from './stack';

const CLIENT = 3;

/** A stack whose gateway exports its spans over OTLP/HTTP to `receiver`. */
function tracedStack(receiver: OtlpReceiver, slow: Record<string, number> = {}): Promise<TestStack> {
  return startStack({
    sim: { timeScale: 1, scenario: latencyScenario(slow) },
    config: (simUrl) =>
      stackConfig(simUrl, {
        aliases: [
          { name: 'resilient', targets: ['gpt-mini', 'haiku'], strategy: 'priority' },
          { name: 'hedged', targets: ['gpt-mini', 'haiku'], strategy: 'priority', hedgeDelayMs: 50 },
        ],
        cache: { enabled: false },
        telemetry: {
          logLevel: 'silent',
          tracing: {
            exporter: 'otlp',
            endpoint: receiver.url,
            headers: { 'x-collector-token': 'collector-secret' },
            serviceName: 'llm-edge-test',
          },
        },
      }),
  });
}

function traceparentOf(headers: Record<string, unknown>): string | undefined {
  const value = headers['traceparent'];
  return typeof value === 'string' ? value : undefined;
}

function attemptSpans(spans: ReceivedSpan[], traceId: string): ReceivedSpan[] {
  return spans.filter((s) => s.kind === CLIENT && s.traceId === traceId);
}

describe('traces exported over OTLP', () => {
  let receiver: OtlpReceiver | undefined;
  let stack: TestStack | undefined;
  afterEach(async () => {
    await stack?.close();
    await receiver?.close();
    stack = undefined;
    receiver = undefined;
  });

  it('a failed-over request: one client span per attempt, each attempt sends its own traceparent', async () => {
    receiver = await OtlpReceiver.start();
    stack = await tracedStack(receiver);
    stack.sim.setScenario(
      latencyScenario({}, { faults: [{ kind: 'unavailable', match: { model: 'gpt-4o-mini' }, count: 1 }] }),
    );
    const { data, response } = await stack.openai.chat.completions
      .create({
        model: 'resilient',
        messages: [{ role: 'user', content: 'trace the failover' }],
        max_tokens: 64,
        temperature: 0.5,
      })
      .withResponse();
    expect(response.headers.get('x-llm-edge-target')).toBe('haiku');
    const log = stack.sim.requestLog();
    // Nothing is exported before the batch is due: stopping the gateway flushes it.
    await stack.close();
    stack = undefined;

    const server = receiver.spans.find(
      (s) => s.kind === 2 && s.attributes['http.route'] === '/v1/chat/completions',
    );
    expect(server).toBeDefined();
    expect(server?.serviceName).toBe('llm-edge-test');
    const route = receiver.spans.find((s) => s.name === 'route' && s.traceId === server!.traceId);
    expect(route?.parentSpanId).toBe(server?.spanId);
    expect(route?.attributes).toMatchObject({ 'llm_edge.target': 'haiku', 'llm_edge.attempts': 2 });

    const attempts = attemptSpans(receiver.spans, server!.traceId);
    expect(attempts).toHaveLength(2);
    const failed = attempts.find((s) => s.attributes['llm_edge.target'] === 'gpt-mini');
    const served = attempts.find((s) => s.attributes['llm_edge.target'] === 'haiku');
    expect(failed?.spanId).not.toBe(served?.spanId);
    for (const attempt of attempts) expect(attempt.parentSpanId).toBe(route?.spanId);

    expect(failed?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'resilient',
      'llm_edge.target.model': 'gpt-4o-mini',
      'llm_edge.attempt.outcome': 'error',
      'error.type': expect.any(String),
    });
    expect(failed?.status.code).toBe(2);
    expect(failed?.attributes['gen_ai.response.model']).toBeUndefined();

    expect(served?.name).toBe('chat resilient');
    expect(served?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'resilient',
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.temperature': 0.5,
      'gen_ai.response.model': data.model,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': data.usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': data.usage?.completion_tokens,
      'llm_edge.target.model': 'claude-haiku-4-5',
      'llm_edge.attempt.outcome': 'success',
      'server.address': '127.0.0.1',
    });
    expect(String(served?.attributes['gen_ai.response.model'])).toMatch(/^claude-haiku-4-5/);

    // The simulator saw each attempt's own span as the parent of its request.
    const upstream = Object.fromEntries(log.map((e) => [e.model, traceparentOf(e.headers)]));
    expect(upstream['gpt-4o-mini']).toBe(`00-${failed?.traceId}-${failed?.spanId}-01`);
    expect(upstream['claude-haiku-4-5']).toBe(`00-${served?.traceId}-${served?.spanId}-01`);

    // Configured collector headers go with each export.
    expect(receiver.requests[0]?.contentType).toMatch(/application\/json/);
    expect(receiver.requests[0]?.headers['x-collector-token']).toBe('collector-secret');
  });

  it('a stream: the attempt span ends with the stream and carries its usage and finish reason', async () => {
    receiver = await OtlpReceiver.start();
    stack = await tracedStack(receiver);
    const stream = await stack.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'trace a stream' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toBeDefined();
    const [entry] = stack.sim.requestLog();
    await stack.close();
    stack = undefined;

    const attempts = receiver.spans.filter((s) => s.kind === CLIENT);
    expect(attempts).toHaveLength(1);
    const span = attempts[0]!;
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': usage?.completion_tokens,
      'llm_edge.target': 'gpt-mini',
      'llm_edge.attempt.outcome': 'success',
    });
    expect(span.events).toContain('gen_ai.first_token');
    expect(traceparentOf(entry!.headers)).toBe(`00-${span.traceId}-${span.spanId}-01`);
  });

  it('a hedged request: the slow first attempt and the hedge are two spans, the loser cancelled', async () => {
    receiver = await OtlpReceiver.start();
    stack = await tracedStack(receiver, { 'gpt-4o-mini': 400 });
    const { data: stream, response } = await stack.openai.chat.completions
      .create({ model: 'hedged', messages: [{ role: 'user', content: 'trace the hedge' }], stream: true })
      .withResponse();
    expect(response.headers.get('x-llm-edge-target')).toBe('haiku');
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    await stack.close();
    stack = undefined;

    const attempts = receiver.spans.filter((s) => s.kind === CLIENT);
    expect(
      attempts.map((s) => [s.attributes['llm_edge.target'], s.attributes['llm_edge.attempt.outcome']]),
    ).toEqual(
      expect.arrayContaining([
        ['gpt-mini', 'cancelled'],
        ['haiku', 'success'],
      ]),
    );
    expect(new Set(attempts.map((s) => s.spanId)).size).toBe(2);
  });

  it('a client traceparent is the parent of the gateway trace', async () => {
    receiver = await OtlpReceiver.start();
    stack = await tracedStack(receiver);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    await stack.openai.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'trace from the client' }] },
      { headers: { traceparent: `00-${traceId}-${parent}-01` } },
    );
    const [entry] = stack.sim.requestLog();
    await stack.close();
    stack = undefined;
    const server = receiver.spans.find((s) => s.kind === 2);
    expect(server).toMatchObject({ traceId, parentSpanId: parent });
    const [attempt] = receiver.spans.filter((s) => s.kind === CLIENT);
    expect(attempt?.traceId).toBe(traceId);
    expect(traceparentOf(entry!.headers)).toBe(`00-${traceId}-${attempt?.spanId}-01`);
  });
});
