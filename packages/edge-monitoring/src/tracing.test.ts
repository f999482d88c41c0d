import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Context,
  type ContextManager,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGenAiTracing,
  extractTraceContext,
  GEN_AI_ATTRIBUTES,
  genAiProviderName,
  injectTraceHeaders,
  runWithContext,
} from './tracing';

/** The smallest real context manager (what @opentelemetry/context-async-hooks does), for parent-child checks. */
class AlsContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

beforeAll(() => {
  context.setGlobalContextManager(new AlsContextManager());
});
afterAll(() => {
  context.disable();
});
beforeEach(() => exporter.reset());

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

describe('createGenAiTracing', () => {
  it('records a chat span with GenAI semantic-convention attributes', () => {
    const tracing = createGenAiTracing({ tracer });
    const span = tracing.startInferenceSpan({
      operation: 'chat',
      provider: genAiProviderName('openai'),
      model: 'gpt-4o-mini',
      maxTokens: 256,
      temperature: 0.2,
      topP: 0.9,
      stream: true,
      serverAddress: 'api.openai.com',
      serverPort: 443,
      attributes: { 'llm_edge.target': 'openai-mini', ignored: undefined },
    });
    span.recordFirstToken(120);
    span.recordFirstToken(999);
    span.setResponse({
      id: 'chatcmpl-1',
      model: 'gpt-4o-mini-2024-07-18',
      finishReasons: ['stop'],
      usage: { inputTokens: 9, outputTokens: 2, cachedInputTokens: 4 },
    });
    span.end();
    span.end();

    const [finished, ...rest] = exporter.getFinishedSpans();
    expect(rest).toHaveLength(0);
    expect(finished!.name).toBe('chat gpt-4o-mini');
    expect(finished!.kind).toBe(SpanKind.CLIENT);
    expect(finished!.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.max_tokens': 256,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.stream': true,
      'server.address': 'api.openai.com',
      'server.port': 443,
      'llm_edge.target': 'openai-mini',
      'llm_edge.ttft_ms': 120,
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 9,
      'gen_ai.usage.output_tokens': 2,
      'gen_ai.usage.cache_read.input_tokens': 4,
    });
    expect(finished!.events.map((e) => e.name)).toEqual(['gen_ai.first_token']);
  });

  it('can leave out the legacy gen_ai.system attribute', () => {
    const tracing = createGenAiTracing({ tracer, emitLegacySystemAttribute: false });
    tracing
      .startInferenceSpan({ operation: 'embeddings', provider: 'gcp.gemini', model: 'text-embedding-004' })
      .end();
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe('embeddings text-embedding-004');
    expect(span!.attributes[GEN_AI_ATTRIBUTES.SYSTEM]).toBeUndefined();
    expect(span!.attributes[GEN_AI_ATTRIBUTES.PROVIDER_NAME]).toBe('gcp.gemini');
  });

  it('marks failures with error.type from the stable code and scrubs secrets from the exception', () => {
    const tracing = createGenAiTracing({ tracer });
    const span = tracing.startInferenceSpan({ operation: 'chat', provider: 'anthropic', model: 'claude' });
    const error = Object.assign(new Error('bad key sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA'), {
      code: 'LLM_EDGE_PROVIDER_ERROR',
    });
    span.fail(error);
    span.end();
    const [finished] = exporter.getFinishedSpans();
    expect(finished!.status.code).toBe(SpanStatusCode.ERROR);
    expect(finished!.attributes['error.type']).toBe('LLM_EDGE_PROVIDER_ERROR');
    const exception = finished!.events.find((e) => e.name === 'exception');
    expect(JSON.stringify(exception)).not.toContain('AAAAAAAAAAAAAAAAAAAAAAAA');
    expect(exception!.attributes!['exception.message']).toBe('bad key [REDACTED]');
  });

  it('parents the request span on the client traceparent and inference spans on the request span', () => {
    const tracing = createGenAiTracing({ tracer });
    const request = tracing.startRequestSpan({
      method: 'POST',
      route: '/v1/chat/completions',
      headers: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` },
      requestId: 'req_1',
      clientAddress: '127.0.0.1',
    });
    const inference = tracing.startInferenceSpan({
      operation: 'chat',
      provider: 'openai',
      model: 'm',
      parent: request.context,
    });
    inference.end();
    request.endWithStatus(502);
    request.endWithStatus(200);
    const [child, server] = exporter.getFinishedSpans();
    expect(server!.name).toBe('POST /v1/chat/completions');
    expect(server!.kind).toBe(SpanKind.SERVER);
    expect(server!.spanContext().traceId).toBe(TRACE_ID);
    expect(server!.parentSpanContext?.spanId).toBe(SPAN_ID);
    expect(server!.attributes['http.response.status_code']).toBe(502);
    expect(server!.attributes['llm_edge.request_id']).toBe('req_1');
    expect(server!.status.code).toBe(SpanStatusCode.ERROR);
    expect(child!.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
  });

  it('runs stages in their span so nested spans are children, and fails the stage when it throws', async () => {
    const tracing = createGenAiTracing({ tracer });
    const request = tracing.startRequestSpan({ method: 'POST', route: '/v1/embeddings' });
    await runWithContext(request.context, () =>
      tracing.withStage('authenticate', async () => {
        tracing.startInferenceSpan({ operation: 'embeddings', provider: 'openai', model: 'e' }).end();
      }),
    );
    await expect(
      tracing.withStage('rate-limit', () => {
        throw Object.assign(new Error('limited'), { code: 'LLM_EDGE_RATE_LIMITED' });
      }),
    ).rejects.toThrow('limited');
    request.end();
    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const stage = byName.get('authenticate')!;
    expect(stage.kind).toBe(SpanKind.INTERNAL);
    expect(stage.parentSpanContext?.spanId).toBe(byName.get('POST /v1/embeddings')!.spanContext().spanId);
    expect(byName.get('embeddings e')!.parentSpanContext?.spanId).toBe(stage.spanContext().spanId);
    expect(byName.get('rate-limit')!.attributes['error.type']).toBe('LLM_EDGE_RATE_LIMITED');
  });

  it('never throws when the tracer does, and counts the failure', () => {
    const failures: unknown[] = [];
    const broken = {
      startSpan: () => {
        throw new Error('tracer broke');
      },
      startActiveSpan: () => {
        throw new Error('tracer broke');
      },
    } as unknown as typeof tracer;
    const tracing = createGenAiTracing({ tracer: broken, onFailure: (e) => failures.push(e) });
    const span = tracing.startInferenceSpan({ operation: 'chat', provider: 'openai', model: 'm' });
    expect(() => {
      span.setResponse({ id: 'x' });
      span.fail(new Error('x'));
      span.end();
    }).not.toThrow();
    expect(tracing.failures).toBe(1);
    expect(failures).toHaveLength(1);
  });
});

describe('trace context propagation', () => {
  it('writes a W3C traceparent for the span even with no propagator registered', () => {
    const tracing = createGenAiTracing({ tracer });
    const span = tracing.startInferenceSpan({ operation: 'chat', provider: 'openai', model: 'm' });
    const headers = span.injectHeaders({ authorization: 'Bearer x' });
    span.end();
    const id = exporter.getFinishedSpans()[0]!.spanContext();
    expect(headers).toEqual({ authorization: 'Bearer x', traceparent: `00-${id.traceId}-${id.spanId}-01` });
  });

  it('uses the registered propagator when there is one', () => {
    const custom: TextMapPropagator = {
      inject: (ctx, carrier, setter) =>
        setter.set(carrier, 'x-custom-trace', trace.getSpanContext(ctx)?.traceId ?? ''),
      extract: (ctx) => ctx,
      fields: () => ['x-custom-trace'],
    };
    propagation.setGlobalPropagator(custom);
    try {
      const span = createGenAiTracing({ tracer }).startInferenceSpan({
        operation: 'chat',
        provider: 'openai',
        model: 'm',
      });
      const headers = span.injectHeaders();
      expect(Object.keys(headers)).toEqual(['x-custom-trace']);
      span.end();
    } finally {
      propagation.disable();
    }
  });

  it('without an SDK, passes the incoming trace on through request, stage and inference spans', async () => {
    // No tracer option and no global provider: the API's no-op tracer.
    const tracing = createGenAiTracing();
    const request = tracing.startRequestSpan({
      method: 'POST',
      route: '/v1/chat/completions',
      headers: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` },
    });
    expect(request.span.isRecording()).toBe(false);
    const headers = await tracing.withStage(
      'route',
      (stage) =>
        tracing
          .startInferenceSpan({ operation: 'chat', provider: 'openai', model: 'm', parent: stage.context })
          .injectHeaders(),
      { parent: request.context },
    );
    expect(headers).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` });

    const root = tracing.startRequestSpan({ method: 'GET', route: '/v1/models', headers: {} });
    const stage = tracing.startStageSpan('validate', { parent: root.context });
    expect(stage.context).toBe(root.context);
    expect(stage.span.isRecording()).toBe(false);
    expect(injectTraceHeaders({}, stage.context)).toEqual({});
  });

  it('writes nothing without a valid span context', () => {
    expect(injectTraceHeaders({}, ROOT_CONTEXT)).toEqual({});
  });

  it('extracts a valid traceparent and ignores malformed ones', () => {
    const ctx = extractTraceContext({ traceparent: [`00-${TRACE_ID}-${SPAN_ID}-01`] });
    expect(trace.getSpanContext(ctx)).toMatchObject({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
      isRemote: true,
    });
    for (const bad of [`00-${'0'.repeat(32)}-${SPAN_ID}-01`, 'garbage', `ff-${TRACE_ID}-${SPAN_ID}-01`, '']) {
      expect(trace.getSpanContext(extractTraceContext({ traceparent: bad }))).toBeUndefined();
    }
  });

  it('maps provider kinds to gen_ai.provider.name values', () => {
    expect(genAiProviderName('azure-openai')).toBe('azure.ai.openai');
    expect(genAiProviderName('gemini')).toBe('gcp.gemini');
    expect(genAiProviderName('anthropic')).toBe('anthropic');
    expect(genAiProviderName('openai-compatible', 'local-vllm')).toBe('local-vllm');
  });
});

/** The test tracer, with every span's `end()` calls counted by span name. */
function countingTracer() {
  const ends = new Map<string, number>();
  const counting = {
    startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
      const span = tracer.startSpan(name, options, ctx);
      const end = span.end.bind(span);
      span.end = (time) => {
        ends.set(name, (ends.get(name) ?? 0) + 1);
        end(time);
      };
      return span;
    },
    startActiveSpan: () => {
      throw new Error('not used');
    },
  } as unknown as Tracer;
  return { tracer: counting, ends };
}

describe('withStage', () => {
  function finished(name: string) {
    return exporter.getFinishedSpans().find((s) => s.name === name);
  }

  it('returns a promise of what a synchronous fn returns, and ends the span once', async () => {
    const { tracer: counting, ends } = countingTracer();
    const tracing = createGenAiTracing({ tracer: counting });
    const result = tracing.withStage('validate', () => 7);
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(7);
    expect(ends.get('validate')).toBe(1);
    expect(finished('validate')!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('turns a synchronous throw into a rejection with the same error, failing and ending the span', async () => {
    const { tracer: counting, ends } = countingTracer();
    const tracing = createGenAiTracing({ tracer: counting });
    const error = Object.assign(new Error('bad key'), { code: 'LLM_EDGE_AUTH' });
    let result: Promise<never> | undefined;
    expect(() => {
      result = tracing.withStage('authenticate', () => {
        throw error;
      });
    }).not.toThrow();
    expect(result).toBeInstanceOf(Promise);
    // Ended before the caller even awaits.
    expect(ends.get('authenticate')).toBe(1);
    await expect(result).rejects.toBe(error);
    expect(ends.get('authenticate')).toBe(1);
    const span = finished('authenticate')!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('LLM_EDGE_AUTH');
  });

  it('rejects with the same error when the promise rejects, failing and ending the span once', async () => {
    const { tracer: counting, ends } = countingTracer();
    const tracing = createGenAiTracing({ tracer: counting });
    const error = Object.assign(new Error('limited'), { code: 'LLM_EDGE_RATE_LIMITED' });
    const result = tracing.withStage('rate-limit', async () => {
      await Promise.resolve();
      throw error;
    });
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toBe(error);
    expect(ends.get('rate-limit')).toBe(1);
    const span = finished('rate-limit')!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('LLM_EDGE_RATE_LIMITED');
  });

  it('ends the span only when the promise settles, and runs fn in the stage context throughout', async () => {
    const { tracer: counting, ends } = countingTracer();
    const tracing = createGenAiTracing({ tracer: counting });
    const request = tracing.startRequestSpan({ method: 'POST', route: '/v1/chat/completions' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const seen: (string | undefined)[] = [];
    const result = tracing.withStage(
      'route',
      async (stage) => {
        seen.push(trace.getActiveSpan()?.spanContext().spanId);
        await gate;
        seen.push(trace.getActiveSpan()?.spanContext().spanId);
        expect(stage.span.isRecording()).toBe(true);
        return 'routed';
      },
      { parent: request.context },
    );
    await Promise.resolve();
    expect(ends.get('route')).toBeUndefined();
    release();
    expect(await result).toBe('routed');
    expect(ends.get('route')).toBe(1);
    const stage = finished('route')!;
    expect(seen).toEqual([stage.spanContext().spanId, stage.spanContext().spanId]);
    expect(stage.parentSpanContext?.spanId).toBe(request.span.spanContext().spanId);
    // Outside fn, the stage context is not left active.
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('adopts a thenable that is not a native promise', async () => {
    const { tracer: counting, ends } = countingTracer();
    const tracing = createGenAiTracing({ tracer: counting });
    const thenable: PromiseLike<number> = {
      // biome-ignore lint/suspicious/noThenProperty: a non-native thenable is the point of this test.
      then: (onFulfilled) => Promise.resolve(onFulfilled?.(5)) as never,
    };
    const result = tracing.withStage('cache', () => thenable as unknown as Promise<number>);
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(5);
    expect(ends.get('cache')).toBe(1);
  });

  it('still runs fn when the tracer throws, without a span', async () => {
    const broken = {
      startSpan: () => {
        throw new Error('tracer broke');
      },
    } as unknown as Tracer;
    const tracing = createGenAiTracing({ tracer: broken });
    expect(await tracing.withStage('validate', async () => 'ok')).toBe('ok');
    await expect(
      tracing.withStage('validate', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(tracing.failures).toBe(2);
  });

  it('without an SDK, runs fn in the parent context and keeps every outcome a promise', async () => {
    const tracing = createGenAiTracing({ tracer: trace.getTracer('no-sdk') });
    const parent = extractTraceContext({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` });
    let active: Context | undefined;
    const sync = tracing.withStage(
      'validate',
      (stage) => {
        active = context.active();
        expect(stage.context).toBe(parent);
        return 1;
      },
      { parent },
    );
    expect(sync).toBeInstanceOf(Promise);
    expect(await sync).toBe(1);
    expect(active).toBe(parent);
    const error = new Error('no');
    await expect(tracing.withStage('validate', () => Promise.reject(error), { parent })).rejects.toBe(error);
    await expect(
      tracing.withStage(
        'validate',
        () => {
          throw error;
        },
        { parent },
      ),
    ).rejects.toBe(error);
  });
});
