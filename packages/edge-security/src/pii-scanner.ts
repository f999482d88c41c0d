import type { ChatMessage, ChatRequest, EmbeddingsRequest } from '@llm-edge/providers';
import { PiiBlockedError, type PiiKind, SecurityOptionsError } from './errors';
import { createPiiDetectors, type PiiDetector, type PiiSpan } from './pii-detectors';

/**
 * What to do with personal data found in an outgoing request: replace it with a placeholder,
 * refuse the request (400), only count it, or skip scanning.
 */
export type PiiMode = 'redact' | 'block' | 'detect' | 'off';

/** Every kind the scanner knows. */
export const PII_KINDS: readonly PiiKind[] = Object.freeze([
  'email',
  'phone',
  'credit_card',
  'us_ssn',
  'iban',
  'ip_address',
  'secret',
]);

/** Counts of findings by kind. Never contains a found value. */
export interface PiiFindings {
  /** Findings of all kinds. */
  readonly total: number;
  /** Findings per kind; kinds with none are absent. */
  readonly counts: Readonly<Partial<Record<PiiKind, number>>>;
}

/** A text after scanning, with its findings. */
export interface PiiTextResult extends PiiFindings {
  /** The text with placeholders in `redact` mode; the input unchanged otherwise. */
  readonly text: string;
}

/** A request after scanning, with its findings. */
export interface PiiRequestResult<T> extends PiiFindings {
  /** A redacted copy in `redact` mode when something was found; otherwise the input itself. */
  readonly request: T;
}

/** Options of {@link PiiScanner}. */
export interface PiiScannerOptions {
  /**
   * Mode used when a call does not name one (the gateway can pass a per-route mode).
   * @default 'redact'
   */
  mode?: PiiMode;
  /**
   * Kinds to look for.
   * @default every kind in PII_KINDS
   */
  kinds?: readonly PiiKind[];
  /**
   * Replacement text for a finding.
   * @default (kind) => `[REDACTED_${kind.toUpperCase()}]`
   */
  placeholder?: (kind: PiiKind) => string;
  /**
   * Also scan the `arguments` of assistant tool calls in the history, which often repeat user data.
   * @default true
   */
  scanToolArguments?: boolean;
  /**
   * Generic secrets: a token is reported when its Shannon entropy is at least this fraction of
   * log2(min(length, 62)) bits per character (and it does not read as words). Lower finds more
   * and risks more false positives.
   * @default 0.7
   */
  secretEntropyFactor?: number;
  /**
   * Generic secrets: shortest token considered (known formats such as `sk-…` have their own rules).
   * @default 32
   */
  secretMinLength?: number;
}

/** Default {@link PiiScannerOptions}. */
export const DEFAULT_PII_SCANNER_OPTIONS = Object.freeze({
  mode: 'redact' as PiiMode,
  kinds: PII_KINDS,
  placeholder: (kind: PiiKind): string => `[REDACTED_${kind.toUpperCase()}]`,
  scanToolArguments: true,
  secretEntropyFactor: 0.7,
  secretMinLength: 32,
});

const MODES: readonly PiiMode[] = ['redact', 'block', 'detect', 'off'];
const NONE: PiiFindings = Object.freeze({ total: 0, counts: Object.freeze({}) });

class Tally {
  total = 0;
  readonly counts: Partial<Record<PiiKind, number>> = {};

  add(spans: readonly PiiSpan[]): void {
    for (const span of spans) {
      this.counts[span.kind] = (this.counts[span.kind] ?? 0) + 1;
      this.total++;
    }
  }

  findings(): PiiFindings {
    return this.total === 0 ? NONE : { total: this.total, counts: { ...this.counts } };
  }
}

/** Keeps, among overlapping spans, the longest (then the most specific kind). */
function resolveOverlaps(spans: PiiSpan[]): PiiSpan[] {
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: PiiSpan[] = [];
  let current = spans[0]!;
  const better = (a: PiiSpan, b: PiiSpan): boolean => {
    const la = a.end - a.start;
    const lb = b.end - b.start;
    return la !== lb ? la > lb : a.rank > b.rank;
  };
  for (let i = 1; i < spans.length; i++) {
    const next = spans[i]!;
    if (next.start < current.end) {
      if (better(next, current)) current = next;
    } else {
      out.push(current);
      current = next;
    }
  }
  out.push(current);
  return out;
}

/**
 * Finds personal data and secrets in the text an outgoing request carries (string contents, text
 * parts, optionally tool-call arguments) and redacts, blocks or only counts them. Results report
 * counts by kind, never values. All patterns are compiled once, at construction.
 *
 * Kinds: `email`, `phone` (international `+…` and formatted North American numbers), `credit_card`
 * (known network prefix and length, Luhn-checked), `us_ssn`, `iban` (country length and mod-97
 * checked), `ip_address` (IPv4, IPv6), `secret` (OpenAI/Anthropic `sk-…`, Google `AIza…`, GitHub,
 * AWS, Slack, Stripe, JWTs, private-key blocks, and long high-entropy tokens).
 *
 * @example
 * ```ts
 * const pii = new PiiScanner({ mode: 'redact' });
 * const { request, counts } = pii.applyToChatRequest(chatRequest);   // counts: { email: 1 }
 * pii.applyToChatRequest(chatRequest, 'block');                      // throws PiiBlockedError (400)
 * ```
 */
export class PiiScanner {
  /** The default mode of this scanner. */
  readonly mode: PiiMode;
  readonly #detectors: readonly PiiDetector[];
  readonly #placeholder: (kind: PiiKind) => string;
  readonly #scanToolArguments: boolean;

  constructor(options: PiiScannerOptions = {}) {
    const o = { ...DEFAULT_PII_SCANNER_OPTIONS, ...stripUndefined(options) };
    if (!MODES.includes(o.mode)) throw new SecurityOptionsError('mode', `must be one of ${MODES.join(', ')}`);
    if (!Array.isArray(o.kinds)) throw new SecurityOptionsError('kinds', 'must be an array of PII kinds');
    o.kinds.forEach((kind, i) => {
      if (!PII_KINDS.includes(kind)) {
        throw new SecurityOptionsError(`kinds[${i}]`, `must be one of ${PII_KINDS.join(', ')}`);
      }
    });
    if (typeof o.placeholder !== 'function')
      throw new SecurityOptionsError('placeholder', 'must be a function');
    if (!(o.secretEntropyFactor > 0 && o.secretEntropyFactor <= 1)) {
      throw new SecurityOptionsError('secretEntropyFactor', 'must be in (0, 1]');
    }
    if (!Number.isInteger(o.secretMinLength) || o.secretMinLength < 16 || o.secretMinLength > 256) {
      throw new SecurityOptionsError('secretMinLength', 'must be an integer from 16 to 256');
    }
    this.mode = o.mode;
    this.#placeholder = o.placeholder;
    this.#scanToolArguments = o.scanToolArguments;
    this.#detectors = createPiiDetectors(new Set(o.kinds), {
      secretEntropyFactor: o.secretEntropyFactor,
      secretMinLength: o.secretMinLength,
    });
  }

  /** Counts findings in a text. */
  scanText(text: string): PiiFindings {
    const tally = new Tally();
    tally.add(this.#spans(text));
    return tally.findings();
  }

  /** Replaces every finding in a text with its placeholder. */
  redactText(text: string): PiiTextResult {
    const tally = new Tally();
    const redacted = this.#redact(text, tally);
    return { text: redacted, ...tally.findings() };
  }

  /**
   * Scans every text a chat request would send upstream.
   *
   * @param mode overrides the scanner's default (per-route modes).
   * @throws PiiBlockedError in `block` mode when anything is found (status 400; kinds and counts only).
   */
  applyToChatRequest(request: ChatRequest, mode: PiiMode = this.mode): PiiRequestResult<ChatRequest> {
    if (mode === 'off') return { request, ...NONE };
    const tally = new Tally();
    const rewrite = mode === 'redact';
    let messages: ChatMessage[] | undefined;
    request.messages.forEach((message, index) => {
      const next = this.#message(message, tally, rewrite);
      if (next !== message) {
        messages ??= [...request.messages];
        messages[index] = next;
      }
    });
    return this.#finish(request, messages === undefined ? request : { ...request, messages }, tally, mode);
  }

  /**
   * Scans the text inputs of an embeddings request (token-array inputs carry no text).
   *
   * @throws PiiBlockedError in `block` mode when anything is found.
   */
  applyToEmbeddingsRequest(
    request: EmbeddingsRequest,
    mode: PiiMode = this.mode,
  ): PiiRequestResult<EmbeddingsRequest> {
    if (mode === 'off') return { request, ...NONE };
    const tally = new Tally();
    const rewrite = mode === 'redact';
    const input = request.input;
    let next: EmbeddingsRequest['input'] = input;
    if (typeof input === 'string') {
      next = this.#text(input, tally, rewrite);
    } else if (input.length > 0 && typeof input[0] === 'string') {
      const strings = input as string[];
      const out = strings.map((s) => this.#text(s, tally, rewrite));
      if (out.some((s, i) => s !== strings[i])) next = out;
    }
    return this.#finish(request, next === input ? request : { ...request, input: next }, tally, mode);
  }

  #finish<T>(original: T, rewritten: T, tally: Tally, mode: PiiMode): PiiRequestResult<T> {
    const findings = tally.findings();
    if (mode === 'block' && findings.total > 0) throw new PiiBlockedError(findings.counts);
    return { request: mode === 'redact' ? rewritten : original, ...findings };
  }

  #message(message: ChatMessage, tally: Tally, rewrite: boolean): ChatMessage {
    let changed = false;
    let content: unknown = message.content;
    if (typeof content === 'string') {
      const next = this.#text(content, tally, rewrite);
      if (next !== content) {
        content = next;
        changed = true;
      }
    } else if (Array.isArray(content)) {
      let parts: unknown[] | undefined;
      content.forEach((part: { type: string; text?: string }, i: number) => {
        if (part.type !== 'text' || typeof part.text !== 'string') return;
        const next = this.#text(part.text, tally, rewrite);
        if (next !== part.text) {
          parts ??= [...(content as unknown[])];
          parts[i] = { ...part, text: next };
        }
      });
      if (parts) {
        content = parts;
        changed = true;
      }
    }
    let toolCalls: unknown;
    if (this.#scanToolArguments && message.role === 'assistant' && message.tool_calls) {
      const calls = message.tool_calls;
      const next = calls.map((call) => {
        const args = this.#text(call.function.arguments, tally, rewrite);
        return args === call.function.arguments
          ? call
          : { ...call, function: { ...call.function, arguments: args } };
      });
      if (next.some((c, i) => c !== calls[i])) {
        toolCalls = next;
        changed = true;
      }
    }
    if (!changed) return message;
    return {
      ...message,
      content,
      ...(toolCalls !== undefined ? { tool_calls: toolCalls } : {}),
    } as ChatMessage;
  }

  #text(text: string, tally: Tally, rewrite: boolean): string {
    if (!rewrite) {
      tally.add(this.#spans(text));
      return text;
    }
    return this.#redact(text, tally);
  }

  #redact(text: string, tally: Tally): string {
    const spans = this.#spans(text);
    if (spans.length === 0) return text;
    tally.add(spans);
    let out = '';
    let at = 0;
    for (const span of spans) {
      out += text.slice(at, span.start) + this.#placeholder(span.kind);
      at = span.end;
    }
    return out + text.slice(at);
  }

  #spans(text: string): PiiSpan[] {
    if (text.length === 0) return [];
    const spans: PiiSpan[] = [];
    for (const detector of this.#detectors) detector.scan(text, spans);
    return resolveOverlaps(spans);
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
