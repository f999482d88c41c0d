import { afterEach, describe, expect, it } from 'vitest';
import { stackConfig, startStack, type TestStack } from './stack';

describe('trace context without a tracing exporter', () => {
  let stack: TestStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("forwards the client's traceparent upstream on every attempt, span or not", async () => {
    stack = await startStack({
      config: (simUrl) =>
        stackConfig(simUrl, { cache: { enabled: false }, telemetry: { logLevel: 'silent' } }),
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    await stack.openai.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'no exporter here' }] },
      { headers: { traceparent: `00-${traceId}-${parent}-01` } },
    );
    await stack.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'and no client trace either' }],
    });
    const [traced, untraced] = stack.sim.requestLog();
    // Nothing records here, so the gateway adds no span of its own: the client's context goes on as sent.
    expect(traced!.headers['traceparent']).toBe(`00-${traceId}-${parent}-01`);
    expect(untraced!.headers['traceparent']).toBeUndefined();
  });
});
