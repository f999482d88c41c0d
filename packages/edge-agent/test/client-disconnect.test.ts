import { request as httpRequest } from 'node:http';
import type { SimulatorRequestLogEntry } from '@llm-edge/simulator';
import { APIUserAbortError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { counter, GATEWAY_KEY, latencyScenario, stackConfig, startStack, type TestStack } from './stack';

/*
 * A client that goes away must not leave a provider call running. The upstream budgets here are
 * far longer than any test, so the only thing that can close an upstream request is the client
 * leaving; each check polls (bounded) for the simulator to log the request as `client_closed`.
 */
const LONG_MS = 60_000;

async function eventually<T>(
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a client leaving mid-request closes the upstream request', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({
      sim: { timeScale: 1, scenario: latencyScenario() },
      config: (simUrl) => {
        // The default cache stays on: leaving must close the upstream call through it too.
        const base = stackConfig(simUrl, { routing: { retry: { maxRetries: 0 } } });
        const timeouts = { connectMs: 2_000, firstByteMs: LONG_MS, idleMs: LONG_MS };
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

  const upstream = (what: string, outcome: (entry: SimulatorRequestLogEntry) => boolean) =>
    eventually(
      () => stack.sim.requestLog(),
      (log) => log.length === 1 && outcome(log[0]!),
      what,
    );
  const inFlight = async (route: string) =>
    counter(await stack.metrics(), 'llm_edge_in_flight_requests', { route });

  it('a stream: aborting the OpenAI SDK stream after the first chunk', async () => {
    // One chunk every 300 ms: the stream is still running when the client leaves.
    stack.sim.setScenario(
      latencyScenario(
        {},
        { faults: [{ kind: 'trickle', match: { model: 'gpt-4o-mini' }, intervalMs: 300 }] },
      ),
    );
    const stream = await stack.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'a long story, slowly' }],
    });
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) received++;
      if (received === 1) stream.controller.abort();
    }
    expect(received).toBe(1);
    const [entry] = await upstream('the upstream stream to close', (e) => e.outcome !== 'in_progress');
    expect(entry).toMatchObject({
      model: 'gpt-4o-mini',
      stream: true,
      status: 200,
      outcome: 'client_closed',
    });
    await eventually(
      () => inFlight('chat.completions'),
      (n) => n === 0,
      'no request in flight',
    );
  });

  it('a non-stream request: aborting the OpenAI SDK call while the upstream has not answered', async () => {
    stack.sim.setScenario(
      latencyScenario({}, { faults: [{ kind: 'hang', match: { model: 'gpt-4o-mini' } }] }),
    );
    const controller = new AbortController();
    const call = stack.openai.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'take your time' }] },
        { signal: controller.signal },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await upstream('the upstream request to arrive', (e) => e.outcome === 'in_progress');
    controller.abort();
    expect(await call).toBeInstanceOf(APIUserAbortError);
    const [entry] = await upstream('the upstream request to close', (e) => e.outcome !== 'in_progress');
    expect(entry).toMatchObject({
      model: 'gpt-4o-mini',
      stream: false,
      fault: 'hang',
      outcome: 'client_closed',
    });
    await eventually(
      () => inFlight('chat.completions'),
      (n) => n === 0,
      'no request in flight',
    );
  });

  it('an Anthropic stream: the client socket destroyed after the first event', async () => {
    stack.sim.setScenario(
      latencyScenario(
        {},
        { faults: [{ kind: 'trickle', match: { model: 'claude-haiku-4-5' }, intervalMs: 300 }] },
      ),
    );
    const url = new URL('/v1/messages', stack.url);
    const body = JSON.stringify({
      model: 'claude-haiku-4-5',
      max_tokens: 256,
      stream: true,
      messages: [{ role: 'user', content: 'another long story, slowly' }],
    });
    const firstBytes = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-api-key': GATEWAY_KEY,
            'anthropic-version': '2023-06-01',
          },
        },
        (res) => {
          res.once('data', (data: Buffer) => {
            // Leave without a word: no FIN-and-wait, the socket is simply gone.
            req.destroy();
            resolve(data.toString('utf8'));
          });
        },
      );
      req.on('error', (error) => {
        if (!req.destroyed) reject(error);
      });
      req.end(body);
    });
    expect(firstBytes).toContain('event: message_start');
    const [entry] = await upstream('the upstream stream to close', (e) => e.outcome !== 'in_progress');
    expect(entry).toMatchObject({
      model: 'claude-haiku-4-5',
      provider: 'anthropic',
      outcome: 'client_closed',
    });
    await eventually(
      () => inFlight('messages'),
      (n) => n === 0,
      'no request in flight',
    );
  });
});
