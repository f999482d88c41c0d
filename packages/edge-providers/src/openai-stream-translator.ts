import type { EventSourceMessage } from 'eventsource-parser';
import type { ChatChunk, Usage } from './chat-schemas';
import { ProviderError } from './errors';
import { readOpenAIUsage } from './from-openai-response';
import { isRecord } from './http-transport';
import { mapOpenAIStreamError } from './openai-errors';

/**
 * Turns an OpenAI-family SSE stream into unified chunks: `usage: null` and `obfuscation` padding are
 * removed, chunks without choices or usage (Azure prompt filter results) are skipped, and usage — from a
 * usage chunk or piggy-backed on the last choice chunk — is yielded once, last, as `choices: []`.
 */
export async function* translateOpenAIStream(
  provider: string,
  events: AsyncIterable<EventSourceMessage>,
): AsyncGenerator<ChatChunk> {
  let usage: Usage | undefined;
  let template: ChatChunk | undefined;
  let finished = false;
  let done = false;
  for await (const event of events) {
    const data = event.data.trim();
    if (data.startsWith('[DONE]')) {
      done = true;
      break;
    }
    if (data === '') continue;
    const parsed: unknown = JSON.parse(data);
    if (!isRecord(parsed)) throw malformed(provider, 'an event that is not an object');
    if ('error' in parsed && parsed['error'] != null) throw mapOpenAIStreamError(provider, parsed);
    const chunkUsage = readOpenAIUsage(parsed['usage']);
    if (chunkUsage) usage = chunkUsage;
    delete parsed['usage'];
    delete parsed['obfuscation'];
    const choices = parsed['choices'];
    if (!Array.isArray(choices)) throw malformed(provider, 'a chunk without choices');
    const chunk = parsed as unknown as ChatChunk;
    chunk.object ??= 'chat.completion.chunk';
    template ??= chunk;
    if (choices.length === 0) continue;
    for (const choice of chunk.choices) {
      if (choice.finish_reason != null) finished = true;
      choice.finish_reason ??= null;
    }
    yield chunk;
  }
  if (!done && !finished) {
    throw new ProviderError({
      provider,
      kind: 'network',
      message: `${provider} stream ended before the response was complete`,
    });
  }
  if (usage && template) {
    yield {
      id: template.id,
      object: 'chat.completion.chunk',
      created: template.created,
      model: template.model,
      choices: [],
      usage,
      ...(template.system_fingerprint ? { system_fingerprint: template.system_fingerprint } : {}),
    };
  }
}

function malformed(provider: string, what: string): ProviderError {
  return new ProviderError({ provider, kind: 'server', message: `${provider} sent ${what} in its stream` });
}
