import type { Generation, GenerationRequest, OfferedTool, ToolChoice } from './content';
import { EMBEDDING_DIMENSIONS } from './default-profiles';
import { embed, encodeBase64 } from './embeddings';
import type { Engine, ResponsePlan, StreamFrame, WireError, WireFormat } from './engine';
import type { Exchange } from './exchange';
import { createRandom, hashString, randomId } from './random';
import { goDuration, type RateLimitState } from './rate-limit';
import { countTokens } from './tokens';
import { BodyProblemSignal, Fields, requireObject, stringList } from './validate';

const MODEL_CREATED = 1_715_367_049;

function defaultType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** OpenAI's wire conventions: `{error:{message,type,param,code}}`, `x-ratelimit-*` headers. */
export const openAIFormat: WireFormat = {
  provider: 'openai',
  errorBody(error: WireError) {
    const type =
      error.type ?? (error.status === 429 ? (error.limit ?? 'requests') : defaultType(error.status));
    const code = error.code !== undefined ? error.code : error.status === 429 ? 'rate_limit_exceeded' : null;
    return { error: { message: error.message, type, param: error.param ?? null, code } };
  },
  baseHeaders(requestId: string) {
    return {
      'x-request-id': `req_${requestId.replace('sim-', '')}`,
      'openai-version': '2020-10-01',
      'openai-organization': 'llm-edge-sim',
    };
  },
  retryAfterHeader: true,
  rateLimitHeaders(state: RateLimitState) {
    const headers: Record<string, string> = {};
    if (state.limitRequests !== undefined) {
      headers['x-ratelimit-limit-requests'] = String(state.limitRequests);
      headers['x-ratelimit-remaining-requests'] = String(state.remainingRequests ?? 0);
      headers['x-ratelimit-reset-requests'] = goDuration(state.resetRequestsMs ?? 0);
    }
    if (state.limitTokens !== undefined) {
      headers['x-ratelimit-limit-tokens'] = String(state.limitTokens);
      headers['x-ratelimit-remaining-tokens'] = String(state.remainingTokens ?? 0);
      headers['x-ratelimit-reset-tokens'] = goDuration(state.resetTokensMs ?? 0);
    }
    return headers;
  },
};

/**
 * Authorization: Bearer <key> (Azure: the `api-key` header, or a Bearer token); sends the 401 itself and
 * returns false when it is missing or refused. Azure also requires the `api-version` query parameter.
 */
export function authenticateOpenAI(engine: Engine, exchange: Exchange, azure = false): boolean {
  const header = exchange.req.headers.authorization;
  let key = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  if (azure) {
    const apiKey = exchange.req.headers['api-key'];
    if (typeof apiKey === 'string' && apiKey.length > 0) key = apiKey;
    if (key === undefined || key.length === 0 || !engine.keyAccepted(key)) {
      engine.sendError(exchange, openAIFormat, {
        status: 401,
        type: 'invalid_request_error',
        code: '401',
        message:
          'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      });
      return false;
    }
    exchange.apiKey = key;
    if (!new URLSearchParams(exchange.query).get('api-version')) {
      engine.sendError(exchange, openAIFormat, {
        status: 400,
        message: 'Missing required query parameter: api-version.',
        param: 'api-version',
        code: 'BadRequest',
      });
      return false;
    }
    return true;
  }
  if (key === undefined || key.length === 0) {
    engine.sendError(exchange, openAIFormat, {
      status: 401,
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      code: null,
    });
    return false;
  }
  if (!engine.keyAccepted(key)) {
    engine.sendError(exchange, openAIFormat, {
      status: 401,
      message: `Incorrect API key provided: ${key.slice(0, 3)}***${key.slice(-4)}.`,
      code: 'invalid_api_key',
    });
    return false;
  }
  exchange.apiKey = key;
  return true;
}

function sendProblem(engine: Engine, exchange: Exchange, error: unknown): void {
  if (error instanceof BodyProblemSignal) {
    engine.sendError(exchange, openAIFormat, {
      status: 400,
      message: error.problem.message,
      param: error.problem.param,
      code: error.problem.code,
    });
    return;
  }
  throw error;
}

function modelNotFound(engine: Engine, exchange: Exchange, model: string, azure = false): void {
  if (azure) {
    engine.sendError(exchange, openAIFormat, {
      status: 404,
      message:
        'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      code: 'DeploymentNotFound',
    });
    return;
  }
  engine.sendError(exchange, openAIFormat, {
    status: 404,
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    code: 'model_not_found',
  });
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text') {
      const value = (part as { text?: unknown }).text;
      if (typeof value === 'string') text += text ? `\n${value}` : value;
    }
  }
  return text;
}

interface ParsedChat {
  request: GenerationRequest;
  stream: boolean;
  includeUsage: boolean;
  n: number;
  promptTokens: number;
}

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

function parseChat(body: unknown, apiKey: string): ParsedChat {
  const fields = new Fields(requireObject(body, 'body'));
  const model = fields.string('model', true);
  const messages = fields.array('messages', true);
  if (messages.length === 0) {
    throw fields.invalid(
      'messages',
      "Invalid 'messages': empty array. Expected an array with minimum length 1.",
    );
  }
  let promptText = '';
  let lastUserText = '';
  let lastRole = '';
  for (let i = 0; i < messages.length; i++) {
    const message = Fields.at(messages, i, 'messages');
    const role = message.oneOf('role', ROLES);
    if (role === undefined)
      throw new BodyProblemSignal({
        param: `messages.${i}.role`,
        code: 'missing_required_parameter',
        message: `Missing required parameter: 'messages.${i}.role'.`,
      });
    const content = message.value['content'];
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      throw new BodyProblemSignal({
        param: `messages.${i}.content`,
        code: 'invalid_type',
        message: `Invalid type for 'messages.${i}.content': expected one of a string or array of objects, but got an object instead.`,
      });
    }
    const text = contentText(content);
    promptText += `${role}\n${text}\n`;
    const toolCalls = message.value['tool_calls'];
    if (Array.isArray(toolCalls)) promptText += JSON.stringify(toolCalls);
    if (role === 'user') lastUserText = text;
    lastRole = role;
  }
  const stream = fields.boolean('stream') ?? false;
  const streamOptions = fields.object('stream_options');
  const includeUsage = streamOptions?.boolean('include_usage') ?? false;
  const n = fields.number('n', { min: 1, max: 128, integer: true }) ?? 1;
  fields.number('temperature', { min: 0, max: 2 });
  fields.number('top_p', { min: 0, max: 1 });
  const maxTokens =
    fields.number('max_completion_tokens', { min: 1, integer: true }) ??
    fields.number('max_tokens', { min: 1, integer: true });
  const stop = stringList(fields, 'stop');

  const tools: OfferedTool[] = [];
  const toolList = fields.array('tools') ?? [];
  for (let i = 0; i < toolList.length; i++) {
    const tool = Fields.at(toolList, i, 'tools');
    const type = tool.string('type', true);
    if (type !== 'function') continue;
    const fn = tool.object('function', true)!;
    tools.push({ name: fn.string('name', true), parameters: fn.value['parameters'] ?? { type: 'object' } });
  }
  let toolChoice: ToolChoice = 'auto';
  const rawChoice = fields.value['tool_choice'];
  if (typeof rawChoice === 'string') {
    toolChoice = fields.oneOf('tool_choice', ['none', 'auto', 'required'] as const) ?? 'auto';
  } else if (rawChoice !== undefined && rawChoice !== null) {
    const choice = fields.object('tool_choice')!;
    const fn = choice.object('function', true)!;
    toolChoice = { name: fn.string('name', true) };
  }
  if (
    toolChoice !== 'none' &&
    typeof toolChoice === 'object' &&
    !tools.some((t) => t.name === toolChoice.name)
  ) {
    throw fields.invalid(
      'tool_choice',
      `Invalid 'tool_choice': function '${toolChoice.name}' is not among the tools.`,
    );
  }
  let json: unknown;
  const format = fields.object('response_format');
  if (format) {
    const type = format.oneOf('type', ['text', 'json_object', 'json_schema'] as const);
    if (type === 'json_object') json = true;
    if (type === 'json_schema') {
      const spec = format.object('json_schema', true)!;
      spec.string('name', true);
      json = spec.value['schema'] ?? { type: 'object' };
    }
  }
  if (tools.length > 0) promptText += JSON.stringify(fields.value['tools']);
  const fingerprint = JSON.stringify([
    model,
    messages,
    fields.value['tools'],
    fields.value['tool_choice'],
    fields.value['response_format'],
    maxTokens,
    stop,
  ]);
  return {
    request: {
      provider: 'openai',
      model,
      apiKey,
      lastUserText,
      promptText,
      endsWithToolResult: lastRole === 'tool' || lastRole === 'function',
      maxTokens,
      tools,
      toolChoice,
      json,
      stop,
      fingerprint,
    },
    stream,
    includeUsage,
    n,
    promptTokens: countTokens(promptText) + 3 * messages.length + 3,
  };
}

function finishReason(g: Generation): string {
  return g.finish;
}

function usageObject(promptTokens: number, completionTokens: number) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function sseFrame(payload: unknown): StreamFrame['json'] & { text: string } {
  const json = JSON.stringify(payload);
  return { before: 'data: ', json, after: '\n\n', text: `data: ${json}\n\n` };
}

/** The deployment name of an Azure OpenAI request becomes its model when the body names none. */
function withDeployment(body: unknown, deployment: string | undefined): unknown {
  if (deployment === undefined || typeof body !== 'object' || body === null || Array.isArray(body))
    return body;
  return { ...body, model: deployment };
}

/** POST /v1/chat/completions, and Azure's /openai/deployments/{deployment}/chat/completions */
export async function handleChatCompletions(
  engine: Engine,
  exchange: Exchange,
  deployment?: string,
): Promise<void> {
  const azure = deployment !== undefined;
  if (!authenticateOpenAI(engine, exchange, azure)) return;
  const body = await engine.readJson(exchange, openAIFormat);
  if (!body.ok) return;
  let parsed: ParsedChat;
  try {
    parsed = parseChat(withDeployment(body.value, deployment), exchange.apiKey);
  } catch (error) {
    sendProblem(engine, exchange, error);
    return;
  }
  const { request, stream, includeUsage, n, promptTokens } = parsed;
  exchange.entry.model = request.model;
  exchange.entry.stream = stream;
  if (!engine.isKnownModel('openai', request.model)) {
    modelNotFound(engine, exchange, request.model, azure);
    return;
  }
  const generations = engine.generate(request, n);
  const completionTokens = generations.reduce((sum, g) => sum + g.completionTokens, 0);
  const idRandom = createRandom(hashString(request.fingerprint, engine.settings.seed));
  const id = `chatcmpl-${randomId(idRandom, 29)}`;
  const created = Math.floor(engine.settings.clock() / 1000);
  const model = request.model;

  const plan = (): ResponsePlan => {
    if (!stream) {
      const response = {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: generations.map((g, index) => ({
          index,
          message: {
            role: 'assistant',
            content: g.toolCalls.length > 0 ? null : g.text,
            refusal: null,
            annotations: [],
            ...(g.toolCalls.length > 0
              ? {
                  tool_calls: g.toolCalls.map((call) => ({
                    id: call.id,
                    type: 'function',
                    function: { name: call.name, arguments: call.argumentsJson },
                  })),
                }
              : {}),
          },
          logprobs: null,
          finish_reason: finishReason(g),
        })),
        usage: usageObject(promptTokens, completionTokens),
        service_tier: 'default',
        system_fingerprint: 'fp_llm_edge_sim',
      };
      return { kind: 'json', status: 200, body: JSON.stringify(response) };
    }
    const chunk = (choices: unknown[], usage?: unknown) => {
      const payload: Record<string, unknown> = {
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        service_tier: 'default',
        system_fingerprint: 'fp_llm_edge_sim',
        choices,
      };
      if (includeUsage) payload['usage'] = usage ?? null;
      return sseFrame(payload);
    };
    const perChoice: StreamFrame[][] = generations.map((g, index) => {
      const frames: StreamFrame[] = [];
      const delta = (d: Record<string, unknown>, finish: string | null = null) =>
        chunk([{ index, delta: d, logprobs: null, finish_reason: finish }]);
      if (g.toolCalls.length > 0) {
        g.toolCalls.forEach((call, callIndex) => {
          const head = delta({
            ...(callIndex === 0 ? { role: 'assistant', content: null } : {}),
            tool_calls: [
              {
                index: callIndex,
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: '' },
              },
            ],
          });
          frames.push({ text: head.text, due: frames.length === 0 ? 'ttft' : 'itl', json: head });
          for (let at = 0; at < call.argumentsJson.length; at += 8) {
            const part = delta({
              tool_calls: [
                { index: callIndex, function: { arguments: call.argumentsJson.slice(at, at + 8) } },
              ],
            });
            frames.push({ text: part.text, due: 'itl', json: part });
          }
        });
      } else {
        const head = delta({ role: 'assistant', content: '', refusal: null });
        frames.push({ text: head.text, due: 'ttft', json: head });
        for (const piece of g.pieces) {
          const part = delta({ content: piece });
          frames.push({ text: part.text, due: 'itl', json: part });
        }
      }
      const end = delta({}, finishReason(g));
      frames.push({ text: end.text, due: 'none', json: end });
      return frames;
    });
    const frames: StreamFrame[] = [];
    const longest = Math.max(...perChoice.map((f) => f.length));
    for (let i = 0; i < longest; i++) {
      for (const list of perChoice) {
        const frame = list[i];
        if (frame) frames.push(frames.length > 0 && frame.due === 'ttft' ? { ...frame, due: 'none' } : frame);
      }
    }
    if (includeUsage) {
      const last = chunk([], usageObject(promptTokens, completionTokens));
      frames.push({ text: last.text, due: 'none', json: last });
    }
    frames.push({ text: 'data: [DONE]\n\n', due: 'none' });
    return {
      kind: 'stream',
      contentType: 'text/event-stream; charset=utf-8',
      frames,
      // openai-node raises an APIError for a data: payload with an `error` key.
      errorFrame: (error) => `data: ${JSON.stringify(openAIFormat.errorBody(error, exchange.entry.id))}\n\n`,
    };
  };
  await engine.serveGeneration(exchange, openAIFormat, promptTokens, generations, plan);
}

/** POST /v1/embeddings, and Azure's /openai/deployments/{deployment}/embeddings */
export async function handleEmbeddings(
  engine: Engine,
  exchange: Exchange,
  deployment?: string,
): Promise<void> {
  const azure = deployment !== undefined;
  if (!authenticateOpenAI(engine, exchange, azure)) return;
  const body = await engine.readJson(exchange, openAIFormat);
  if (!body.ok) return;
  let inputs: string[];
  let model: string;
  let dimensions: number | undefined;
  let encoding: 'float' | 'base64';
  try {
    const fields = new Fields(requireObject(withDeployment(body.value, deployment), 'body'));
    model = fields.string('model', true);
    encoding = fields.oneOf('encoding_format', ['float', 'base64'] as const) ?? 'float';
    dimensions = fields.number('dimensions', { min: 1, integer: true });
    const raw = fields.value['input'];
    if (raw === undefined || raw === null) {
      throw new BodyProblemSignal({
        param: 'input',
        code: 'missing_required_parameter',
        message: "Missing required parameter: 'input'.",
      });
    }
    inputs = embeddingInputs(raw);
    if (inputs.length > 2048) throw fields.invalid('input', "Invalid 'input': maximum 2048 items.");
  } catch (error) {
    sendProblem(engine, exchange, error);
    return;
  }
  exchange.entry.model = model;
  if (!engine.isKnownModel('openai', model)) {
    modelNotFound(engine, exchange, model, azure);
    return;
  }
  const native = EMBEDDING_DIMENSIONS[model] ?? 1536;
  if (dimensions !== undefined && (model === 'text-embedding-ada-002' || dimensions > native)) {
    engine.sendError(exchange, openAIFormat, {
      status: 400,
      message:
        model === 'text-embedding-ada-002'
          ? 'This model does not support specifying dimensions.'
          : `Invalid 'dimensions': must be at most ${native} for ${model}.`,
      param: 'dimensions',
      code: 'invalid_value',
    });
    return;
  }
  const width = dimensions ?? native;
  let promptTokens = 0;
  const data = inputs.map((text, index) => {
    promptTokens += countTokens(text);
    const vector = embed(text, model, width, engine.settings.seed);
    return {
      object: 'embedding',
      index,
      embedding: encoding === 'base64' ? encodeBase64(vector) : Array.from(vector),
    };
  });
  const response = JSON.stringify({
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
  await engine.serveGeneration(exchange, openAIFormat, promptTokens, [], () => ({
    kind: 'json',
    status: 200,
    body: response,
  }));
}

function embeddingInputs(raw: unknown): string[] {
  if (typeof raw === 'string') {
    return [raw];
  }
  if (Array.isArray(raw)) {
    if (raw.length === 0) {
      throw new BodyProblemSignal({
        param: 'input',
        code: 'invalid_value',
        message: "Invalid 'input': empty array.",
      });
    }
    if (raw.every((item) => typeof item === 'number')) return [raw.join(' ')];
    return raw.map((item, i) => {
      if (typeof item === 'string') return item;
      if (Array.isArray(item) && item.every((t) => typeof t === 'number')) return item.join(' ');
      throw new BodyProblemSignal({
        param: `input.${i}`,
        code: 'invalid_type',
        message: `Invalid type for 'input.${i}': expected a string or an array of integers.`,
      });
    });
  }
  throw new BodyProblemSignal({
    param: 'input',
    code: 'invalid_type',
    message: "Invalid type for 'input': expected a string or an array.",
  });
}

function modelObject(id: string) {
  return {
    id,
    object: 'model',
    created: MODEL_CREATED,
    owned_by: id.startsWith('text-embedding') ? 'system' : 'openai',
  };
}

/** GET /v1/models and /v1/models/{id} */
export function handleOpenAIModels(engine: Engine, exchange: Exchange, id: string | undefined): void {
  if (!authenticateOpenAI(engine, exchange)) return;
  if (id === undefined) {
    const body = { object: 'list', data: engine.knownModels('openai').map(modelObject) };
    engine.sendJson(exchange, openAIFormat, 200, JSON.stringify(body));
    return;
  }
  exchange.entry.model = id;
  if (!engine.isKnownModel('openai', id)) {
    modelNotFound(engine, exchange, id);
    return;
  }
  engine.sendJson(exchange, openAIFormat, 200, JSON.stringify(modelObject(id)));
}

/** GET /openai/models?api-version=… (Azure OpenAI "Models - List"). */
export function handleAzureModels(engine: Engine, exchange: Exchange): void {
  if (!authenticateOpenAI(engine, exchange, true)) return;
  const data = engine.knownModels('openai').map((id) => {
    const embedding = id.startsWith('text-embedding');
    return {
      id,
      object: 'model',
      created_at: MODEL_CREATED,
      status: 'succeeded',
      capabilities: {
        fine_tune: false,
        inference: true,
        completion: false,
        chat_completion: !embedding,
        embeddings: embedding,
      },
      lifecycle_status: 'generally-available',
    };
  });
  engine.sendJson(exchange, openAIFormat, 200, JSON.stringify({ object: 'list', data }));
}
