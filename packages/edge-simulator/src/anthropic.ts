import type { Generation, GenerationRequest, OfferedTool, ToolChoice } from './content';
import type { Engine, ResponsePlan, StreamFrame, WireError, WireFormat } from './engine';
import type { Exchange } from './exchange';
import { createRandom, hashString, randomId } from './random';
import type { RateLimitState } from './rate-limit';
import { countTokens } from './tokens';
import { type BodyProblem, BodyProblemSignal, Fields, requireObject, stringList } from './validate';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

function requestId(id: string): string {
  return `req_011Sim${id.replace('sim-', '').padStart(16, '0')}`;
}

/** Anthropic's wire conventions: `{type:"error",error:{type,message},request_id}`, `anthropic-ratelimit-*`. */
export const anthropicFormat: WireFormat = {
  provider: 'anthropic',
  errorBody(error: WireError, id: string) {
    const type =
      error.type ??
      ERROR_TYPES[error.status] ??
      (error.status >= 500 ? 'api_error' : 'invalid_request_error');
    const body: Record<string, unknown> = { type, message: error.message };
    if (error.details !== undefined) body['details'] = error.details;
    return { type: 'error', error: body, request_id: requestId(id) };
  },
  baseHeaders(id: string) {
    return {
      'request-id': requestId(id),
      'anthropic-organization-id': '00000000-0000-4000-8000-00000000511a',
    };
  },
  retryAfterHeader: true,
  rateLimitHeaders(state: RateLimitState) {
    const headers: Record<string, string> = {};
    const at = (ms: number | undefined) =>
      new Date(state.now + (ms ?? 0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (state.limitRequests !== undefined) {
      headers['anthropic-ratelimit-requests-limit'] = String(state.limitRequests);
      headers['anthropic-ratelimit-requests-remaining'] = String(state.remainingRequests ?? 0);
      headers['anthropic-ratelimit-requests-reset'] = at(state.resetRequestsMs);
    }
    if (state.limitTokens !== undefined) {
      headers['anthropic-ratelimit-tokens-limit'] = String(state.limitTokens);
      headers['anthropic-ratelimit-tokens-remaining'] = String(state.remainingTokens ?? 0);
      headers['anthropic-ratelimit-tokens-reset'] = at(state.resetTokensMs);
    }
    return headers;
  },
};

/** x-api-key (or Authorization: Bearer) and anthropic-version; sends the error itself when either is wrong. */
function authenticate(engine: Engine, exchange: Exchange): boolean {
  const headers = exchange.req.headers;
  const header = headers['x-api-key'];
  let key = typeof header === 'string' ? header.trim() : undefined;
  if (!key && headers.authorization?.startsWith('Bearer ')) key = headers.authorization.slice(7).trim();
  if (!key) {
    engine.sendError(exchange, anthropicFormat, { status: 401, message: 'x-api-key header is required' });
    return false;
  }
  if (!engine.keyAccepted(key)) {
    engine.sendError(exchange, anthropicFormat, { status: 401, message: 'invalid x-api-key' });
    return false;
  }
  exchange.apiKey = key;
  if (!headers['anthropic-version']) {
    engine.sendError(exchange, anthropicFormat, {
      status: 400,
      message: 'anthropic-version: header is required',
    });
    return false;
  }
  return true;
}

function problemMessage(problem: BodyProblem): string {
  if (problem.code === 'missing_required_parameter') return `${problem.param}: Field required`;
  return `${problem.param}: ${problem.message}`;
}

function sendProblem(engine: Engine, exchange: Exchange, error: unknown): void {
  if (error instanceof BodyProblemSignal) {
    engine.sendError(exchange, anthropicFormat, { status: 400, message: problemMessage(error.problem) });
    return;
  }
  throw error;
}

function modelNotFound(engine: Engine, exchange: Exchange, model: string): void {
  engine.sendError(exchange, anthropicFormat, { status: 404, message: `model: ${model}` });
}

interface ParsedMessages {
  request: GenerationRequest;
  stream: boolean;
  promptTokens: number;
}

function blockText(content: unknown, path: string): { text: string; toolResult: boolean } {
  if (typeof content === 'string') return { text: content, toolResult: false };
  if (!Array.isArray(content)) {
    throw new BodyProblemSignal({
      param: path,
      code: 'invalid_type',
      message: 'Input should be a valid string or a valid list',
    });
  }
  let text = '';
  let toolResult = false;
  for (let i = 0; i < content.length; i++) {
    const block = Fields.at(content, i, path);
    const type = block.string('type', true);
    if (type === 'text') text += (text ? '\n' : '') + block.string('text', true);
    else if (type === 'tool_result') {
      toolResult = true;
      const inner = block.value['content'];
      text += (text ? '\n' : '') + (typeof inner === 'string' ? inner : JSON.stringify(inner ?? ''));
    } else if (type === 'tool_use') text += JSON.stringify(block.value['input'] ?? {});
  }
  return { text, toolResult };
}

function parseMessages(body: unknown, apiKey: string, forCount: boolean): ParsedMessages {
  const fields = new Fields(requireObject(body, 'body'));
  const model = fields.string('model', true);
  const maxTokens = forCount
    ? fields.number('max_tokens', { min: 1, integer: true })
    : (fields.number('max_tokens', { min: 1, integer: true }) ??
      (() => {
        throw new BodyProblemSignal({ param: 'max_tokens', code: 'missing_required_parameter', message: '' });
      })());
  const messages = fields.array('messages', true);
  if (messages.length === 0 && !forCount) {
    throw fields.invalid('messages', 'at least one message is required');
  }
  let promptText = '';
  const system = fields.value['system'];
  if (system !== undefined) promptText += `${blockText(system, 'system').text}\n`;
  let lastUserText = '';
  let endsWithToolResult = false;
  for (let i = 0; i < messages.length; i++) {
    const message = Fields.at(messages, i, 'messages');
    const role = message.oneOf('role', ['user', 'assistant'] as const);
    if (role === undefined) {
      throw new BodyProblemSignal({
        param: `messages.${i}.role`,
        code: 'missing_required_parameter',
        message: '',
      });
    }
    const content = message.value['content'];
    if (content === undefined) {
      throw new BodyProblemSignal({
        param: `messages.${i}.content`,
        code: 'missing_required_parameter',
        message: '',
      });
    }
    const { text, toolResult } = blockText(content, `messages.${i}.content`);
    promptText += `${role}\n${text}\n`;
    if (role === 'user') lastUserText = text;
    endsWithToolResult = role === 'user' && toolResult;
  }
  const stream = forCount ? false : (fields.boolean('stream') ?? false);
  fields.number('temperature', { min: 0, max: 1 });
  const stop = stringList(fields, 'stop_sequences');
  const tools: OfferedTool[] = [];
  const toolList = fields.array('tools') ?? [];
  for (let i = 0; i < toolList.length; i++) {
    const tool = Fields.at(toolList, i, 'tools');
    const type = tool.string('type');
    if (type !== undefined && type !== 'custom') continue;
    tools.push({ name: tool.string('name', true), parameters: tool.object('input_schema', true)!.value });
  }
  let toolChoice: ToolChoice = 'auto';
  const choice = fields.object('tool_choice');
  if (choice) {
    const type = choice.oneOf('type', ['auto', 'any', 'tool', 'none'] as const);
    if (type === 'any') toolChoice = 'required';
    else if (type === 'none') toolChoice = 'none';
    else if (type === 'tool') {
      const name = choice.string('name', true);
      if (!tools.some((t) => t.name === name)) {
        throw choice.invalid('name', `Tool '${name}' not found in tools`);
      }
      toolChoice = { name };
    }
  }
  if (tools.length > 0) promptText += JSON.stringify(fields.value['tools']);
  const fingerprint = JSON.stringify([
    model,
    system,
    messages,
    fields.value['tools'],
    fields.value['tool_choice'],
    maxTokens,
    stop,
  ]);
  return {
    request: {
      provider: 'anthropic',
      model,
      apiKey,
      lastUserText,
      promptText,
      endsWithToolResult,
      maxTokens,
      tools,
      toolChoice,
      json: undefined,
      stop,
      fingerprint,
    },
    stream,
    promptTokens: countTokens(promptText) + 4 * messages.length,
  };
}

function stopReason(g: Generation): string {
  if (g.finish === 'tool_calls') return 'tool_use';
  if (g.finish === 'length') return 'max_tokens';
  if (g.finish === 'content_filter') return 'refusal';
  return g.stopSequence !== undefined ? 'stop_sequence' : 'end_turn';
}

function sse(type: string, payload: unknown, due: StreamFrame['due'] = 'none'): StreamFrame {
  const json = JSON.stringify(payload);
  const before = `event: ${type}\ndata: `;
  return { text: `${before}${json}\n\n`, due, json: { before, json, after: '\n\n' } };
}

/** POST /v1/messages */
export async function handleMessages(engine: Engine, exchange: Exchange): Promise<void> {
  if (!authenticate(engine, exchange)) return;
  const body = await engine.readJson(exchange, anthropicFormat);
  if (!body.ok) return;
  let parsed: ParsedMessages;
  try {
    parsed = parseMessages(body.value, exchange.apiKey, false);
  } catch (error) {
    sendProblem(engine, exchange, error);
    return;
  }
  const { request, stream, promptTokens } = parsed;
  exchange.entry.model = request.model;
  exchange.entry.stream = stream;
  if (!engine.isKnownModel('anthropic', request.model)) {
    modelNotFound(engine, exchange, request.model);
    return;
  }
  const [generation] = engine.generate(request, 1);
  const g = generation!;
  const id = `msg_01${randomId(createRandom(hashString(request.fingerprint, engine.settings.seed)), 22)}`;
  const usage = {
    input_tokens: promptTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: g.completionTokens,
    service_tier: 'standard',
  };
  const plan = (): ResponsePlan => {
    if (!stream) {
      const content: unknown[] =
        g.toolCalls.length > 0
          ? g.toolCalls.map((call) => ({
              type: 'tool_use',
              id: call.id,
              name: call.name,
              input: call.arguments,
            }))
          : [{ type: 'text', text: g.text }];
      const message = {
        id,
        type: 'message',
        role: 'assistant',
        model: request.model,
        content,
        stop_reason: stopReason(g),
        stop_sequence: g.stopSequence ?? null,
        usage,
      };
      return { kind: 'json', status: 200, body: JSON.stringify(message) };
    }
    const frames: StreamFrame[] = [
      sse('message_start', {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model: request.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 1 },
        },
      }),
    ];
    let first = true;
    const due = (): StreamFrame['due'] => {
      if (first) {
        first = false;
        return 'ttft';
      }
      return 'itl';
    };
    if (g.toolCalls.length > 0) {
      g.toolCalls.forEach((call, index) => {
        frames.push(
          sse('content_block_start', {
            type: 'content_block_start',
            index,
            content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
          }),
        );
        if (index === 0) frames.push(sse('ping', { type: 'ping' }));
        for (let at = 0; at < call.argumentsJson.length; at += 8) {
          frames.push(
            sse(
              'content_block_delta',
              {
                type: 'content_block_delta',
                index,
                delta: { type: 'input_json_delta', partial_json: call.argumentsJson.slice(at, at + 8) },
              },
              due(),
            ),
          );
        }
        frames.push(sse('content_block_stop', { type: 'content_block_stop', index }));
      });
    } else {
      frames.push(
        sse('content_block_start', {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'text', text: '' },
        }),
      );
      frames.push(sse('ping', { type: 'ping' }));
      for (const piece of g.pieces) {
        frames.push(
          sse(
            'content_block_delta',
            { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } },
            due(),
          ),
        );
      }
      frames.push(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
    }
    frames.push(
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason(g), stop_sequence: g.stopSequence ?? null },
        usage: { output_tokens: g.completionTokens },
      }),
    );
    frames.push(sse('message_stop', { type: 'message_stop' }));
    return {
      kind: 'stream',
      contentType: 'text/event-stream; charset=utf-8',
      frames,
      errorFrame: (error) => {
        const body = anthropicFormat.errorBody(error, exchange.entry.id) as Record<string, unknown>;
        return `event: error\ndata: ${JSON.stringify({ type: 'error', error: body['error'] })}\n\n`;
      },
    };
  };
  await engine.serveGeneration(exchange, anthropicFormat, promptTokens, [g], plan);
}

/** POST /v1/messages/count_tokens */
export async function handleCountTokens(engine: Engine, exchange: Exchange): Promise<void> {
  if (!authenticate(engine, exchange)) return;
  const body = await engine.readJson(exchange, anthropicFormat);
  if (!body.ok) return;
  let parsed: ParsedMessages;
  try {
    parsed = parseMessages(body.value, exchange.apiKey, true);
  } catch (error) {
    sendProblem(engine, exchange, error);
    return;
  }
  exchange.entry.model = parsed.request.model;
  if (!engine.isKnownModel('anthropic', parsed.request.model)) {
    modelNotFound(engine, exchange, parsed.request.model);
    return;
  }
  engine.sendJson(exchange, anthropicFormat, 200, JSON.stringify({ input_tokens: parsed.promptTokens }));
}

function displayName(id: string): string {
  return id
    .replace(/-latest$/, '')
    .split('-')
    .map((part) => (/^\d+$/.test(part) ? part : part[0]!.toUpperCase() + part.slice(1)))
    .join(' ')
    .replace(/(\d) (\d)/g, '$1.$2');
}

function modelObject(id: string) {
  return { type: 'model', id, display_name: displayName(id), created_at: '2025-09-29T00:00:00Z' };
}

/** GET /v1/models and /v1/models/{id} in Anthropic's shape. */
export function handleAnthropicModels(engine: Engine, exchange: Exchange, id: string | undefined): void {
  if (!authenticate(engine, exchange)) return;
  if (id === undefined) {
    const data = engine.knownModels('anthropic').map(modelObject);
    const body = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    engine.sendJson(exchange, anthropicFormat, 200, JSON.stringify(body));
    return;
  }
  exchange.entry.model = id;
  if (!engine.isKnownModel('anthropic', id)) {
    modelNotFound(engine, exchange, id);
    return;
  }
  engine.sendJson(exchange, anthropicFormat, 200, JSON.stringify(modelObject(id)));
}
