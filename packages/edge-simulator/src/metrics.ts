import { Counter, Gauge, Histogram, Registry } from 'prom-client';

type RequestLabels = { provider: string; model: string; status: string; outcome: string };
type TokenLabels = { provider: string; model: string; type: string };

/**
 * The simulator's Prometheus instruments, on a registry of its own (never the global one).
 * Request and token counters are kept in plain maps on the hot path and copied into prom-client
 * when scraped, which keeps label hashing out of every request.
 */
export class SimulatorMetrics {
  readonly registry = new Registry();
  readonly duration: Histogram<'provider' | 'model'>;
  readonly faults: Counter<'provider' | 'kind'>;
  private readonly requestCounts = new Map<string, { labels: RequestLabels; count: number }>();
  private readonly tokenCounts = new Map<string, { labels: TokenLabels; count: number }>();

  constructor(gates: () => Iterable<[string, { active: number; queued: number }]>) {
    const registers = [this.registry];
    const requestCounts = this.requestCounts;
    const tokenCounts = this.tokenCounts;
    new Counter({
      name: 'llm_edge_sim_requests_total',
      help: 'Requests answered by the simulator, by provider surface, model, HTTP status and outcome.',
      labelNames: ['provider', 'model', 'status', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const { labels, count } of requestCounts.values()) this.inc(labels, count);
      },
    });
    new Counter({
      name: 'llm_edge_sim_tokens_total',
      help: 'Tokens reported in usage, by type (prompt or completion).',
      labelNames: ['provider', 'model', 'type'],
      registers,
      collect() {
        this.reset();
        for (const { labels, count } of tokenCounts.values()) if (count > 0) this.inc(labels, count);
      },
    });
    this.duration = new Histogram({
      name: 'llm_edge_sim_request_duration_seconds',
      help: 'Time from request to the end of the response.',
      labelNames: ['provider', 'model'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.faults = new Counter({
      name: 'llm_edge_sim_faults_total',
      help: 'Faults injected, by kind.',
      labelNames: ['provider', 'kind'],
      registers,
    });
    new Gauge({
      name: 'llm_edge_sim_in_flight',
      help: 'Requests holding a concurrency slot, by model.',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const [model, gate] of gates()) this.set({ model }, gate.active);
      },
    });
    new Gauge({
      name: 'llm_edge_sim_queued',
      help: 'Requests waiting for a concurrency slot, by model.',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const [model, gate] of gates()) this.set({ model }, gate.queued);
      },
    });
  }

  /** Counts one finished request. */
  request(provider: string, model: string, status: string, outcome: string): void {
    const key = `${provider}\u0000${model}\u0000${status}\u0000${outcome}`;
    const entry = this.requestCounts.get(key);
    if (entry) entry.count++;
    else this.requestCounts.set(key, { labels: { provider, model, status, outcome }, count: 1 });
  }

  /** Adds usage tokens. */
  tokens(provider: string, model: string, type: 'prompt' | 'completion', count: number): void {
    const key = `${provider}\u0000${model}\u0000${type}`;
    const entry = this.tokenCounts.get(key);
    if (entry) entry.count += count;
    else this.tokenCounts.set(key, { labels: { provider, model, type }, count });
  }

  reset(): void {
    this.requestCounts.clear();
    this.tokenCounts.clear();
    this.registry.resetMetrics();
  }
}
