import { type ChatResponse, chatResponseSchema, type Usage } from './chat-schemas';
import { ProviderError } from './errors';
import { isRecord } from './http-transport';
import { toValidationIssues } from './parse-request';

/** Fills the fields some compatible servers leave out, then checks the shape. */
export function fromOpenAIResponse(provider: string, body: unknown, now: () => number): ChatResponse {
  if (isRecord(body)) {
    body['object'] ??= 'chat.completion';
    body['created'] ??= Math.floor(now() / 1000);
    if (Array.isArray(body['choices'])) {
      body['choices'].forEach((choice: unknown, index) => {
        if (!isRecord(choice)) return;
        choice['index'] ??= index;
        choice['logprobs'] ??= null;
        choice['finish_reason'] ??= null;
        if (isRecord(choice['message'])) choice['message']['content'] ??= null;
      });
    }
    if (body['usage'] === null) delete body['usage'];
  }
  const result = chatResponseSchema.safeParse(body);
  if (!result.success) {
    const issues = toValidationIssues(result.error);
    throw new ProviderError({
      provider,
      kind: 'server',
      message: `${provider} sent a malformed chat completion (${issues[0]?.path}: ${issues[0]?.message})`,
      issues,
      cause: result.error,
    });
  }
  // The original object is returned so provider-specific fields (annotations, filter results) survive.
  return body as ChatResponse;
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
