import type { Tracer } from '@llm-edge/monitoring';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { GatewayConfig } from './config-schema';

/** `ExportResultCode.SUCCESS` of `@opentelemetry/core`. */
const EXPORT_SUCCESS = 0;

/** The gateway's own span pipeline: a tracer, and the flush that ends it. */
export interface TraceExport {
  /** Tracer the gateway's spans are started on (not registered globally). */
  readonly tracer: Tracer;
  /** Exports what is buffered, then stops; spans ended later are dropped. */
  shutdown(): Promise<void>;
}

/**
 * Sets up span export for one gateway when `telemetry.tracing.exporter` is `otlp`: an SDK tracer
 * provider with a batch processor and the OTLP/HTTP (JSON) exporter. Nothing is registered with
 * the global OpenTelemetry API, so several gateways in one process each export their own spans
 * and an SDK the application registered itself is left alone. Returns `undefined` for `none`.
 */
export function createTraceExport(
  config: GatewayConfig['telemetry']['tracing'],
  onExportFailure: () => void,
): TraceExport | undefined {
  if (config.exporter !== 'otlp') return undefined;
  const exporter = countingExporter(
    new OTLPTraceExporter({
      ...(config.endpoint !== undefined ? { url: config.endpoint } : {}),
      headers: config.headers,
    }),
    onExportFailure,
  );
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    // A client's sampled traceparent is followed; new traces are kept at `sampleRatio`.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  return {
    tracer: provider.getTracer('@llm-edge/agent'),
    shutdown: () => provider.shutdown(),
  };
}

/** The exporter, with each failed export (collector down, refused) counted. */
function countingExporter(exporter: SpanExporter, onFailure: () => void): SpanExporter {
  return {
    export(spans, resultCallback) {
      exporter.export(spans, (result) => {
        if (result.code !== EXPORT_SUCCESS) onFailure();
        resultCallback(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
