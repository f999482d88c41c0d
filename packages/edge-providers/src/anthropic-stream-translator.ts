import type { EventSourceMessage } from 'eventsource-parser';
import { mapAnthropicStreamError } from './anthropic-errors';
import type { ChatChunk, FinishReason } from './chat-schemas';
import { ProviderError } from './errors';
import { anthropicFinishReason, anthropicUsage } from './from-anthropic-response';
import { isRecord } from './http-transport';

/**
 * Turns Anthropic Messages stream events into unified chunks: text deltas become `content`,
 * `tool_use` blocks and their `input_json_delta`s become `tool_calls` deltas (indexed from 0 in
 * block order), `message_delta` gives the finish reason, and usage (input from `message_start`,
 * cumulative output from `message_delta`) is yielded last as a `choices: []` chunk.
 */
export async function* translateAnthropicStream(
  provider: string,
  events: AsyncIterable<EventSourceMessage>,
  now: () => number,
): AsyncGenerator<ChatChunk> {
  let id = '';
  let model = '';
  const created = Math.floor(now() / 1000);
  let usage: Record<string, unknown> = {};
  const toolIndexByBlock = new Map<number, number>();
  let finish: FinishReason | null = null;
  let stopped = false;

  const chunk = (
    delta: ChatChunk['choices'][number]['delta'],
    finishReason: FinishReason | null = null,
  ): ChatChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  });

  for await (const event of events) {
    if (event.data.trim() === '') continue;
    const data: unknown = JSON.parse(event.data);
    if (!isRecord(data)) continue;
    const type = event.event ?? data['type'];
    switch (type) {
      case 'ping':
        break;
      case 'error':
        throw mapAnthropicStreamError(provider, data);
      case 'message_start': {
        const message = isRecord(data['message']) ? data['message'] : {};
        id = typeof message['id'] === 'string' ? message['id'] : '';
        model = typeof message['model'] === 'string' ? message['model'] : '';
        if (isRecord(message['usage'])) usage = { ...message['usage'] };
        yield chunk({ role: 'assistant', content: '' });
        break;
      }
      case 'content_block_start': {
        const block = isRecord(data['content_block']) ? data['content_block'] : {};
        const index = typeof data['index'] === 'number' ? data['index'] : -1;
        if (block['type'] === 'tool_use') {
          const toolIndex = toolIndexByBlock.size;
          toolIndexByBlock.set(index, toolIndex);
          yield chunk({
            tool_calls: [
              {
                index: toolIndex,
                id: String(block['id']),
                type: 'function',
                function: { name: String(block['name']), arguments: '' },
              },
            ],
          });
        } else if (block['type'] === 'text' && typeof block['text'] === 'string' && block['text'] !== '') {
          yield chunk({ content: block['text'] });
        }
        break;
      }
      case 'content_block_delta': {
        const delta = isRecord(data['delta']) ? data['delta'] : {};
        if (delta['type'] === 'text_delta' && typeof delta['text'] === 'string') {
          yield chunk({ content: delta['text'] });
        } else if (delta['type'] === 'input_json_delta' && typeof delta['partial_json'] === 'string') {
          const toolIndex = toolIndexByBlock.get(typeof data['index'] === 'number' ? data['index'] : -1);
          if (toolIndex === undefined) {
            throw new ProviderError({
              provider,
              kind: 'server',
              message: `${provider} sent tool input for a block that is not a tool_use`,
            });
          }
          if (delta['partial_json'] !== '') {
            yield chunk({
              tool_calls: [{ index: toolIndex, function: { arguments: delta['partial_json'] } }],
            });
          }
        }
        break;
      }
      case 'message_delta': {
        const delta = isRecord(data['delta']) ? data['delta'] : {};
        if (isRecord(data['usage'])) {
          for (const [key, value] of Object.entries(data['usage'])) if (value != null) usage[key] = value;
        }
        if (delta['stop_reason'] != null) {
          finish = anthropicFinishReason(delta['stop_reason']);
          yield chunk({}, finish);
        }
        break;
      }
      case 'message_stop':
        stopped = true;
        break;
      default:
        // content_block_stop and delta types outside v1 (thinking, citations) carry nothing to translate.
        break;
    }
    if (stopped) break;
  }
  if (!stopped) {
    throw new ProviderError({
      provider,
      kind: 'network',
      message: `${provider} stream ended before message_stop`,
    });
  }
  if (finish === null) yield chunk({}, 'stop');
  yield { id, object: 'chat.completion.chunk', created, model, choices: [], usage: anthropicUsage(usage) };
}
