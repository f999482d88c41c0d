import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Agent, type Dispatcher } from 'undici';
import { ProviderError } from './errors';
import type { ProviderTimeouts } from './provider';

/** Maps a non-2xx upstream answer to the provider's ProviderError. */
export type ErrorResponseMapper = (response: {
  status: number;
  headers: Record<string, string>;
  bodyText: string;
}) => ProviderError;

/** One upstream HTTP call. */
export interface TransportRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

/** An upstream response whose status was 2xx, its body streamed. */
export interface TransportResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /**
   * The body chunks, under the first-byte and idle timeouts (one iterator per response). A failure
   * (abort, timeout, reset) closes the connection; a consumer that stops reading early must then
   * call `close()` or `release()`.
   */
  chunks(): AsyncIterableIterator<Uint8Array>;
  /** Abandons the call: closes the upstream connection if the body was not read to its end. */
  close(): void;
  /**
   * Ends a call whose consumer has all it needs (its protocol's last event arrived) while the body
   * may not have ended yet: reads what is left in the background, so the connection goes back to
   * the keep-alive pool, and closes it only if the upstream keeps sending or stalls.
   */
  release(): void;
}

/** Settings of {@link HttpTransport}. */
export interface HttpTransportOptions {
  provider: string;
  timeouts: ProviderTimeouts;
  dispatcher?: Dispatcher | undefined;
  mapErrorResponse: ErrorResponseMapper;
}

const MAX_ERROR_BODY_CHARS = 64 * 1024;
/**
 * Most bytes of an error answer's body read before the connection is given up: enough for any
 * error a provider sends (its first 64 Ki characters are kept), and a bound on what an upstream
 * answering with a huge error page can make the gateway hold.
 */
const MAX_ERROR_BODY_BYTES = 256 * 1024;
/** Most bytes `release()` reads past the last event before it gives the connection up. */
const RELEASE_MAX_BYTES = 64 * 1024;
/** Longest `release()` waits for the body's end before it gives the connection up. */
const RELEASE_MAX_WAIT_MS = 5_000;
/**
 * Bytes of a streamed body held for a consumer that has not asked for them yet, past which the
 * upstream connection is paused (undici's own body stream holds the same 64 KiB).
 */
const STREAM_HIGH_WATER_BYTES = 64 * 1024;
/** Distinct URLs whose parsed origin and path are kept (the set is small: one per operation and deployment). */
const MAX_CACHED_URLS = 256;

function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in raw) {
    const value = raw[key];
    if (value === undefined) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Sends JSON requests through undici with connect / first-byte / idle timeouts and caller
 * cancellation, turning every transport failure into a ProviderError.
 *
 * Answers are read through undici's dispatch handler rather than `request()`'s body stream: a JSON
 * answer is read whole and a streamed one chunk by chunk by one consumer, so the `Readable`, its
 * listeners, its async iterator and its abort wiring bought nothing: they were a tenth of the
 * instructions of a JSON request through the gateway, and ~3.6 KB of heap per open stream.
 */
export class HttpTransport {
  readonly #provider: string;
  readonly #timeouts: ProviderTimeouts;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #mapErrorResponse: ErrorResponseMapper;
  readonly #targets = new Map<string, { origin: string; path: string }>();

  constructor(options: HttpTransportOptions) {
    this.#provider = options.provider;
    this.#timeouts = options.timeouts;
    this.#mapErrorResponse = options.mapErrorResponse;
    this.#ownsDispatcher = options.dispatcher === undefined;
    // An Agent keeps one keep-alive connection pool per origin.
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: options.timeouts.connectMs },
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 300_000,
      });
  }

  /** Closes the owned connection pools (a dispatcher passed in is left to its owner). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /**
   * Sends the request; resolves once a 2xx answer's headers arrived, with its body to stream, and
   * rejects with a ProviderError otherwise (an error answer is read whole first).
   */
  async send(request: TransportRequest): Promise<TransportResponse> {
    const { handler, answer } = this.#start(request, true);
    const head = await answer;
    if (head.status < 200 || head.status >= 300) throw this.#errorOf(head, handler);
    return handler;
  }

  /** Sends the request and parses a 2xx JSON answer. */
  async json(request: TransportRequest): Promise<{ body: unknown; text: string }> {
    const { handler, answer } = this.#start(request, false);
    const { status, text } = await answer;
    if (status < 200 || status >= 300) throw this.#errorOf({ status, text }, handler);
    try {
      return { body: JSON.parse(text), text };
    } catch (error) {
      throw new ProviderError({
        provider: this.#provider,
        kind: 'server',
        status,
        message: `${this.#provider} answered ${status} with a body that is not JSON`,
        body: text.slice(0, 2048),
        cause: error,
      });
    }
  }

  /**
   * Dispatches the request under the first-byte timer and the caller's cancellation. `answer`
   * settles with the whole answer, or, for `streamed`, once a 2xx answer's headers arrived.
   */
  #start(
    request: TransportRequest,
    streamed: boolean,
  ): { handler: UpstreamAnswer; answer: Promise<CollectedAnswer> } {
    const call = new UpstreamCall(this.#provider, request.signal);
    const options = this.#dispatchOptions(request);
    let handler!: UpstreamAnswer;
    const answer = new Promise<CollectedAnswer>((resolve, reject) => {
      handler = new UpstreamAnswer(call, this.#timeouts.idleMs, streamed, resolve, reject);
    });
    call.arm(this.#timeouts.firstByteMs, 'first_byte');
    try {
      this.#dispatcher.dispatch(options, handler);
    } catch (error) {
      handler.fail(error);
    }
    return { handler, answer };
  }

  /** The ProviderError of a non-2xx answer. */
  #errorOf(answer: CollectedAnswer, handler: UpstreamAnswer): ProviderError {
    return this.#mapErrorResponse({
      status: answer.status,
      headers: handler.headers,
      bodyText: answer.text.slice(0, MAX_ERROR_BODY_CHARS),
    });
  }

  /**
   * What undici is asked to send: the body as JSON text (with a JSON content type unless one is
   * set), and undici's own timeouts off, since they are enforced here so each maps to a named phase.
   */
  #dispatchOptions(request: TransportRequest): Dispatcher.DispatchOptions {
    const target = this.#target(request.url);
    let headers = request.headers;
    let body: string | undefined;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      if (headers['content-type'] === undefined) headers = { ...headers, 'content-type': 'application/json' };
    }
    return {
      origin: target.origin,
      path: target.path,
      method: request.method,
      headers,
      body,
      headersTimeout: 0,
      bodyTimeout: 0,
    };
  }

  /** The origin and path of a URL; an adapter calls few distinct URLs, so parsing each once pays. */
  #target(url: string): { origin: string; path: string } {
    let target = this.#targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: parsed.pathname + parsed.search };
      if (this.#targets.size >= MAX_CACHED_URLS) this.#targets.clear();
      this.#targets.set(url, target);
    }
    return target;
  }
}

/**
 * The cancellation and timer of one upstream call: the caller's signal and the first-byte / idle
 * timeouts all end it with a ProviderError, which is the reason it reports from then on.
 */
class UpstreamCall {
  readonly #provider: string;
  readonly #caller: AbortSignal | undefined;
  #timer: NodeJS.Timeout | undefined;
  #listening = false;
  #reason: ProviderError | undefined;
  /** Told of the abort: the handler, which cuts the connection and settles. */
  #onAbort: ((reason: ProviderError) => void) | undefined;

  constructor(provider: string, caller: AbortSignal | undefined) {
    if (caller?.aborted) throw abortedError(provider, caller.reason);
    this.#provider = provider;
    this.#caller = caller;
    if (caller !== undefined) {
      caller.addEventListener('abort', this, { once: true });
      this.#listening = true;
    }
  }

  /** The caller's abort (the call object is its own listener, so no closure per call). */
  handleEvent(): void {
    this.#listening = false;
    this.abort(abortedError(this.#provider, this.#caller?.reason));
  }

  /** Ends the call with `reason` (a timeout or the caller's abort), once. */
  abort(reason: ProviderError): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#onAbort?.(reason);
  }

  /** Calls `listener` when the call is aborted (at most one listener). */
  onAbort(listener: (reason: ProviderError) => void): void {
    this.#onAbort = listener;
  }

  /** The reason the call was aborted, if it was. */
  get abortReason(): ProviderError | undefined {
    return this.#reason;
  }

  /** (Re)starts the call's one timer: when it fires, the call ends as timed out in `phase`. */
  arm(ms: number, phase: 'first_byte' | 'idle'): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.abort(timeoutError(this.#provider, phase, ms)), ms);
  }

  /** Restarts the running timer (a chunk arrived within it). */
  refreshTimer(): void {
    this.#timer?.refresh();
  }

  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and the caller's listener. */
  finish(): void {
    this.disarm();
    if (this.#listening) {
      this.#listening = false;
      this.#caller?.removeEventListener('abort', this);
    }
  }

  /** The ProviderError for a failure: the call's abort reason explains it best, if there is one. */
  translate(error: unknown): ProviderError {
    return this.#reason ?? transportError(this.#provider, error);
  }
}

/** A body's chunks as UTF-8 text, a leading byte-order mark dropped. */
function bodyText(parts: readonly Buffer[]): string {
  if (parts.length === 0) return '';
  const text = parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * An upstream answer as {@link UpstreamAnswer} settles it: whole, or a streamed one's head. The
 * headers stay on the handler: a successful answer's are rarely read.
 */
interface CollectedAnswer {
  status: number;
  /** The body as UTF-8 text, a leading byte-order mark dropped ('' for a streamed 2xx answer). */
  text: string;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** Why a streamed body's connection was cut by this side: no error object (and stack) per cut. */
const CLOSED_BY_CONSUMER = new Error('upstream body closed by its consumer');

/** A `next()` waiting for a streamed body's next chunk. */
interface ChunkWaiter {
  resolve: (step: IteratorResult<Uint8Array>) => void;
  reject: (error: unknown) => void;
}

/**
 * An undici dispatch handler for one upstream answer, under the call's first-byte and idle timers
 * and its cancellation. It settles its promise once: with the whole answer at its end, or, when
 * `streamed`, with a 2xx answer's head as soon as it arrives; or with the ProviderError of what cut
 * it short (the call's abort reason, or the transport failure).
 *
 * A streamed 2xx body is then its own pull iterator: chunks are handed to waiting `next()` calls
 * (in order) or queued, and the connection is paused while the consumer is 64 KiB behind. The idle
 * timer runs while the upstream may send, so a consumer holding a chunk does not time it out, and
 * the caller's abort counts until the consumer has taken everything, even after the body ended.
 */
class UpstreamAnswer
  implements Dispatcher.DispatchHandler, TransportResponse, AsyncIterableIterator<Uint8Array>
{
  readonly #call: UpstreamCall;
  readonly #idleMs: number;
  readonly #streamed: boolean;
  readonly #resolve: (answer: CollectedAnswer) => void;
  readonly #reject: (error: ProviderError) => void;
  /** undici's handle on the request, until the body ends or fails (it holds the socket). */
  #controller: Dispatcher.DispatchController | undefined;
  #status = 0;
  /** undici's parsed headers, turned into {@link UpstreamAnswer.headers} only when read. */
  #rawHeaders: Record<string, string | string[] | undefined> | undefined;
  #headers: Record<string, string> | undefined;
  /** The body so far (collected), or the chunks not yet taken (streamed). */
  #parts: Buffer[] = [];
  #queuedBytes = 0;
  #receiving = false;
  #collectedBytes = 0;
  #settled = false;
  /** A 2xx answer handed over as a stream; the fields below are its state. */
  #streaming = false;
  /** The upstream body ended. */
  #ended = false;
  /** The stream failed: `#failure` is reported once the chunks before it are taken. */
  #failed = false;
  #failure: ProviderError | undefined;
  /** The consumer gave the call up (`close()` or `release()`). */
  #closed = false;
  /** The consumer stopped iterating (`return()`). */
  #returned = false;
  readonly #waiters: ChunkWaiter[] = [];
  /** A hand-over to the waiting consumer is queued as a microtask. */
  #flushing = false;
  #flusher: (() => void) | undefined;
  /** Bytes read past the consumer's last event by `release()`, or -1 when not releasing. */
  #drained = -1;

  constructor(
    call: UpstreamCall,
    idleMs: number,
    streamed: boolean,
    resolve: (answer: CollectedAnswer) => void,
    reject: (error: ProviderError) => void,
  ) {
    this.#call = call;
    this.#idleMs = idleMs;
    this.#streamed = streamed;
    this.#resolve = resolve;
    this.#reject = reject;
    // The caller hears of an abort at once, even while undici still holds the request in its
    // queue; the connection is cut as soon as undici hands the request over.
    call.onAbort((reason) => {
      this.#controller?.abort(reason);
      this.fail(reason);
    });
  }

  get status(): number {
    return this.#status;
  }

  get headers(): Record<string, string> {
    // Only error answers need them (retry hints, the error mappers), so a successful answer does
    // not pay for the copy.
    this.#headers ??= this.#rawHeaders === undefined ? NO_HEADERS : headerRecord(this.#rawHeaders);
    return this.#headers;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    const reason = this.#call.abortReason;
    if (reason !== undefined) {
      controller.abort(reason);
      return;
    }
    this.#controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // 1xx answers are informational; the real one follows.
    if (statusCode < 200) return;
    this.#status = statusCode;
    this.#rawHeaders = headers;
    if (this.#streamed && statusCode < 300) {
      this.#streaming = true;
      this.#settled = true;
      this.#resolve({ status: statusCode, text: '' });
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#drained >= 0) {
      this.#drained += chunk.byteLength;
      if (this.#drained > RELEASE_MAX_BYTES) this.#cut();
      return;
    }
    if (this.#ended || this.#failed || this.#closed) return;
    // The first chunk ends the first-byte wait; each later one restarts the idle timer.
    if (this.#receiving) this.#call.refreshTimer();
    else {
      this.#receiving = true;
      this.#call.arm(this.#idleMs, 'idle');
    }
    this.#parts.push(chunk);
    if (!this.#streaming) {
      this.#collectedBytes += chunk.byteLength;
      if (this.#status >= 300 && this.#collectedBytes > MAX_ERROR_BODY_BYTES)
        this.#endErrorAnswer(controller);
      return;
    }
    this.#queuedBytes += chunk.byteLength;
    // A waiting consumer is handed the chunks after undici has parsed the whole socket read, so the
    // chunks of one read reach it in one piece (one step through the layers above, not one each).
    if (this.#waiters.length > 0 && !this.#flushing) {
      this.#flushing = true;
      this.#flusher ??= () => {
        this.#flushing = false;
        this.#settleWaiters();
      };
      queueMicrotask(this.#flusher);
    }
    if (this.#queuedBytes >= STREAM_HIGH_WATER_BYTES && !controller.paused) {
      // The upstream cannot send while paused, so it is not idle either.
      controller.pause();
      this.#call.disarm();
    }
  }

  onResponseEnd(): void {
    if (this.#streaming) {
      this.#controller = undefined;
      this.#drained = -1;
      if (this.#closed || this.#failed) {
        this.#call.finish();
        return;
      }
      this.#ended = true;
      // Until the consumer has taken what is queued, the caller's abort still counts.
      if (this.#parts.length === 0) this.#call.finish();
      else this.#call.disarm();
      this.#settleWaiters();
      return;
    }
    if (this.#settled) return;
    this.#settled = true;
    this.#call.finish();
    this.#resolve({ status: this.#status, text: bodyText(this.#parts) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  /**
   * Ends the answer with the ProviderError of `error` (or of the call's abort, which explains it
   * better). A stream's consumer gets the chunks that arrived before it, unless the caller aborted;
   * an error answer whose body could not be read whole is still reported by its status, unless the
   * caller aborted.
   */
  fail(error: unknown): void {
    if (this.#streaming) {
      if (this.#closed) {
        // A cut or a failure while `release()` drained the rest: nothing is left to report.
        this.#drained = -1;
        this.#controller = undefined;
        this.#call.finish();
        return;
      }
      if (this.#failed) return;
      const failure = this.#call.translate(error);
      // After the body's end only the caller's abort matters, and only while chunks are queued.
      if (this.#ended && (this.#parts.length === 0 || failure.kind !== 'aborted')) return;
      this.#call.finish();
      this.#failed = true;
      this.#controller = undefined;
      if (failure.kind === 'aborted') this.#dropQueue();
      this.#failure = failure;
      this.#settleWaiters();
      return;
    }
    if (this.#settled) return;
    this.#settled = true;
    this.#call.finish();
    const failure = this.#call.translate(error);
    const status = this.#status;
    if (status !== 0 && (status < 200 || status >= 300) && failure.kind !== 'aborted') {
      this.#resolve({ status, text: '' });
      return;
    }
    this.#reject(failure);
  }

  chunks(): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    // Reads wait in turn behind any read already waiting, as an async generator's do.
    if (this.#waiters.length === 0) {
      if (this.#parts.length > 0) return Promise.resolve(this.#take());
      const failure = this.#failure;
      if (failure !== undefined) {
        this.#failure = undefined;
        return Promise.reject(failure);
      }
      if (this.#over()) return Promise.resolve(DONE);
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  /** The consumer stopped iterating: reads end, and `close()` or `release()` ends the call. */
  return(): Promise<IteratorResult<Uint8Array>> {
    this.#returned = true;
    this.#call.finish();
    this.#dropQueue();
    this.#settleWaiters();
    return Promise.resolve(DONE);
  }

  close(): void {
    if (this.#giveUp() && !this.#ended && !this.#failed) this.#cut();
  }

  release(): void {
    if (!this.#giveUp()) return;
    const controller = this.#controller;
    if (this.#ended || this.#failed || controller === undefined) return;
    this.#drained = 0;
    // Stalling counts as the upstream keeping the connection: the timer ends in a cut.
    this.#call.arm(Math.min(this.#idleMs, RELEASE_MAX_WAIT_MS), 'idle');
    if (controller.paused) controller.resume();
  }

  /** Settles an error answer with the part of its body read so far, and cuts the rest off. */
  #endErrorAnswer(controller: Dispatcher.DispatchController): void {
    this.#settled = true;
    this.#call.finish();
    this.#resolve({ status: this.#status, text: bodyText(this.#parts) });
    this.#parts = [];
    this.#controller = undefined;
    controller.abort(CLOSED_BY_CONSUMER);
  }

  /** The consumer gives the call up: waiting reads end. False when it already had. */
  #giveUp(): boolean {
    this.#call.finish();
    this.#dropQueue();
    if (this.#closed) return false;
    this.#closed = true;
    this.#settleWaiters();
    return true;
  }

  /** Nothing more will be read: the body ended, failed, or the consumer gave it up. */
  #over(): boolean {
    return this.#ended || this.#failed || this.#closed || this.#returned;
  }

  /**
   * Everything queued, in one piece as from a stream's `read()`: for a consumer that fell behind,
   * each step through the layers above costs more than the copy.
   */
  #take(): IteratorYieldResult<Uint8Array> {
    const parts = this.#parts;
    const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.#parts = [];
    this.#queuedBytes = 0;
    if (this.#ended) {
      // The last of the body is taken: the caller's abort no longer has anything to stop.
      this.#call.finish();
    } else {
      const controller = this.#controller;
      if (controller?.paused) {
        this.#call.arm(this.#idleMs, 'idle');
        controller.resume();
      }
    }
    return { done: false, value: chunk };
  }

  /** Settles the waiting reads, in order, with what there is: chunks, then the failure or the end. */
  #settleWaiters(): void {
    const waiters = this.#waiters;
    while (waiters.length > 0) {
      if (this.#parts.length > 0) waiters.shift()!.resolve(this.#take());
      else if (this.#failure !== undefined) {
        const failure = this.#failure;
        this.#failure = undefined;
        waiters.shift()!.reject(failure);
      } else if (this.#over()) waiters.shift()!.resolve(DONE);
      else return;
    }
  }

  #dropQueue(): void {
    this.#parts = [];
    this.#queuedBytes = 0;
  }

  /** Cuts the upstream connection; nothing more is read or reported. */
  #cut(): void {
    this.#drained = -1;
    this.#call.finish();
    const controller = this.#controller;
    this.#controller = undefined;
    if (controller !== undefined && !controller.aborted) controller.abort(CLOSED_BY_CONSUMER);
  }
}

/** Parses a byte stream as server-sent events. */
export async function* readServerSentEvents(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<EventSourceMessage, void, undefined> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new TextDecoder();
  for await (const chunk of chunks) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (queue.length > 0) yield queue.shift()!;
  }
  parser.feed(decoder.decode());
  // A last event without its blank-line terminator still counts (some servers omit it at the end).
  parser.reset({ consume: true });
  while (queue.length > 0) yield queue.shift()!;
}

/** A ProviderError of kind 'aborted' for a caller's abort. */
export function abortedError(provider: string, reason: unknown): ProviderError {
  return new ProviderError({
    provider,
    kind: 'aborted',
    retryable: false,
    message: `${provider} request aborted by the caller`,
    cause: reason,
  });
}

function timeoutError(
  provider: string,
  phase: 'connect' | 'first_byte' | 'idle',
  ms?: number,
): ProviderError {
  const what =
    phase === 'connect'
      ? 'connecting'
      : phase === 'first_byte'
        ? 'waiting for the first byte'
        : 'waiting for the next chunk';
  return new ProviderError({
    provider,
    kind: 'timeout',
    providerType: `timeout:${phase}`,
    message: `${provider} timed out ${what}${ms === undefined ? '' : ` after ${ms} ms`}`,
  });
}

/** Maps an undici / socket failure to kind 'timeout' or 'network'. */
export function transportError(provider: string, error: unknown): ProviderError {
  if (ProviderError.isInstance(error)) return error;
  const code = errorCode(error);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    const err = timeoutError(provider, 'connect');
    return new ProviderError({
      provider,
      kind: 'timeout',
      message: err.message,
      providerType: 'timeout:connect',
      cause: error,
    });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    const phase = code === 'UND_ERR_HEADERS_TIMEOUT' ? 'first_byte' : 'idle';
    return new ProviderError({
      provider,
      kind: 'timeout',
      message: timeoutError(provider, phase).message,
      providerType: `timeout:${phase}`,
      cause: error,
    });
  }
  return new ProviderError({
    provider,
    kind: 'network',
    ...(code === undefined ? {} : { providerType: code }),
    message: `${provider} network error${code === undefined ? '' : ` (${code})`}`,
    cause: error,
  });
}

/**
 * Reads `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date) into milliseconds.
 */
export function retryAfterMsFromHeaders(
  headers: Record<string, string>,
  now: () => number,
): number | undefined {
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const after = headers['retry-after'];
  if (after === undefined || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now());
}

/** Parses a JSON text, or returns undefined. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Narrows to a plain object record. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
