import type { ChatChunk, ChatResponse, ToolCall, Usage } from '@llm-edge/providers';

type Choice = ChatResponse['choices'][number];

/**
 * Folds a recorded stream into the non-stream response it stands for, so one cache entry serves
 * both `stream: true` and `stream: false` callers. Returns undefined for a stream that never
 * finished (no finish_reason), which must not be cached.
 */
export function assembleChatResponse(chunks: readonly ChatChunk[]): ChatResponse | undefined {
  const first = chunks[0];
  if (first === undefined) return undefined;
  const choices = new Map<
    number,
    {
      content: string;
      hasContent: boolean;
      refusal: string | null;
      finish: Choice['finish_reason'];
      tools: Map<number, ToolCall>;
    }
  >();
  let usage: Usage | undefined;
  let finished = false;
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      let acc = choices.get(choice.index);
      if (acc === undefined) {
        acc = { content: '', hasContent: false, refusal: null, finish: null, tools: new Map() };
        choices.set(choice.index, acc);
      }
      const delta = choice.delta;
      if (typeof delta.content === 'string') {
        acc.content += delta.content;
        acc.hasContent = true;
      }
      if (typeof delta.refusal === 'string') acc.refusal = (acc.refusal ?? '') + delta.refusal;
      for (const call of delta.tool_calls ?? []) {
        let tool = acc.tools.get(call.index);
        if (tool === undefined) {
          tool = {
            id: call.id ?? '',
            type: 'function',
            function: { name: call.function?.name ?? '', arguments: '' },
          };
          acc.tools.set(call.index, tool);
        }
        if (call.id) tool.id = call.id;
        if (call.function?.name) tool.function.name = call.function.name;
        if (call.function?.arguments) tool.function.arguments += call.function.arguments;
      }
      if (choice.finish_reason != null) {
        acc.finish = choice.finish_reason;
        finished = true;
      }
    }
  }
  if (!finished) return undefined;
  const response: ChatResponse = {
    id: first.id,
    object: 'chat.completion',
    created: first.created,
    model: first.model,
    choices: [...choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, acc]) => ({
        index,
        message: {
          role: 'assistant' as const,
          content: acc.hasContent || acc.tools.size === 0 ? acc.content : null,
          ...(acc.refusal !== null ? { refusal: acc.refusal } : {}),
          ...(acc.tools.size > 0
            ? { tool_calls: [...acc.tools.entries()].sort(([a], [b]) => a - b).map(([, t]) => t) }
            : {}),
        },
        finish_reason: acc.finish,
        logprobs: null,
      })),
  };
  if (usage) response.usage = usage;
  if (first.system_fingerprint != null) response.system_fingerprint = first.system_fingerprint;
  return response;
}

// Replayed text is cut into pieces of about this many characters, so a replay looks like a stream.
const REPLAY_PIECE = 64;

/** Turns a (cached) response back into the chunks of a stream, ending with the usage chunk. */
export function responseToChunks(response: ChatResponse): ChatChunk[] {
  const base = {
    id: response.id,
    object: 'chat.completion.chunk' as const,
    created: response.created,
    model: response.model,
  };
  const chunks: ChatChunk[] = [];
  for (const choice of response.choices) {
    const index = choice.index;
    chunks.push({
      ...base,
      choices: [{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    const content = choice.message.content ?? '';
    for (let at = 0; at < content.length; at += REPLAY_PIECE) {
      chunks.push({
        ...base,
        choices: [{ index, delta: { content: content.slice(at, at + REPLAY_PIECE) }, finish_reason: null }],
      });
    }
    (choice.message.tool_calls ?? []).forEach((call, callIndex) => {
      chunks.push({
        ...base,
        choices: [
          {
            index,
            delta: {
              tool_calls: [
                {
                  index: callIndex,
                  id: call.id,
                  type: 'function',
                  function: { name: call.function.name, arguments: call.function.arguments },
                },
              ],
            },
            finish_reason: null,
          },
        ],
      });
    });
    chunks.push({ ...base, choices: [{ index, delta: {}, finish_reason: choice.finish_reason ?? 'stop' }] });
  }
  if (response.usage) chunks.push({ ...base, choices: [], usage: response.usage });
  return chunks;
}
