import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PROFILES, type Simulator, startSimulator } from './index';
import { ConcurrencyGate, logNormalParameters, sampleLogNormal, sampleSchedule } from './latency';
import { createRandom } from './random';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

describe('latency sampling', () => {
  it('fits a log-normal to p50 and p99', () => {
    const { mu, sigma } = logNormalParameters(400, 2000);
    expect(Math.exp(mu)).toBeCloseTo(400, 6);
    expect(Math.exp(mu + 2.3263478740408408 * sigma)).toBeCloseTo(2000, 6);
    expect(logNormalParameters(300, 300).sigma).toBe(0);
  });

  it('draws samples whose median and p99 match the profile', () => {
    const random = createRandom(42);
    const samples = Array.from({ length: 40_000 }, () =>
      sampleLogNormal({ p50: 450, p99: 2250 }, random),
    ).sort((a, b) => a - b);
    expect(percentile(samples, 0.5) / 450).toBeGreaterThan(0.97);
    expect(percentile(samples, 0.5) / 450).toBeLessThan(1.03);
    expect(percentile(samples, 0.99) / 2250).toBeGreaterThan(0.92);
    expect(percentile(samples, 0.99) / 2250).toBeLessThan(1.08);
  });

  it('samples a schedule per reply: TTFT then one gap per later piece, scaled by the time scale', () => {
    const profile = DEFAULT_PROFILES['gpt-4o-mini']!;
    const a = sampleSchedule(profile, 50, 1, createRandom(7));
    const b = sampleSchedule(profile, 50, 1, createRandom(7));
    expect(a).toEqual(b);
    expect(a.gapsMs.length).toBe(49);
    expect(a.totalMs).toBeCloseTo(a.ttftMs + a.gapsMs.reduce((s, g) => s + g, 0), 6);
    const half = sampleSchedule(profile, 50, 0.5, createRandom(7));
    expect(half.ttftMs).toBeCloseTo(a.ttftMs / 2, 6);
    expect(sampleSchedule(profile, 50, 0, createRandom(7))).toEqual({ ttftMs: 0, gapsMs: [], totalMs: 0 });
    const gaps = Array.from(
      { length: 200 },
      () => sampleSchedule(profile, 100, 1, createRandom(1)).gapsMs,
    ).flat();
    gaps.sort((x, y) => x - y);
    expect(percentile(gaps, 0.5) / profile.itlMs.p50).toBeGreaterThan(0.9);
    expect(percentile(gaps, 0.5) / profile.itlMs.p50).toBeLessThan(1.1);
  });

  it('ships default profiles derived from the published medians', () => {
    expect(DEFAULT_PROFILES['gpt-4o']!.ttftMs.p50).toBe(450);
    expect(DEFAULT_PROFILES['gpt-4o']!.itlMs.p50).toBeCloseTo(1000 / 131, 1);
    expect(DEFAULT_PROFILES['gemini-2.5-flash']!.itlMs.p50).toBeCloseTo(1000 / 204.5, 1);
  });
});

describe('ConcurrencyGate', () => {
  it('admits up to the limit, queues FIFO up to maxQueue, and refuses beyond', async () => {
    const gate = new ConcurrencyGate(1, 2);
    expect(gate.tryAcquire()).toBe(true);
    const order: string[] = [];
    const second = gate.acquire(() => {}).then((ok) => order.push(`second:${ok}`));
    const third = gate.acquire(() => {}).then((ok) => order.push(`third:${ok}`));
    expect(await gate.acquire(() => {})).toBe(false);
    expect(gate.queued).toBe(2);
    gate.release();
    await second;
    gate.release();
    await third;
    expect(order).toEqual(['second:true', 'third:true']);
    gate.release();
    expect(gate.active).toBe(0);
  });

  it('drops a cancelled waiter', async () => {
    const gate = new ConcurrencyGate(1, 5);
    gate.tryAcquire();
    let cancel: (() => void) | undefined;
    const waiting = gate.acquire((c) => {
      cancel = c;
    });
    cancel!();
    expect(await waiting).toBe(false);
    expect(gate.queued).toBe(0);
  });
});

describe('latency and queueing over HTTP', () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('holds a slot while a slow request runs, refuses when the queue is full, and logs client_closed', async () => {
    sim = await startSimulator({
      timeScale: 1,
      scenario: {
        profiles: {
          'gpt-4o-mini': {
            ttftMs: { p50: 60_000, p99: 60_000 },
            itlMs: { p50: 1, p99: 1 },
            concurrency: 1,
            maxQueue: 0,
          },
        },
      },
    });
    const controller = new AbortController();
    const slow = fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'slow' }],
      }),
      signal: controller.signal,
    });
    const response = await slow;
    expect(response.status).toBe(200);
    expect(sim.stats()).toMatchObject({ inFlight: 1 });
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0 });
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 503 });
    controller.abort();
    for (let i = 0; i < 200 && sim.requestLog()[0]!.outcome === 'in_progress'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const [first, second] = sim.requestLog();
    expect(first).toMatchObject({
      outcome: 'client_closed',
      stream: true,
      status: 200,
      model: 'gpt-4o-mini',
    });
    expect(second).toMatchObject({ outcome: 'overloaded', status: 503 });
    expect(sim.stats().inFlight).toBe(0);
  });
});
