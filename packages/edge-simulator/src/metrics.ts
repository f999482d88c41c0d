import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The simulator's Prometheus instruments, on a registry of its own (never the global one). */
export class SimulatorMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'provider' | 'model' | 'status' | 'outcome'>;
  readonly duration: Histogram<'provider' | 'model'>;
  readonly tokens: Counter<'provider' | 'model' | 'type'>;
  readonly faults: Counter<'provider' | 'kind'>;
  readonly inFlight: Gauge<'model'>;
  readonly queued: Gauge<'model'>;

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'llm_edge_sim_requests_total',
      help: 'Requests answered by the simulator, by provider surface, model, HTTP status and outcome.',
      labelNames: ['provider', 'model', 'status', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'llm_edge_sim_request_duration_seconds',
      help: 'Time from request to the end of the response.',
      labelNames: ['provider', 'model'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.tokens = new Counter({
      name: 'llm_edge_sim_tokens_total',
      help: 'Tokens reported in usage, by type (prompt or completion).',
      labelNames: ['provider', 'model', 'type'],
      registers,
    });
    this.faults = new Counter({
      name: 'llm_edge_sim_faults_total',
      help: 'Faults injected, by kind.',
      labelNames: ['provider', 'kind'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'llm_edge_sim_in_flight',
      help: 'Requests holding a concurrency slot, by model.',
      labelNames: ['model'],
      registers,
    });
    this.queued = new Gauge({
      name: 'llm_edge_sim_queued',
      help: 'Requests waiting for a concurrency slot, by model.',
      labelNames: ['model'],
      registers,
    });
  }

  reset(): void {
    this.registry.resetMetrics();
  }
}
