import { createRequire } from 'node:module';
import type { ChatRequest, EmbeddingsRequest, Usage } from '@llm-edge/providers';

type O200kModule = typeof import('gpt-tokenizer/encoding/o200k_base');

/** Counts the tokens of a text. */
export type TokenCounter = (text: string) => number;

/** A pre-call estimate of what a chat request will cost in tokens. */
export interface TokenEstimate {
  /** Estimated input tokens (message text, per-message overhead, tools, images). */
  readonly promptTokens: number;
  /** Output allowance: `max_completion_tokens` / `max_tokens`, else the default allowance; times `n`. */
  readonly outputTokens: number;
  /** `promptTokens + outputTokens`: what a tokens-per-minute limit reserves. */
  readonly totalTokens: number;
  /** Output allowance of one choice (before multiplying by `n`). */
  readonly outputTokensPerChoice: number;
}

/** Options of {@link estimateChatTokens}. */
export interface EstimateChatTokensOptions {
  /**
   * Output allowance when the request sets neither `max_completion_tokens` nor `max_tokens`.
   * @default 1024
   */
  defaultOutputTokens?: number;
  /**
   * The model's maximum output, when known; caps the default allowance.
   * @default undefined
   */
  maxOutputTokens?: number;
  /**
   * Token counter.
   * @default countTextTokens (gpt-tokenizer, o200k_base)
   */
  countTokens?: TokenCounter;
}

/** Default output allowance when a request does not say. */
export const DEFAULT_OUTPUT_TOKENS = 1024;

// Beyond this many characters a text is counted at 1 token per 3 characters (an over-estimate for
// English), so that a huge prompt cannot hold the event loop for tens of milliseconds.
const MAX_TOKENIZED_CHARS = 200_000;
// Special-token text such as "<|endoftext|>" in a prompt is ordinary text to us, never a reason to throw.
const NO_SPECIAL = { disallowedSpecial: new Set<string>() };

// Per-message framing and reply priming, as documented for OpenAI chat models.
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const TOKENS_REPLY_PRIMING = 3;
const TOKENS_PER_TOOL = 8;
const TOKENS_PER_IMAGE_LOW = 85;
const TOKENS_PER_IMAGE_HIGH = 765;

// The o200k tables cost about 75 MB of RSS and 0.4 s to load. Many gateways never count a token
// (no tokens-per-minute limit, no context-window check for unknown models), so the module is
// required on first use rather than imported: a synchronous require keeps the counting API sync.
// In the CommonJS build tsup's shim supplies `import.meta.url`.
let o200k: O200kModule | undefined;

function o200kModule(): O200kModule {
  if (o200k === undefined) {
    o200k = createRequire(import.meta.url)('gpt-tokenizer/encoding/o200k_base') as O200kModule;
  }
  return o200k;
}

/**
 * Loads the tokenizer tables now (about 0.4 s and 75 MB, once per process) instead of on the first
 * token count, so that the first request that needs one does not wait for them.
 *
 * @example
 * ```ts
 * // At gateway start-up, when some key has a tokens-per-minute limit:
 * preloadTokenizer();
 * ```
 */
export function preloadTokenizer(): void {
  o200kModule();
}

/**
 * Counts tokens with gpt-tokenizer's o200k_base encoding (GPT-4o and later). For other providers'
 * models it is an approximation, which is all a pre-call limit needs: usage reconciles it after.
 * The first call loads the tokenizer (see {@link preloadTokenizer}).
 */
export function countTextTokens(text: string): number {
  const { countTokens } = o200kModule();
  if (text.length <= MAX_TOKENIZED_CHARS) return countTokens(text, NO_SPECIAL);
  return (
    countTokens(text.slice(0, MAX_TOKENIZED_CHARS), NO_SPECIAL) +
    Math.ceil((text.length - MAX_TOKENIZED_CHARS) / 3)
  );
}

function positiveOrUndefined(value: number | null | undefined): number | undefined {
  return typeof value === 'number' && value > 0 ? value : undefined;
}

/**
 * The output allowance of one choice: what the request asks for, else the default capped by the
 * model's maximum output.
 */
export function requestedOutputTokens(request: ChatRequest): number | undefined {
  return positiveOrUndefined(request.max_completion_tokens) ?? positiveOrUndefined(request.max_tokens);
}

/**
 * Estimates the tokens a chat request will use before it is sent: message text and names, tool
 * calls and definitions, a fixed allowance per image, plus the output allowance.
 *
 * @example
 * ```ts
 * const { totalTokens } = estimateChatTokens(request, { maxOutputTokens: 16_384 });
 * ```
 */
export function estimateChatTokens(
  request: ChatRequest,
  options: EstimateChatTokensOptions = {},
): TokenEstimate {
  const count = options.countTokens ?? countTextTokens;
  const texts: string[] = [];
  let fixed = TOKENS_REPLY_PRIMING;
  for (const message of request.messages) {
    fixed += TOKENS_PER_MESSAGE;
    if ('name' in message && message.name) {
      fixed += TOKENS_PER_NAME;
      texts.push(message.name);
    }
    const content = message.content;
    if (typeof content === 'string') {
      texts.push(content);
    } else if (Array.isArray(content)) {
      for (const part of content) {
        switch (part.type) {
          case 'text':
            texts.push(part.text);
            break;
          case 'refusal':
            texts.push(part.refusal);
            break;
          case 'image_url':
            fixed += part.image_url.detail === 'low' ? TOKENS_PER_IMAGE_LOW : TOKENS_PER_IMAGE_HIGH;
            break;
          case 'input_audio':
            // Base64 audio: a rough allowance by size; usage reconciles the real figure.
            fixed += Math.ceil(part.input_audio.data.length / 400);
            break;
          case 'file':
            fixed += Math.ceil((part.file.file_data?.length ?? 0) / 4);
            break;
        }
      }
    }
    if (message.role === 'assistant') {
      if (message.refusal) texts.push(message.refusal);
      for (const call of message.tool_calls ?? []) {
        fixed += TOKENS_PER_TOOL;
        texts.push(call.function.name, call.function.arguments);
      }
    }
  }
  for (const tool of request.tools ?? []) {
    fixed += TOKENS_PER_TOOL;
    texts.push(JSON.stringify(tool.function));
  }
  if (request.response_format?.type === 'json_schema') {
    texts.push(JSON.stringify(request.response_format.json_schema));
  }
  const promptTokens = fixed + (texts.length > 0 ? count(texts.join('\n')) : 0);

  const requested = requestedOutputTokens(request);
  const defaultAllowance = options.defaultOutputTokens ?? DEFAULT_OUTPUT_TOKENS;
  const outputTokensPerChoice =
    requested ??
    (options.maxOutputTokens !== undefined
      ? Math.min(defaultAllowance, options.maxOutputTokens)
      : defaultAllowance);
  const outputTokens = outputTokensPerChoice * (positiveOrUndefined(request.n) ?? 1);
  return { promptTokens, outputTokens, totalTokens: promptTokens + outputTokens, outputTokensPerChoice };
}

/** Estimates the input tokens of an embeddings request (token-array inputs are counted exactly). */
export function estimateEmbeddingsTokens(
  request: EmbeddingsRequest,
  countTokens: TokenCounter = countTextTokens,
): number {
  const input = request.input;
  if (typeof input === 'string') return countTokens(input);
  if (input.length === 0) return 0;
  const first = input[0];
  if (typeof first === 'string') return countTokens((input as string[]).join('\n')) + input.length;
  if (typeof first === 'number') return input.length;
  return (input as number[][]).reduce((sum, tokens) => sum + tokens.length, 0);
}

/** Total tokens of a provider usage report, for reconciling a token limit after the call. */
export function usageTotalTokens(
  usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens'> & { total_tokens?: number },
): number {
  const sum = usage.prompt_tokens + usage.completion_tokens;
  return typeof usage.total_tokens === 'number' && usage.total_tokens > sum ? usage.total_tokens : sum;
}
