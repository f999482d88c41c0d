import type { EventSourceMessage } from 'eventsource-parser';
import type { ChatChunk, FinishReason } from './chat-schemas';
import { ProviderError } from './errors';
import {
  geminiFinishReason,
  geminiToolCallId,
  geminiUsage,
  readCandidateParts,
  throwIfPromptBlocked,
} from './from-gemini-response';
import { mapGeminiStreamError } from './gemini-errors';
import { isRecord } from './http-transport';

interface CandidateState {
  started: boolean;
  toolCalls: number;
  finish: FinishReason | null;
}

/**
 * Turns a Gemini `alt=sse` stream (one `GenerateContentResponse` per event) into unified chunks.
 * Function calls arrive whole, so each becomes one `tool_calls` delta carrying the full arguments;
 * the last `usageMetadata` seen is yielded at the end as the usage chunk.
 */
export async function* translateGeminiStream(
  provider: string,
  events: AsyncIterable<EventSourceMessage>,
  requestedModel: string,
  now: () => number,
  newId: () => string,
): AsyncGenerator<ChatChunk> {
  const created = Math.floor(now() / 1000);
  let id: string | undefined;
  let model = requestedModel;
  let usage: Record<string, unknown> | undefined;
  const states = new Map<number, CandidateState>();

  for await (const event of events) {
    if (event.data.trim() === '') continue;
    const data: unknown = JSON.parse(event.data);
    if (!isRecord(data)) continue;
    if (isRecord(data['error'])) throw mapGeminiStreamError(provider, data);
    throwIfPromptBlocked(provider, data);
    id ??= typeof data['responseId'] === 'string' ? data['responseId'] : newId();
    if (typeof data['modelVersion'] === 'string') model = data['modelVersion'];
    if (isRecord(data['usageMetadata'])) usage = data['usageMetadata'];
    const candidates = Array.isArray(data['candidates']) ? data['candidates'] : [];
    for (const [position, candidate] of candidates.entries()) {
      if (!isRecord(candidate)) continue;
      const index = typeof candidate['index'] === 'number' ? candidate['index'] : position;
      let state = states.get(index);
      if (!state) {
        state = { started: false, toolCalls: 0, finish: null };
        states.set(index, state);
      }
      const parts = readCandidateParts(candidate);
      const delta: ChatChunk['choices'][number]['delta'] = {};
      if (!state.started) {
        delta.role = 'assistant';
        state.started = true;
      }
      if (parts.sawText) delta.content = parts.text;
      if (parts.calls.length > 0) {
        delta.tool_calls = parts.calls.map((call) => {
          const toolIndex = state.toolCalls++;
          return {
            index: toolIndex,
            id: geminiToolCallId(id ?? '', index, toolIndex, call.id),
            type: 'function' as const,
            function: { name: call.name, arguments: JSON.stringify(call.args) },
          };
        });
      }
      const finish = geminiFinishReason(provider, candidate['finishReason'], state.toolCalls > 0);
      if (Object.keys(delta).length > 0 || finish !== null) {
        state.finish = finish ?? state.finish;
        yield {
          id,
          object: 'chat.completion.chunk',
          created,
          model,
          choices: [{ index, delta, finish_reason: finish, logprobs: null }],
        };
      }
    }
  }
  const finished = [...states.values()].some((state) => state.finish !== null);
  if (!finished) {
    throw new ProviderError({
      provider,
      kind: 'network',
      message: `${provider} stream ended before a finishReason`,
    });
  }
  if (usage) {
    yield {
      id: id ?? newId(),
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [],
      usage: geminiUsage(usage),
    };
  }
}
