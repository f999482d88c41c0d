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
    const fields = withoutUsageAndPadding(parsed);
    const choices = fields['choices'];
    if (!Array.isArray(choices)) throw malformed(provider, 'a chunk without choices');
    const chunk = fields as unknown as ChatChunk;
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

/**
 * The chunk without `usage` and `obfuscation` (OpenAI sends both on every chunk when usage is
 * asked for). A copy, not `delete`: V8 turns a parsed object that loses a property into a
 * dictionary, and every later read of it, in each layer the chunk passes, and its serialisation
 * to the client then take the slow path (~9k instructions a chunk against ~3k for the copy, in a
 * callgrind count of parse, reads and serialisation).
 */
function withoutUsageAndPadding(parsed: Record<string, unknown>): Record<string, unknown> {
  if (parsed['usage'] === undefined && parsed['obfuscation'] === undefined) return parsed;
  const { usage: _usage, obfuscation: _padding, ...fields } = parsed;
  return fields;
}

function malformed(provider: string, what: string): ProviderError {
  return new ProviderError({ provider, kind: 'server', message: `${provider} sent ${what} in its stream` });
}
