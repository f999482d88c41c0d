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

/** An upstream response whose status was 2xx. */
export interface TransportResponse {
  status: number;
  headers: Record<string, string>;
  /**
   * The body chunks, under the first-byte and idle timeouts. A failure (abort, timeout, reset)
   * closes the connection; a consumer that stops reading early must then call `close()` or `release()`.
   */
  chunks(): AsyncGenerator<Uint8Array, void, undefined>;
  /** Reads the whole body as text. */
  text(): Promise<string>;
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
/** Most bytes `release()` reads past the last event before it gives the connection up. */
const RELEASE_MAX_BYTES = 64 * 1024;
/** Longest `release()` waits for the body's end before it gives the connection up. */
const RELEASE_MAX_WAIT_MS = 5_000;
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

  /** Sends the request; resolves on a 2xx answer, rejects with a ProviderError otherwise. */
  async send(request: TransportRequest): Promise<TransportResponse> {
    const call = new UpstreamCall(this.#provider, this.#timeouts, request.signal);
    const response = await this.#dispatch(request, call);
    const responseHeaders = headerRecord(response.headers);
    const upstream = response.body;
    const timeouts = this.#timeouts;
    // One reader for the body, shared by chunks() and release(); reading it to its end (rather than
    // destroying it) is what lets undici reuse the connection, and costs no error object.
    let reader: AsyncIterator<Uint8Array> | undefined;
    const bodyReader = (): AsyncIterator<Uint8Array> =>
      (reader ??= upstream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>);
    let firstChunk = true;
    let ended = false;

    async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
      const iterator = bodyReader();
      let failed = false;
      try {
        while (true) {
          if (!firstChunk) call.waitIdle();
          let step: IteratorResult<Uint8Array>;
          try {
            step = await iterator.next();
          } catch (error) {
            failed = true;
            throw call.translate(error);
          }
          if (step.done) {
            ended = true;
            return;
          }
          if (firstChunk) {
            firstChunk = false;
            call.disarm();
          } else {
            call.received();
          }
          yield step.value;
        }
      } finally {
        call.finish();
        // A consumer that merely stopped reading leaves the body to close() or release().
        if (failed && !ended) upstream.destroy();
      }
    }

    const drainRest = async (): Promise<void> => {
      const limit = setTimeout(() => upstream.destroy(), Math.min(timeouts.idleMs, RELEASE_MAX_WAIT_MS));
      let bytes = 0;
      try {
        for (;;) {
          const step = await bodyReader().next();
          if (step.done) {
            ended = true;
            return;
          }
          bytes += step.value.byteLength;
          if (bytes > RELEASE_MAX_BYTES) {
            upstream.destroy();
            return;
          }
        }
      } catch {
        // The body was cut (by the limit above or by the upstream) after the caller had all it
        // needed: only the connection is lost, which undici already counts as closed.
      } finally {
        clearTimeout(limit);
      }
    };

    const text = async (): Promise<string> => {
      const decoder = new TextDecoder();
      let out = '';
      for await (const chunk of chunks()) out += decoder.decode(chunk, { stream: true });
      return out + decoder.decode();
    };

    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw await this.#errorAnswer(response, call);
    }

    return {
      status: response.statusCode,
      headers: responseHeaders,
      chunks,
      text,
      close: () => {
        call.finish();
        if (!ended) upstream.destroy();
      },
      release: () => {
        call.finish();
        if (!ended && !upstream.destroyed) void drainRest();
      },
    };
  }

  /**
   * Sends the request and parses a 2xx JSON answer. The answer is collected through undici's
   * dispatch handler rather than `request()`'s body stream: a JSON answer is read whole, so the
   * stream object, its listeners and its abort wiring bought nothing here, and they were a tenth of
   * the instructions of a request through the gateway.
   */
  async json(request: TransportRequest): Promise<{ body: unknown; headers: Record<string, string> }> {
    const call = new UpstreamCall(this.#provider, this.#timeouts, request.signal);
    const options = this.#dispatchOptions(request);
    const answer = await new Promise<CollectedAnswer>((resolve, reject) => {
      const handler = new CollectAnswer(call, this.#timeouts.idleMs, resolve, reject);
      call.arm(this.#timeouts.firstByteMs, 'first_byte');
      try {
        this.#dispatcher.dispatch(options, handler);
      } catch (error) {
        handler.fail(error);
      }
    });
    const { status, text } = answer;
    if (status < 200 || status >= 300) {
      throw this.#mapErrorResponse({
        status,
        headers: answer.headers,
        bodyText: text.slice(0, MAX_ERROR_BODY_CHARS),
      });
    }
    try {
      return { body: JSON.parse(text), headers: answer.headers };
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

  /** The ProviderError of a non-2xx answer, from its body as far as it could be read. */
  async #errorAnswer(response: Dispatcher.ResponseData, call: UpstreamCall): Promise<ProviderError> {
    let bodyText = '';
    try {
      bodyText = (await call.readAll(response.body)).slice(0, MAX_ERROR_BODY_CHARS);
    } catch (error) {
      if (ProviderError.isInstance(error) && error.kind === 'aborted') throw error;
    }
    return this.#mapErrorResponse({
      status: response.statusCode,
      headers: headerRecord(response.headers),
      bodyText,
    });
  }

  /** Sends the request under the call's first-byte timer and cancellation; resolves with undici's answer. */
  async #dispatch(request: TransportRequest, call: UpstreamCall): Promise<Dispatcher.ResponseData> {
    const options = this.#dispatchOptions(request);
    call.arm(this.#timeouts.firstByteMs, 'first_byte');
    try {
      return await this.#dispatcher.request({ ...options, signal: call.controller.signal });
    } catch (error) {
      call.finish();
      throw call.translate(error);
    }
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
 * The cancellation and timers of one upstream call: the caller's signal and the first-byte / idle
 * timeouts all abort one controller, whose reason is the ProviderError the call rejects with.
 */
class UpstreamCall {
  readonly controller = new AbortController();
  readonly #provider: string;
  readonly #timeouts: ProviderTimeouts;
  readonly #caller: AbortSignal | undefined;
  #timer: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  #waiting = false;
  #listening = false;
  /** Told of an abort, for a call sent through a dispatch handler (which takes no signal). */
  #onAbort: ((reason: ProviderError) => void) | undefined;

  constructor(provider: string, timeouts: ProviderTimeouts, caller: AbortSignal | undefined) {
    if (caller?.aborted) throw abortedError(provider, caller.reason);
    this.#provider = provider;
    this.#timeouts = timeouts;
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
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    this.#onAbort?.(reason);
  }

  /** Calls `listener` when the call is aborted (at most one listener). */
  onAbort(listener: (reason: ProviderError) => void): void {
    this.#onAbort = listener;
  }

  /** The reason the call was aborted, if it was. */
  get abortReason(): ProviderError | undefined {
    const signal = this.controller.signal;
    return signal.aborted ? (signal.reason as ProviderError) : undefined;
  }

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

  /**
   * Starts a wait for the next chunk of a streamed body under the idle timeout. One timer serves
   * every wait of the call, restarted rather than replaced: a stream waits once per chunk.
   */
  waitIdle(): void {
    this.#waiting = true;
    if (this.#idle !== undefined) {
      this.#idle.refresh();
      return;
    }
    const ms = this.#timeouts.idleMs;
    this.#idle = setTimeout(() => {
      // Firing while the consumer still holds the last chunk is not an idle upstream; the next
      // wait restarts the timer.
      if (this.#waiting) this.abort(timeoutError(this.#provider, 'idle', ms));
    }, ms);
  }

  /** The chunk waited for arrived. */
  received(): void {
    this.#waiting = false;
  }

  /** Stops the timers and the caller's listener. */
  finish(): void {
    this.disarm();
    this.#waiting = false;
    clearTimeout(this.#idle);
    if (this.#listening) {
      this.#listening = false;
      this.#caller?.removeEventListener('abort', this);
    }
  }

  translate(error: unknown): ProviderError {
    const reason: unknown = this.controller.signal.reason;
    if (this.controller.signal.aborted && ProviderError.isInstance(reason)) return reason;
    return transportError(this.#provider, error);
  }

  /**
   * Reads a whole body as UTF-8 text (a leading byte-order mark dropped) under the first-byte and
   * idle timeouts, from the stream's events rather than an async iterator: the error answer of a
   * call sent for a stream, which usually arrives in one chunk.
   */
  readAll(body: Dispatcher.ResponseData['body']): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const parts: Buffer[] = [];
      let first = true;
      let settled = false;
      const done = (error: unknown): void => {
        if (settled) return;
        settled = true;
        this.finish();
        body.off('data', onData);
        if (error !== undefined) {
          body.destroy();
          reject(this.translate(error));
          return;
        }
        resolve(bodyText(parts));
      };
      const onData = (chunk: Buffer): void => {
        parts.push(chunk);
        if (first) {
          first = false;
          this.arm(this.#timeouts.idleMs, 'idle');
        } else {
          this.#timer?.refresh();
        }
      };
      body.on('data', onData);
      body.once('end', () => done(undefined));
      body.once('error', (error: Error) => done(error));
      // 'close' follows 'end' on every body; an Error (and its stack) only when it came first.
      body.once('close', () => {
        if (!settled) done(new Error('upstream body closed before its end'));
      });
    });
  }
}

/** A body's chunks as UTF-8 text, a leading byte-order mark dropped. */
function bodyText(parts: readonly Buffer[]): string {
  if (parts.length === 0) return '';
  const text = parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A whole upstream answer as {@link CollectAnswer} gathered it. */
interface CollectedAnswer {
  status: number;
  headers: Record<string, string>;
  /** The body as UTF-8 text, a leading byte-order mark dropped. */
  text: string;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * An undici dispatch handler that gathers one answer whole, under the call's first-byte and idle
 * timers and its cancellation. It settles once: with the answer at its end, or with the
 * ProviderError of what cut it short (the call's abort reason, or the transport failure).
 */
class CollectAnswer implements Dispatcher.DispatchHandler {
  readonly #call: UpstreamCall;
  readonly #idleMs: number;
  readonly #resolve: (answer: CollectedAnswer) => void;
  readonly #reject: (error: ProviderError) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #status = 0;
  #headers = NO_HEADERS;
  readonly #parts: Buffer[] = [];
  #settled = false;

  constructor(
    call: UpstreamCall,
    idleMs: number,
    resolve: (answer: CollectedAnswer) => void,
    reject: (error: ProviderError) => void,
  ) {
    this.#call = call;
    this.#idleMs = idleMs;
    this.#resolve = resolve;
    this.#reject = reject;
    // The caller hears of an abort at once, even while undici still holds the request in its
    // queue; the connection is cut as soon as undici hands the request over.
    call.onAbort((reason) => {
      this.#controller?.abort(reason);
      this.fail(reason);
    });
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
    this.#headers = headerRecord(headers);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#parts.length === 0) this.#call.arm(this.#idleMs, 'idle');
    else this.#call.refreshTimer();
    this.#parts.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#call.finish();
    this.#resolve({ status: this.#status, headers: this.#headers, text: bodyText(this.#parts) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  /**
   * Settles with the ProviderError of `error` (or of the call's abort, which explains it better).
   * An error answer whose body could not be read whole is still reported by its status, unless the
   * caller aborted.
   */
  fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#call.finish();
    const failure = this.#call.translate(error);
    const status = this.#status;
    if (status !== 0 && (status < 200 || status >= 300) && failure.kind !== 'aborted') {
      this.#resolve({ status, headers: this.#headers, text: '' });
      return;
    }
    this.#reject(failure);
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
