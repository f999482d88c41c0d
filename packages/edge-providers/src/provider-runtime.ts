import type { EventSourceMessage } from 'eventsource-parser';
import type { Dispatcher } from 'undici';
import type { ChatChunk } from './chat-schemas';
import { ProviderError, ProviderOptionsError } from './errors';
import {
  type ErrorResponseMapper,
  HttpTransport,
  readServerSentEvents,
  type TransportRequest,
} from './http-transport';
import {
  type BaseProviderOptions,
  type CallOptions,
  DEFAULT_PROVIDER_TIMEOUTS,
  type ProviderTimeouts,
} from './provider';

/** Options of an adapter after validation and defaults. */
export interface ResolvedProviderOptions {
  name: string;
  apiKey: string;
  baseURL: string;
  headers: Readonly<Record<string, string>>;
  timeouts: Readonly<ProviderTimeouts>;
  dispatcher: Dispatcher | undefined;
  now: () => number;
}

/** Validates the options shared by every adapter, naming the bad field. */
export function resolveBaseOptions(
  options: Omit<BaseProviderOptions, 'apiKey'> & { apiKey?: string | undefined },
  defaults: { name: string; baseURL: string; apiKeyRequired?: boolean },
): ResolvedProviderOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ProviderOptionsError('options', 'must be an object');
  }
  const name = options.name ?? defaults.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new ProviderOptionsError('name', 'must be a non-empty string');
  }
  if (defaults.apiKeyRequired !== false || options.apiKey !== undefined) {
    if (typeof options.apiKey !== 'string' || options.apiKey.length === 0) {
      throw new ProviderOptionsError('apiKey', 'must be a non-empty string');
    }
  }
  const baseURL = (options.baseURL ?? defaults.baseURL).replace(/\/+$/, '');
  try {
    const url = new URL(baseURL);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('not http(s)');
  } catch (error) {
    throw new ProviderOptionsError('baseURL', `must be an absolute http(s) URL, got "${baseURL}"`, {
      cause: error,
    });
  }
  const headers = options.headers ?? {};
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new ProviderOptionsError(`headers.${key}`, 'must be a string');
  }
  const timeouts = { ...DEFAULT_PROVIDER_TIMEOUTS, ...options.timeouts };
  for (const key of ['connectMs', 'firstByteMs', 'idleMs'] as const) {
    const value = timeouts[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new ProviderOptionsError(`timeouts.${key}`, 'must be a positive number of milliseconds');
    }
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new ProviderOptionsError('now', 'must be a function returning epoch milliseconds');
  }
  return Object.freeze({
    name,
    apiKey: options.apiKey ?? '',
    baseURL,
    headers: Object.freeze({ ...headers }),
    timeouts: Object.freeze(timeouts),
    dispatcher: options.dispatcher,
    now: options.now ?? Date.now,
  });
}

/** Translates a provider's SSE events into unified chunks. */
export type StreamTranslator = (events: AsyncIterable<EventSourceMessage>) => AsyncGenerator<ChatChunk>;

/** The HTTP plumbing one adapter needs: JSON calls and SSE streams with errors already normalised. */
export class ProviderRuntime {
  readonly options: ResolvedProviderOptions;
  readonly transport: HttpTransport;
  readonly #instanceHeaders: boolean;

  constructor(options: ResolvedProviderOptions, mapErrorResponse: ErrorResponseMapper) {
    this.options = options;
    this.#instanceHeaders = !isEmpty(options.headers);
    this.transport = new HttpTransport({
      provider: options.name,
      timeouts: options.timeouts,
      dispatcher: options.dispatcher,
      mapErrorResponse,
    });
  }

  /**
   * Merges adapter, instance and per-call headers (later wins). With nothing to add, `own` itself
   * is returned: header records are never modified once built, so it can serve every call.
   */
  headers(own: Record<string, string>, call?: CallOptions): Record<string, string> {
    const extra = call?.headers;
    if (!this.#instanceHeaders && (extra === undefined || isEmpty(extra))) return own;
    return { ...own, ...this.options.headers, ...extra };
  }

  /** A JSON call; resolves with the parsed 2xx body and the text it was parsed from. */
  json(request: TransportRequest): Promise<{ body: unknown; text: string }> {
    return this.transport.json(request);
  }

  /** A streaming call; resolves once the upstream answered 2xx, then yields translated chunks. */
  async stream(request: TransportRequest, translate: StreamTranslator): Promise<AsyncGenerator<ChatChunk>> {
    const response = await this.transport.send(request);
    const provider = this.options.name;
    async function* run(): AsyncGenerator<ChatChunk> {
      let finished = false;
      try {
        yield* translate(readServerSentEvents(response.chunks()));
        finished = true;
      } catch (error) {
        if (ProviderError.isInstance(error)) throw error;
        throw new ProviderError({
          provider,
          kind: 'server',
          message: `${provider} sent a stream that could not be read`,
          cause: error,
        });
      } finally {
        // After the stream's last event the body normally ends at once: read it so the connection
        // is reused. A consumer that stopped early, or a failure, closes the connection.
        if (finished) response.release();
        else response.close();
      }
    }
    return run();
  }

  /** Closes owned connection pools. */
  close(): Promise<void> {
    return this.transport.close();
  }
}

function isEmpty(record: Readonly<Record<string, string>>): boolean {
  for (const _ in record) return false;
  return true;
}

/** Seconds since the epoch from a millisecond clock. */
export function unixSeconds(now: () => number): number {
  return Math.floor(now() / 1000);
}
