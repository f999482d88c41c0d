import type { ChatRequest } from './chat-schemas';

/** Wire quirks of an OpenAI-compatible server. */
export interface OpenAICompatibleQuirks {
  /**
   * Which field carries the output-token limit upstream: servers that predate
   * `max_completion_tokens` only read `max_tokens`.
   * @default 'as-is'
   */
  maxTokensField?: 'as-is' | 'max_tokens' | 'max_completion_tokens';
  /**
   * Whether the server accepts `stream_options` (and so can be asked for a usage chunk).
   * @default true
   */
  streamOptions?: boolean;
}

/**
 * Builds the upstream body for an OpenAI-family server: the unified request forwarded verbatim,
 * including unknown top-level fields, with `stream` set by the call and a usage chunk always asked for.
 */
export function toOpenAIRequest(
  request: ChatRequest,
  stream: boolean,
  quirks: OpenAICompatibleQuirks = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request };
  if (stream) {
    body['stream'] = true;
    if (quirks.streamOptions === false) delete body['stream_options'];
    else body['stream_options'] = { ...request.stream_options, include_usage: true };
  } else {
    delete body['stream'];
    delete body['stream_options'];
  }
  const field = quirks.maxTokensField ?? 'as-is';
  if (field === 'max_tokens' && body['max_completion_tokens'] != null) {
    body['max_tokens'] ??= body['max_completion_tokens'];
    delete body['max_completion_tokens'];
  } else if (field === 'max_completion_tokens' && body['max_tokens'] != null) {
    body['max_completion_tokens'] ??= body['max_tokens'];
    delete body['max_tokens'];
  }
  return body;
}
