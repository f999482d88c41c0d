import type { AssistantMessage, ChatRequest, ToolMessage, UserMessage } from './chat-schemas';
import { invalidField, unsupportedField } from './errors';
import { KNOWN_REQUEST_FIELDS, parseDataUrl, parseToolArguments, textOf } from './translation-helpers';

/** An Anthropic content block as sent in a request. */
export type AnthropicContentBlock = Record<string, unknown> & { type: string };

/** An Anthropic message as sent in a request. */
export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicContentBlock[];
}

/** Settings of the Anthropic request translation. */
export interface AnthropicRequestSettings {
  /** Provider name used in errors. */
  provider: string;
  /** `max_tokens` when the request gives none (Anthropic requires it). */
  defaultMaxTokens: number;
}

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const EFFORTS = new Set(['low', 'medium', 'high', 'xhigh', 'max']);

/*
 * Fields of the unified request this translation understands. Anything else on the top level is
 * an OpenAI field or vendor extension with no Anthropic meaning and is rejected, never dropped.
 */
const HANDLED = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'safety_identifier',
  'response_format',
  'reasoning_effort',
  'service_tier',
  // The following are accepted only at their neutral values, checked below.
  'n',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'store',
  'metadata',
]);

/**
 * Translates a unified chat request into an Anthropic Messages request body. System and developer
 * messages become `system`; tool results become `tool_result` blocks in user turns; consecutive turns
 * of one role are merged. A field with no Anthropic equivalent is rejected with a ProviderError of
 * kind 'unsupported' naming it (another target may take it); a self-contradictory request with kind
 * 'bad_request'.
 */
export function toAnthropicRequest(
  request: ChatRequest,
  stream: boolean,
  settings: AnthropicRequestSettings,
): Record<string, unknown> {
  const p = settings.provider;
  for (const key of Object.keys(request)) {
    if (!HANDLED.has(key) && (request as Record<string, unknown>)[key] !== undefined) {
      throw unsupportedField(
        p,
        key,
        KNOWN_REQUEST_FIELDS.has(key)
          ? 'is not supported by the Anthropic Messages API'
          : 'is not a field llm-edge can translate to the Anthropic Messages API',
      );
    }
  }
  if (request.n != null && request.n !== 1)
    throw unsupportedField(p, 'n', 'Anthropic returns one choice; n must be 1');
  if (request.presence_penalty) throw unsupportedField(p, 'presence_penalty', 'has no Anthropic equivalent');
  if (request.frequency_penalty)
    throw unsupportedField(p, 'frequency_penalty', 'has no Anthropic equivalent');
  if (request.logit_bias && Object.keys(request.logit_bias).length > 0) {
    throw unsupportedField(p, 'logit_bias', 'has no Anthropic equivalent');
  }
  if (request.logprobs) throw unsupportedField(p, 'logprobs', 'Anthropic does not return log probabilities');
  if (request.top_logprobs != null)
    throw unsupportedField(p, 'top_logprobs', 'Anthropic does not return log probabilities');
  if (request.store) throw unsupportedField(p, 'store', 'Anthropic does not store completions');
  if (request.metadata && Object.keys(request.metadata).length > 0) {
    throw unsupportedField(p, 'metadata', 'OpenAI completion metadata has no Anthropic equivalent');
  }
  if (request.temperature != null && request.temperature > 1) {
    throw unsupportedField(p, 'temperature', 'Anthropic accepts 0 to 1');
  }
  if (
    request.max_tokens != null &&
    request.max_completion_tokens != null &&
    request.max_tokens !== request.max_completion_tokens
  ) {
    throw invalidField(p, 'max_completion_tokens', 'conflicts with max_tokens');
  }

  const body: Record<string, unknown> = {
    model: request.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? settings.defaultMaxTokens,
  };

  const system: AnthropicContentBlock[] = [];
  const messages: AnthropicMessage[] = [];
  const push = (role: 'user' | 'assistant', blocks: AnthropicContentBlock[]) => {
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };

  request.messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        if (message.name !== undefined)
          throw unsupportedField(p, `${at}.name`, 'Anthropic has no message names');
        for (const text of textOf(message.content)) system.push({ type: 'text', text });
        break;
      case 'user':
        push('user', userBlocks(p, message, at));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(p, message, at));
        break;
      case 'tool':
        push('user', [toolResultBlock(message)]);
        break;
    }
  });
  if (system.length > 0) {
    body['system'] = system.length === 1 ? system[0]!['text'] : system;
  }
  body['messages'] = messages;

  if (request.temperature != null) body['temperature'] = request.temperature;
  if (request.top_p != null) body['top_p'] = request.top_p;
  if (request.stop != null) {
    const stops = typeof request.stop === 'string' ? [request.stop] : request.stop;
    if (stops.length > 0) body['stop_sequences'] = stops;
  }
  if (stream) body['stream'] = true;

  if (request.tools && request.tools.length > 0) {
    body['tools'] = request.tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
      input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
      ...(tool.function.strict ? { strict: true } : {}),
    }));
  }
  let toolChoice: Record<string, unknown> | undefined;
  if (request.tool_choice !== undefined) {
    const choice = request.tool_choice;
    if (choice === 'auto') toolChoice = { type: 'auto' };
    else if (choice === 'required') toolChoice = { type: 'any' };
    else if (choice === 'none') toolChoice = { type: 'none' };
    else toolChoice = { type: 'tool', name: choice.function.name };
  }
  // With tool_choice none nothing can run in parallel, so the flag has nothing to say.
  if (request.parallel_tool_calls === false && toolChoice?.['type'] !== 'none') {
    toolChoice = { ...(toolChoice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  if (toolChoice) body['tool_choice'] = toolChoice;

  const userId = request.user ?? request.safety_identifier;
  if (
    request.user !== undefined &&
    request.safety_identifier !== undefined &&
    request.user !== request.safety_identifier
  ) {
    throw unsupportedField(
      p,
      'safety_identifier',
      'Anthropic takes one end-user id (metadata.user_id); it differs from user',
    );
  }
  if (userId !== undefined) body['metadata'] = { user_id: userId };

  const outputConfig: Record<string, unknown> = {};
  const format = request.response_format;
  if (format?.type === 'json_object') {
    throw unsupportedField(
      p,
      'response_format.type',
      "Anthropic constrains output to a JSON schema only; use { type: 'json_schema' } with a schema",
    );
  }
  if (format?.type === 'json_schema') {
    if (!format.json_schema.schema) {
      throw unsupportedField(
        p,
        'response_format.json_schema.schema',
        'is required for Anthropic structured outputs',
      );
    }
    outputConfig['format'] = { type: 'json_schema', schema: format.json_schema.schema };
  }
  if (request.reasoning_effort != null) {
    if (!EFFORTS.has(request.reasoning_effort)) {
      throw unsupportedField(
        p,
        'reasoning_effort',
        'Anthropic effort is one of low, medium, high, xhigh, max',
      );
    }
    outputConfig['effort'] = request.reasoning_effort;
  }
  if (Object.keys(outputConfig).length > 0) body['output_config'] = outputConfig;

  if (request.service_tier != null) {
    if (request.service_tier === 'auto') body['service_tier'] = 'auto';
    else if (request.service_tier === 'default') body['service_tier'] = 'standard_only';
    else throw unsupportedField(p, 'service_tier', "Anthropic accepts 'auto' or 'default' (standard only)");
  }
  return body;
}

function userBlocks(p: string, message: UserMessage, at: string): AnthropicContentBlock[] {
  if (message.name !== undefined) throw unsupportedField(p, `${at}.name`, 'Anthropic has no message names');
  if (typeof message.content === 'string') return [{ type: 'text', text: message.content }];
  return message.content.map((part, j): AnthropicContentBlock => {
    const path = `${at}.content[${j}]`;
    switch (part.type) {
      case 'text':
        return { type: 'text', text: part.text };
      case 'image_url': {
        if (part.image_url.detail !== undefined && part.image_url.detail !== 'auto') {
          throw unsupportedField(
            p,
            `${path}.image_url.detail`,
            'Anthropic has no image detail setting; omit it or use auto',
          );
        }
        const url = part.image_url.url;
        const data = parseDataUrl(url);
        if (data) {
          if (!IMAGE_MEDIA_TYPES.has(data.mediaType)) {
            throw unsupportedField(
              p,
              `${path}.image_url.url`,
              `Anthropic accepts jpeg, png, gif or webp images, not ${data.mediaType}`,
            );
          }
          return { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data } };
        }
        if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
        throw invalidField(p, `${path}.image_url.url`, 'must be an http(s) URL or a base64 data URL');
      }
      case 'file': {
        const data = part.file.file_data === undefined ? undefined : parseDataUrl(part.file.file_data);
        if (part.file.file_id !== undefined || !data) {
          throw unsupportedField(
            p,
            `${path}.file`,
            'Anthropic takes files as base64 data URLs (file_data), not file ids',
          );
        }
        if (data.mediaType !== 'application/pdf') {
          throw unsupportedField(
            p,
            `${path}.file.file_data`,
            `Anthropic documents are PDFs, not ${data.mediaType}`,
          );
        }
        return {
          type: 'document',
          source: { type: 'base64', media_type: 'application/pdf', data: data.data },
          ...(part.file.filename !== undefined ? { title: part.file.filename } : {}),
        };
      }
      default:
        throw unsupportedField(p, path, 'Anthropic does not accept audio input');
    }
  });
}

function assistantBlocks(p: string, message: AssistantMessage, at: string): AnthropicContentBlock[] {
  if (message.name !== undefined) throw unsupportedField(p, `${at}.name`, 'Anthropic has no message names');
  if (message.audio != null) throw unsupportedField(p, `${at}.audio`, 'Anthropic has no audio turns');
  const blocks: AnthropicContentBlock[] = [];
  if (typeof message.content === 'string') {
    if (message.content !== '') blocks.push({ type: 'text', text: message.content });
  } else if (message.content) {
    for (const part of message.content) {
      const text = part.type === 'text' ? part.text : part.refusal;
      if (text !== '') blocks.push({ type: 'text', text });
    }
  }
  if (message.refusal) blocks.push({ type: 'text', text: message.refusal });
  message.tool_calls?.forEach((call, j) => {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseToolArguments(p, call.function.arguments, `${at}.tool_calls[${j}].function.arguments`),
    });
  });
  if (blocks.length === 0) {
    throw unsupportedField(p, `${at}.content`, 'Anthropic needs assistant turns with text or tool calls');
  }
  return blocks;
}

function toolResultBlock(message: ToolMessage): AnthropicContentBlock {
  return {
    type: 'tool_result',
    tool_use_id: message.tool_call_id,
    content:
      typeof message.content === 'string'
        ? message.content
        : message.content.map((part) => ({ type: 'text', text: part.text })),
  };
}
