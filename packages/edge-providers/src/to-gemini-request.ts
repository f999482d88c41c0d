import type { AssistantMessage, ChatRequest, UserMessage } from './chat-schemas';
import { invalidField, unsupportedField } from './errors';
import { isRecord, tryParseJson } from './http-transport';
import { KNOWN_REQUEST_FIELDS, parseDataUrl, parseToolArguments, textOf } from './translation-helpers';

/** A Gemini `Part` as sent in a request. */
export type GeminiPart = Record<string, unknown>;

/** A Gemini `Content` as sent in a request. */
export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

const HANDLED = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  // Accepted only at their neutral values, checked below.
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'store',
  'metadata',
]);

const MAX_STOP_SEQUENCES = 5;

/**
 * Translates a unified chat request into a Gemini `GenerateContentRequest` body. System and developer
 * messages become `systemInstruction`; assistant tool calls become `functionCall` parts and tool
 * results `functionResponse` parts (named by looking up the call they answer). A field with no
 * Gemini equivalent is rejected with a ProviderError of kind 'unsupported' naming it (another target
 * may take it); an invalid request (a tool result answering no call) with kind 'bad_request'.
 */
export function toGeminiRequest(request: ChatRequest, provider: string): Record<string, unknown> {
  const p = provider;
  for (const key of Object.keys(request)) {
    if (!HANDLED.has(key) && (request as Record<string, unknown>)[key] !== undefined) {
      throw unsupportedField(
        p,
        key,
        KNOWN_REQUEST_FIELDS.has(key)
          ? 'is not supported by the Gemini API'
          : 'is not a field llm-edge can translate to the Gemini API',
      );
    }
  }
  if (request.logit_bias && Object.keys(request.logit_bias).length > 0) {
    throw unsupportedField(p, 'logit_bias', 'has no Gemini equivalent');
  }
  if (request.logprobs)
    throw unsupportedField(p, 'logprobs', 'log probabilities are not translated for Gemini');
  if (request.top_logprobs != null) {
    throw unsupportedField(p, 'top_logprobs', 'log probabilities are not translated for Gemini');
  }
  if (request.store) throw unsupportedField(p, 'store', 'Gemini does not store completions');
  if (request.metadata && Object.keys(request.metadata).length > 0) {
    throw unsupportedField(p, 'metadata', 'OpenAI completion metadata has no Gemini equivalent');
  }
  if (request.parallel_tool_calls === false) {
    throw unsupportedField(p, 'parallel_tool_calls', 'Gemini cannot be told to call one function at a time');
  }
  if (
    request.max_tokens != null &&
    request.max_completion_tokens != null &&
    request.max_tokens !== request.max_completion_tokens
  ) {
    throw invalidField(p, 'max_completion_tokens', 'conflicts with max_tokens');
  }

  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const push = (role: 'user' | 'model', parts: GeminiPart[]) => {
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  const toolNames = new Map<string, string>();

  request.messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        if (message.name !== undefined)
          throw unsupportedField(p, `${at}.name`, 'Gemini has no message names');
        for (const text of textOf(message.content)) system.push({ text });
        break;
      case 'user':
        push('user', userParts(p, message, at));
        break;
      case 'assistant':
        for (const call of message.tool_calls ?? []) toolNames.set(call.id, call.function.name);
        push('model', modelParts(p, message, at));
        break;
      case 'tool': {
        const name = toolNames.get(message.tool_call_id);
        if (name === undefined) {
          throw invalidField(
            p,
            `${at}.tool_call_id`,
            'does not match a tool call of an earlier assistant message (Gemini needs the function name)',
          );
        }
        const text = textOf(message.content).join('');
        const parsed = tryParseJson(text);
        push('user', [
          { functionResponse: { name, response: isRecord(parsed) ? parsed : { result: text } } },
        ]);
        break;
      }
    }
  });

  const body: Record<string, unknown> = { contents };
  if (system.length > 0) body['systemInstruction'] = { parts: system };

  const config: Record<string, unknown> = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) config['maxOutputTokens'] = maxTokens;
  if (request.temperature != null) config['temperature'] = request.temperature;
  if (request.top_p != null) config['topP'] = request.top_p;
  if (request.n != null && request.n !== 1) config['candidateCount'] = request.n;
  if (request.presence_penalty) config['presencePenalty'] = request.presence_penalty;
  if (request.frequency_penalty) config['frequencyPenalty'] = request.frequency_penalty;
  if (request.seed != null) config['seed'] = request.seed;
  if (request.stop != null) {
    const stops = typeof request.stop === 'string' ? [request.stop] : request.stop;
    if (stops.length > MAX_STOP_SEQUENCES) {
      throw unsupportedField(p, 'stop', `Gemini accepts at most ${MAX_STOP_SEQUENCES} stop sequences`);
    }
    if (stops.length > 0) config['stopSequences'] = stops;
  }
  const format = request.response_format;
  if (format?.type === 'json_object') config['responseMimeType'] = 'application/json';
  if (format?.type === 'json_schema') {
    config['responseMimeType'] = 'application/json';
    if (format.json_schema.schema) config['responseJsonSchema'] = format.json_schema.schema;
  }
  if (Object.keys(config).length > 0) body['generationConfig'] = config;

  if (request.tools && request.tools.length > 0) {
    body['tools'] = [
      {
        functionDeclarations: request.tools.map((tool, j) => {
          if (tool.function.strict) {
            throw unsupportedField(
              p,
              `tools[${j}].function.strict`,
              'Gemini does not guarantee schema-exact function arguments',
            );
          }
          return {
            name: tool.function.name,
            ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
            ...(tool.function.parameters !== undefined
              ? { parametersJsonSchema: tool.function.parameters }
              : {}),
          };
        }),
      },
    ];
  }
  if (request.tool_choice !== undefined) {
    const choice = request.tool_choice;
    const functionCallingConfig: Record<string, unknown> =
      choice === 'auto'
        ? { mode: 'AUTO' }
        : choice === 'none'
          ? { mode: 'NONE' }
          : choice === 'required'
            ? { mode: 'ANY' }
            : { mode: 'ANY', allowedFunctionNames: [choice.function.name] };
    body['toolConfig'] = { functionCallingConfig };
  }
  return body;
}

function userParts(p: string, message: UserMessage, at: string): GeminiPart[] {
  if (message.name !== undefined) throw unsupportedField(p, `${at}.name`, 'Gemini has no message names');
  if (typeof message.content === 'string') return [{ text: message.content }];
  return message.content.map((part, j): GeminiPart => {
    const path = `${at}.content[${j}]`;
    switch (part.type) {
      case 'text':
        return { text: part.text };
      case 'image_url': {
        if (part.image_url.detail !== undefined && part.image_url.detail !== 'auto') {
          throw unsupportedField(
            p,
            `${path}.image_url.detail`,
            'is not translated for Gemini; omit it or use auto',
          );
        }
        const data = parseDataUrl(part.image_url.url);
        if (!data) {
          throw unsupportedField(
            p,
            `${path}.image_url.url`,
            'Gemini takes inline images as base64 data URLs; fetch http(s) images first',
          );
        }
        return { inlineData: { mimeType: data.mediaType, data: data.data } };
      }
      case 'input_audio':
        return {
          inlineData: {
            mimeType: part.input_audio.format === 'wav' ? 'audio/wav' : 'audio/mp3',
            data: part.input_audio.data,
          },
        };
      default: {
        const data = part.file.file_data === undefined ? undefined : parseDataUrl(part.file.file_data);
        if (part.file.file_id !== undefined || !data) {
          throw unsupportedField(
            p,
            `${path}.file`,
            'Gemini takes files as base64 data URLs (file_data), not file ids',
          );
        }
        return { inlineData: { mimeType: data.mediaType, data: data.data } };
      }
    }
  });
}

function modelParts(p: string, message: AssistantMessage, at: string): GeminiPart[] {
  if (message.name !== undefined) throw unsupportedField(p, `${at}.name`, 'Gemini has no message names');
  if (message.audio != null) throw unsupportedField(p, `${at}.audio`, 'Gemini has no audio turns here');
  const parts: GeminiPart[] = [];
  if (typeof message.content === 'string') {
    if (message.content !== '') parts.push({ text: message.content });
  } else if (message.content) {
    for (const part of message.content) {
      const text = part.type === 'text' ? part.text : part.refusal;
      if (text !== '') parts.push({ text });
    }
  }
  if (message.refusal) parts.push({ text: message.refusal });
  message.tool_calls?.forEach((call, j) => {
    parts.push({
      functionCall: {
        name: call.function.name,
        args: parseToolArguments(p, call.function.arguments, `${at}.tool_calls[${j}].function.arguments`),
      },
    });
  });
  if (parts.length === 0) {
    throw unsupportedField(p, `${at}.content`, 'Gemini needs model turns with text or function calls');
  }
  return parts;
}
