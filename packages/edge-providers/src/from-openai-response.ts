import type { z } from 'zod';
import { type ChatResponse, chatResponseSchema, type Usage } from './chat-schemas';
import { ProviderError } from './errors';
import { isRecord } from './http-transport';
import { toValidationIssues } from './parse-request';
import { keepUpstreamJsonText } from './upstream-json-text';

/**
 * Fills the fields some compatible servers leave out, then checks the shape. With `text` (the
 * body `body` was parsed from), an answer that needed nothing filled in keeps it as its
 * {@link upstreamJsonText}.
 */
export function fromOpenAIResponse(
  provider: string,
  body: unknown,
  now: () => number,
  text?: string,
): ChatResponse {
  let filled = false;
  if (isRecord(body)) {
    // `== null` is what `??=` fills: a missing field or an explicit null.
    if (body['object'] == null) {
      body['object'] = 'chat.completion';
      filled = true;
    }
    if (body['created'] == null) {
      body['created'] = Math.floor(now() / 1000);
      filled = true;
    }
    if (Array.isArray(body['choices'])) {
      body['choices'].forEach((choice: unknown, index) => {
        if (!isRecord(choice)) return;
        if (
          choice['index'] == null ||
          choice['logprobs'] === undefined ||
          choice['finish_reason'] === undefined
        ) {
          filled = true;
          choice['index'] ??= index;
          choice['logprobs'] ??= null;
          choice['finish_reason'] ??= null;
        }
        const message = choice['message'];
        if (isRecord(message) && message['content'] === undefined) {
          message['content'] = null;
          filled = true;
        }
      });
    }
    if (body['usage'] === null) {
      delete body['usage'];
      filled = true;
    }
    // The usual answer passes a plain structural check; only one that fails it goes through the
    // schema, which then either accepts it after all or names what is wrong.
    if (isPlainChatResponse(body)) return kept(body as unknown as ChatResponse, filled, text);
  }
  const result = chatResponseSchema.safeParse(body);
  if (!result.success) throw malformedAnswerError(provider, 'chat completion', result.error);
  // The original object is returned so provider-specific fields (annotations, filter results) survive.
  return kept(body as ChatResponse, filled, text);
}

/** The error for an upstream answer the schema refused, naming the first field it refused. */
export function malformedAnswerError(provider: string, what: string, error: z.ZodError): ProviderError {
  const issues = toValidationIssues(error);
  return new ProviderError({
    provider,
    kind: 'server',
    message: `${provider} sent a malformed ${what} (${issues[0]?.path}: ${issues[0]?.message})`,
    issues,
    cause: error,
  });
}

function kept(answer: ChatResponse, filled: boolean, text: string | undefined): ChatResponse {
  if (!filled && text !== undefined) keepUpstreamJsonText(answer, text);
  return answer;
}

const FINISH_REASONS: ReadonlySet<unknown> = new Set([
  'stop',
  'length',
  'tool_calls',
  'content_filter',
  'function_call',
]);

/** A token count or an index: a non-negative safe integer, as the schemas' `z.int().min(0)`. */
export function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isOptionalText(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string';
}

function hasOnlyCounts(value: unknown, keys: readonly string[]): boolean {
  if (value === undefined) return true;
  if (!isRecord(value)) return false;
  for (const key of keys) {
    const count = value[key];
    if (count !== undefined && !isCount(count)) return false;
  }
  return true;
}

/**
 * A structural check that accepts only what `chatResponseSchema` accepts (it may turn down some
 * valid answers, such as ones with tool calls, which the schema then judges): the common answer
 * is checked without the schema's per-field machinery.
 */
export function isPlainChatResponse(body: Record<string, unknown>): boolean {
  if (
    typeof body['id'] !== 'string' ||
    body['object'] !== 'chat.completion' ||
    !Number.isSafeInteger(body['created']) ||
    typeof body['model'] !== 'string' ||
    !isOptionalText(body['system_fingerprint']) ||
    !isOptionalText(body['service_tier'])
  ) {
    return false;
  }
  const choices = body['choices'];
  if (!Array.isArray(choices)) return false;
  for (const choice of choices) {
    if (!isRecord(choice) || !isCount(choice['index'])) return false;
    const reason = choice['finish_reason'];
    if (reason !== null && !FINISH_REASONS.has(reason)) return false;
    const message = choice['message'];
    if (
      !isRecord(message) ||
      message['role'] !== 'assistant' ||
      (message['content'] !== null && typeof message['content'] !== 'string') ||
      !isOptionalText(message['refusal']) ||
      message['tool_calls'] !== undefined
    ) {
      return false;
    }
  }
  const usage = body['usage'];
  if (usage === undefined) return true;
  return (
    isRecord(usage) &&
    isCount(usage['prompt_tokens']) &&
    isCount(usage['completion_tokens']) &&
    isCount(usage['total_tokens']) &&
    hasOnlyCounts(usage['prompt_tokens_details'], ['cached_tokens', 'audio_tokens', 'cache_write_tokens']) &&
    hasOnlyCounts(usage['completion_tokens_details'], [
      'reasoning_tokens',
      'audio_tokens',
      'accepted_prediction_tokens',
      'rejected_prediction_tokens',
    ])
  );
}

/** Normalises a usage object from an OpenAI-family server, or undefined when absent or malformed. */
export function readOpenAIUsage(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined;
  const prompt = value['prompt_tokens'];
  const completion = value['completion_tokens'];
  if (typeof prompt !== 'number' || typeof completion !== 'number') return undefined;
  const usage = { ...value } as Usage;
  if (typeof value['total_tokens'] !== 'number') usage.total_tokens = prompt + completion;
  return usage;
}
