import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultRule, SimulatorProvider } from './scenario';

/** One request as the simulator recorded it. */
export interface SimulatorRequestLogEntry {
  /** Simulator-wide sequence id, e.g. `sim-42`. */
  id: string;
  provider: SimulatorProvider;
  method: string;
  /** Path and query as received (a `key` query parameter is redacted). */
  path: string;
  /** Model named by the request ('' when none). */
  model: string;
  stream: boolean;
  /** HTTP status sent; 0 when no status line was sent (reset, hang, client gone before headers). */
  status: number;
  /** Request headers, lower-cased, with credentials replaced by `[redacted]`. */
  headers: Record<string, string>;
  /** The parsed JSON body (undefined for GET or unparsable bodies). */
  body: unknown;
  /**
   * How the request ended: `in_progress`, `completed`, `client_closed` (client disconnected before the
   * end), `rejected` (auth/validation/not-found error), `rate_limited`, `overloaded` (queue full) or
   * `fault:<kind>` for an injected fault that ended the request.
   */
  outcome: string;
  /** The injected fault, if any (also set when the client gave up during a hang). */
  fault?: string;
  promptTokens?: number;
  completionTokens?: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms; absent while in progress. */
  endedAt?: number;
}

const REDACTED_HEADERS = new Set([
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'proxy-authorization',
]);

/** Copies request headers with credential values replaced. */
export function redactHeaders(raw: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined) continue;
    out[name] = REDACTED_HEADERS.has(name) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Redacts the `key` query parameter Gemini clients may use. */
export function redactPath(path: string): string {
  return path.includes('key=') ? path.replace(/([?&]key=)[^&]*/g, '$1[redacted]') : path;
}

/** The state of one HTTP exchange while the simulator serves it. */
export class Exchange {
  readonly entry: SimulatorRequestLogEntry;
  /** The client went away before the response ended. */
  clientClosed = false;
  /** The simulator ended the connection on purpose (a fault). */
  destroyedByFault = false;
  fault: FaultRule | undefined;
  apiKey = '';
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly provider: SimulatorProvider,
    readonly pathname: string,
    readonly query: string,
    id: string,
    now: number,
  ) {
    this.entry = {
      id,
      provider,
      method: req.method ?? 'GET',
      path: redactPath(req.url ?? pathname),
      model: '',
      stream: false,
      status: 0,
      headers: redactHeaders(req.headers),
      body: undefined,
      outcome: 'in_progress',
      startedAt: now,
    };
    res.once('close', () => {
      if (!res.writableFinished && !this.destroyedByFault) this.clientClosed = true;
      for (const listener of this.closeListeners.splice(0)) listener();
    });
  }

  /** True once the connection is gone for either side's reason. */
  get gone(): boolean {
    return this.clientClosed || this.destroyedByFault || this.res.destroyed;
  }

  /** Runs `listener` when the connection closes (at once if it already has). */
  onClose(listener: () => void): () => void {
    if (this.gone) {
      listener();
      return () => {};
    }
    this.closeListeners.push(listener);
    return () => {
      const at = this.closeListeners.indexOf(listener);
      if (at >= 0) this.closeListeners.splice(at, 1);
    };
  }

  /** Waits `ms`, or less if the connection closes first. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.gone) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve();
      }, ms);
      const off = this.onClose(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Writes and waits for drain when the socket buffer is full. */
  async write(chunk: string): Promise<void> {
    if (this.gone) return;
    if (!this.res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const off = this.onClose(resolve);
        this.res.once('drain', () => {
          off();
          resolve();
        });
      });
    }
  }

  /** Ends the connection after what was written so far is flushed (FIN without a complete body), as a fault. */
  cut(): void {
    this.destroyedByFault = true;
    const socket = this.req.socket;
    socket.end(() => socket.destroy());
  }

  /** Ends the connection abruptly (TCP RST when possible), as a fault. */
  destroy(): void {
    this.destroyedByFault = true;
    const socket = this.req.socket;
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  }
}

/**
 * Reads the request body as text, up to `limit` bytes. Resolves undefined when it is over the limit or
 * the client went away before sending all of it (`req.complete` tells which).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) resolve(undefined);
      else
        resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
    // A client that disconnects mid-body is not a simulator failure: the exchange ends as client_closed.
    req.on('error', () => resolve(undefined));
    req.on('close', () => resolve(undefined));
  });
}
