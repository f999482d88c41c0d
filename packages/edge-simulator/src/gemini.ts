import type { Generation, GenerationRequest, OfferedTool, ToolChoice } from './content';
import { EMBEDDING_DIMENSIONS } from './default-profiles';
import { embed } from './embeddings';
import type { Engine, ResponsePlan, StreamFrame, WireError, WireFormat } from './engine';
import type { Exchange } from './exchange';
import { createRandom, hashString, randomId } from './random';
import { countTokens } from './tokens';
import { BodyProblemSignal, Fields, requireObject, stringList } from './validate';

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function statusBody(error: WireError): Record<string, unknown> {
  const details: unknown[] = [];
  if (typeof error.code === 'string') {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: error.code,
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    });
  }
  if (error.status === 429) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: `generativelanguage.googleapis.com/generate_content_${error.limit === 'tokens' ? 'input_token_count' : 'requests'}`,
          quotaId:
            error.limit === 'tokens'
              ? 'GenerateContentInputTokensPerModelPerMinute'
              : 'GenerateRequestsPerMinutePerProjectPerModel',
        },
      ],
    });
  }
  if (error.retryAfterSeconds !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: `${Math.ceil(error.retryAfterSeconds)}s`,
    });
  }
  const body: Record<string, unknown> = {
    code: error.status,
    message: error.message,
    status:
      error.type ?? STATUS_NAMES[error.status] ?? (error.status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT'),
  };
  if (details.length > 0) body['details'] = details;
  return { error: body };
}

/** Gemini's wire conventions: google.rpc.Status errors, retry hints in the body, no rate-limit headers. */
export const geminiFormat: WireFormat = {
  provider: 'gemini',
  retryAfterHeader: false,
  errorBody: (error: WireError) => statusBody(error),
  baseHeaders: () => ({ vary: 'Origin, X-Origin, Referer', server: 'scaffolding on HTTPServer2' }),
  rateLimitHeaders: () => ({}),
};

/** The same, for `:streamGenerateContent` without `alt=sse`, where errors arrive inside the JSON array. */
const geminiArrayFormat: WireFormat = {
  ...geminiFormat,
  errorBody: (error: WireError) => [statusBody(error)],
};

/** True when a /v1 request is a Gemini one: it names a `:method` or carries a Gemini-style key. */
export function isGeminiRequest(
  req: import('node:http').IncomingMessage,
  pathname: string,
  query: string,
): boolean {
  if (!pathname.startsWith('/v1/models')) return false;
  if (req.headers['x-goog-api-key'] !== undefined) return true;
  if (/^key=|&key=/.test(query)) return true;
  return req.method === 'POST' && pathname.includes(':');
}

function apiKeyOf(exchange: Exchange): string | undefined {
  const header = exchange.req.headers['x-goog-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  if (exchange.query.includes('key=')) return new URLSearchParams(exchange.query).get('key') ?? undefined;
  return undefined;
}

/**
 * x-goog-api-key header or ?key=. As the real API does: no key → 403 PERMISSION_DENIED, a key that is
 * not accepted → 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID.
 */
function authenticate(engine: Engine, exchange: Exchange, format: WireFormat): boolean {
  const key = apiKeyOf(exchange);
  if (key === undefined || key.length === 0) {
    engine.sendError(exchange, format, {
      status: 403,
      message:
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    });
    return false;
  }
  if (!engine.keyAccepted(key)) {
    engine.sendError(exchange, format, {
      status: 400,
      message: 'API key not valid. Please pass a valid API key.',
      code: 'API_KEY_INVALID',
    });
    return false;
  }
  exchange.apiKey = key;
  return true;
}

function sendProblem(engine: Engine, exchange: Exchange, format: WireFormat, error: unknown): void {
  if (error instanceof BodyProblemSignal) {
    const { param, message, code } = error.problem;
    const text =
      code === 'missing_required_parameter'
        ? `* GenerateContentRequest.${param}: ${param.split('.').pop()} is not specified`
        : `Invalid value at '${param}': ${message}`;
    engine.sendError(exchange, format, { status: 400, message: text });
    return;
  }
  throw error;
}

function modelNotFound(
  engine: Engine,
  exchange: Exchange,
  format: WireFormat,
  model: string,
  method: string,
) {
  engine.sendError(exchange, format, {
    status: 404,
    message: `models/${model} is not found for API version ${exchange.pathname.split('/')[1]}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  });
}

function partsText(parts: unknown[], path: string): { text: string; functionResponse: boolean } {
  let text = '';
  let functionResponse = false;
  for (let i = 0; i < parts.length; i++) {
    const part = Fields.at(parts, i, path);
    const value = part.string('text');
    if (value !== undefined) text += (text ? '\n' : '') + value;
    if (part.value['functionCall'] !== undefined) text += JSON.stringify(part.value['functionCall']);
    if (part.value['functionResponse'] !== undefined) {
      functionResponse = true;
      text += JSON.stringify(part.value['functionResponse']);
    }
  }
  return { text, functionResponse };
}

interface ParsedGenerate {
  request: GenerationRequest;
  candidateCount: number;
  promptTokens: number;
}

function parseGenerate(body: unknown, model: string, apiKey: string, forCount: boolean): ParsedGenerate {
  let fields = new Fields(requireObject(body, 'body'));
  if (forCount && fields.value['generateContentRequest'] !== undefined) {
    fields = fields.object('generateContentRequest')!;
  }
  const contents = (forCount ? fields.array('contents') : fields.array('contents', true)) ?? [];
  let promptText = '';
  const system = fields.object('systemInstruction') ?? fields.object('system_instruction');
  if (system) promptText += `${partsText(system.array('parts') ?? [], 'systemInstruction.parts').text}\n`;
  let lastUserText = '';
  let endsWithToolResult = false;
  for (let i = 0; i < contents.length; i++) {
    const content = Fields.at(contents, i, 'contents');
    const role = content.string('role') ?? 'user';
    const { text, functionResponse } = partsText(content.array('parts', true), `contents.${i}.parts`);
    promptText += `${role}\n${text}\n`;
    if (role === 'user' && !functionResponse) lastUserText = text;
    endsWithToolResult = functionResponse;
  }
  const config = fields.object('generationConfig') ?? fields.object('generation_config');
  const maxTokens = config?.number('maxOutputTokens', { min: 1, integer: true });
  const candidateCount = config?.number('candidateCount', { min: 1, max: 8, integer: true }) ?? 1;
  config?.number('temperature', { min: 0, max: 2 });
  const stop = config ? stringList(config, 'stopSequences') : [];
  let json: unknown;
  if (config?.string('responseMimeType') === 'application/json') {
    json = config.value['responseJsonSchema'] ?? config.value['responseSchema'] ?? true;
  }
  const tools: OfferedTool[] = [];
  const toolList = fields.array('tools') ?? [];
  for (let i = 0; i < toolList.length; i++) {
    const tool = Fields.at(toolList, i, 'tools');
    const declarations = tool.array('functionDeclarations') ?? [];
    for (let j = 0; j < declarations.length; j++) {
      const declaration = Fields.at(declarations, j, `tools.${i}.functionDeclarations`);
      tools.push({
        name: declaration.string('name', true),
        parameters: declaration.value['parametersJsonSchema'] ??
          declaration.value['parameters'] ?? { type: 'object' },
      });
    }
  }
  let toolChoice: ToolChoice = 'auto';
  const calling = fields.object('toolConfig')?.object('functionCallingConfig');
  if (calling) {
    const mode = calling.oneOf('mode', ['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'] as const);
    if (mode === 'NONE') toolChoice = 'none';
    if (mode === 'ANY') {
      const allowed = calling.array('allowedFunctionNames') ?? [];
      toolChoice = typeof allowed[0] === 'string' ? { name: allowed[0] } : 'required';
    }
  }
  if (tools.length > 0) promptText += JSON.stringify(fields.value['tools']);
  const fingerprint = JSON.stringify([
    model,
    system?.value,
    contents,
    fields.value['tools'],
    fields.value['toolConfig'],
    maxTokens,
    stop,
    json,
  ]);
  return {
    request: {
      provider: 'gemini',
      model,
      apiKey,
      lastUserText,
      promptText,
      endsWithToolResult,
      maxTokens,
      tools,
      toolChoice,
      json,
      stop,
      fingerprint,
    },
    candidateCount,
    promptTokens: countTokens(promptText),
  };
}

function finishReason(g: Generation): string {
  if (g.finish === 'length') return 'MAX_TOKENS';
  if (g.finish === 'content_filter') return 'SAFETY';
  return 'STOP';
}

function usageMetadata(promptTokens: number, candidatesTokens: number) {
  return {
    promptTokenCount: promptTokens,
    candidatesTokenCount: candidatesTokens,
    totalTokenCount: promptTokens + candidatesTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
  };
}

function parts(g: Generation): unknown[] {
  if (g.toolCalls.length > 0) {
    return g.toolCalls.map((call) => ({ functionCall: { name: call.name, args: call.arguments } }));
  }
  return [{ text: g.text }];
}

/** POST /v1beta/models/{model}:generateContent and :streamGenerateContent */
async function handleGenerate(
  engine: Engine,
  exchange: Exchange,
  model: string,
  stream: boolean,
): Promise<void> {
  const sse = stream && new URLSearchParams(exchange.query).get('alt') === 'sse';
  const format = stream && !sse ? geminiArrayFormat : geminiFormat;
  exchange.entry.model = model;
  exchange.entry.stream = stream;
  if (!authenticate(engine, exchange, format)) return;
  const body = await engine.readJson(exchange, format);
  if (!body.ok) return;
  let parsed: ParsedGenerate;
  try {
    parsed = parseGenerate(body.value, model, exchange.apiKey, false);
  } catch (error) {
    sendProblem(engine, exchange, format, error);
    return;
  }
  if (!engine.isKnownModel('gemini', model) || EMBEDDING_DIMENSIONS[model] !== undefined) {
    modelNotFound(engine, exchange, format, model, 'generateContent');
    return;
  }
  const { request, candidateCount, promptTokens } = parsed;
  const generations = engine.generate(request, candidateCount);
  const completionTokens = generations.reduce((sum, g) => sum + g.completionTokens, 0);
  const responseId = randomId(createRandom(hashString(request.fingerprint, engine.settings.seed)), 22);
  const plan = (): ResponsePlan => {
    if (!stream) {
      const response = {
        candidates: generations.map((g, index) => ({
          content: { role: 'model', parts: parts(g) },
          finishReason: finishReason(g),
          index,
        })),
        usageMetadata: usageMetadata(promptTokens, completionTokens),
        modelVersion: model,
        responseId,
      };
      return { kind: 'json', status: 200, body: JSON.stringify(response) };
    }
    const frames: StreamFrame[] = [];
    const emit = (payload: unknown, due: StreamFrame['due']) => {
      const json = JSON.stringify(payload);
      const before = sse ? 'data: ' : frames.length === 0 ? '[' : ',\r\n';
      const after = sse ? '\r\n\r\n' : '';
      frames.push({ text: before + json + after, due, json: { before, json, after } });
    };
    let produced = 0;
    generations.forEach((g, index) => {
      const chunks: { parts: unknown[]; tokens: number }[] =
        g.toolCalls.length > 0 || g.pieces.length === 0
          ? [{ parts: parts(g), tokens: g.completionTokens }]
          : g.pieces.map((piece) => ({ parts: [{ text: piece }], tokens: countTokens(piece) }));
      chunks.forEach((chunk, at) => {
        produced += chunk.tokens;
        const last = at === chunks.length - 1;
        const final = last && index === generations.length - 1;
        const candidate: Record<string, unknown> = { content: { role: 'model', parts: chunk.parts }, index };
        if (last) candidate['finishReason'] = finishReason(g);
        emit(
          {
            candidates: [candidate],
            usageMetadata: final
              ? usageMetadata(promptTokens, completionTokens)
              : { promptTokenCount: promptTokens, totalTokenCount: promptTokens + produced },
            modelVersion: model,
            responseId,
          },
          frames.length === 0 ? 'ttft' : 'itl',
        );
      });
    });
    if (!sse) frames.push({ text: ']', due: 'none' });
    return {
      kind: 'stream',
      contentType: sse ? 'text/event-stream' : 'application/json; charset=UTF-8',
      frames,
      errorFrame: (error, first) => {
        const json = JSON.stringify(statusBody(error));
        if (sse) return `data: ${json}\r\n\r\n`;
        return first ? `[${json}]` : `,\r\n${json}]`;
      },
    };
  };
  await engine.serveGeneration(exchange, format, promptTokens, generations, plan);
}

/** POST :countTokens */
async function handleCountTokens(engine: Engine, exchange: Exchange, model: string): Promise<void> {
  exchange.entry.model = model;
  if (!authenticate(engine, exchange, geminiFormat)) return;
  const body = await engine.readJson(exchange, geminiFormat);
  if (!body.ok) return;
  let parsed: ParsedGenerate;
  try {
    parsed = parseGenerate(body.value, model, exchange.apiKey, true);
  } catch (error) {
    sendProblem(engine, exchange, geminiFormat, error);
    return;
  }
  if (!engine.isKnownModel('gemini', model)) {
    modelNotFound(engine, exchange, geminiFormat, model, 'countTokens');
    return;
  }
  const total = parsed.promptTokens;
  engine.sendJson(
    exchange,
    geminiFormat,
    200,
    JSON.stringify({ totalTokens: total, promptTokensDetails: [{ modality: 'TEXT', tokenCount: total }] }),
  );
}

function embeddingFor(engine: Engine, model: string, request: Fields): { values: number[]; tokens: number } {
  const content = request.object('content', true)!;
  const { text } = partsText(content.array('parts', true), `${content.prefix}.parts`);
  const native = EMBEDDING_DIMENSIONS[model] ?? 768;
  const width = request.number('outputDimensionality', { min: 1, max: native, integer: true }) ?? native;
  return { values: Array.from(embed(text, model, width, engine.settings.seed)), tokens: countTokens(text) };
}

/** POST :embedContent and :batchEmbedContents */
async function handleEmbed(engine: Engine, exchange: Exchange, model: string, batch: boolean): Promise<void> {
  exchange.entry.model = model;
  if (!authenticate(engine, exchange, geminiFormat)) return;
  const body = await engine.readJson(exchange, geminiFormat);
  if (!body.ok) return;
  let response: string;
  let tokens = 0;
  try {
    const fields = new Fields(requireObject(body.value, 'body'));
    if (!engine.isKnownModel('gemini', model) || EMBEDDING_DIMENSIONS[model] === undefined) {
      modelNotFound(engine, exchange, geminiFormat, model, batch ? 'batchEmbedContents' : 'embedContent');
      return;
    }
    if (batch) {
      const requests = fields.array('requests', true);
      const embeddings = requests.map((_, i) => {
        const one = embeddingFor(engine, model, Fields.at(requests, i, 'requests'));
        tokens += one.tokens;
        return { values: one.values };
      });
      response = JSON.stringify({ embeddings });
    } else {
      const one = embeddingFor(engine, model, fields);
      tokens = one.tokens;
      response = JSON.stringify({ embedding: { values: one.values } });
    }
  } catch (error) {
    sendProblem(engine, exchange, geminiFormat, error);
    return;
  }
  await engine.serveGeneration(exchange, geminiFormat, tokens, [], () => ({
    kind: 'json',
    status: 200,
    body: response,
  }));
}

function modelObject(id: string) {
  const embedding = EMBEDDING_DIMENSIONS[id] !== undefined;
  return {
    name: `models/${id}`,
    version: '001',
    displayName: id
      .split('-')
      .map((p) => p[0]!.toUpperCase() + p.slice(1))
      .join(' '),
    description: `Simulated ${id}.`,
    inputTokenLimit: embedding ? 2048 : 1_048_576,
    outputTokenLimit: embedding ? 1 : 65_536,
    supportedGenerationMethods: embedding
      ? ['embedContent', 'batchEmbedContents', 'countTokens']
      : ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
  };
}

function handleModels(engine: Engine, exchange: Exchange, id: string | undefined): void {
  if (!authenticate(engine, exchange, geminiFormat)) return;
  if (id === undefined) {
    engine.sendJson(
      exchange,
      geminiFormat,
      200,
      JSON.stringify({ models: engine.knownModels('gemini').map(modelObject) }),
    );
    return;
  }
  exchange.entry.model = id;
  if (!engine.isKnownModel('gemini', id)) {
    engine.sendError(exchange, geminiFormat, {
      status: 404,
      message: `models/${id} is not found for API version ${exchange.pathname.split('/')[1]}`,
    });
    return;
  }
  engine.sendJson(exchange, geminiFormat, 200, JSON.stringify(modelObject(id)));
}

/**
 * Routes /v1beta/models… and /v1/models… (the @google/genai SDK defaults to v1); returns false when the
 * path is not a Gemini route. The caller only sends /v1 paths here that carry a Gemini key or a `:method`.
 */
export async function routeGemini(
  engine: Engine,
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
  pathname: string,
  query: string,
): Promise<boolean> {
  const prefix = pathname.startsWith('/v1beta/models') ? '/v1beta/models' : '/v1/models';
  if (!pathname.startsWith(prefix)) return false;
  const method = req.method ?? 'GET';
  const rest = pathname.slice(prefix.length);
  if (method === 'GET' && (rest === '' || rest === '/')) {
    handleModels(engine, engine.open(req, res, 'gemini', pathname, query), undefined);
    return true;
  }
  if (!rest.startsWith('/')) return false;
  const target = decodeURIComponent(rest.slice(1));
  const colon = target.lastIndexOf(':');
  if (method === 'GET' && colon < 0) {
    handleModels(engine, engine.open(req, res, 'gemini', pathname, query), target);
    return true;
  }
  if (method !== 'POST' || colon < 0) return false;
  const model = target.slice(0, colon);
  const action = target.slice(colon + 1);
  switch (action) {
    case 'generateContent':
      await handleGenerate(engine, engine.open(req, res, 'gemini', pathname, query), model, false);
      return true;
    case 'streamGenerateContent':
      await handleGenerate(engine, engine.open(req, res, 'gemini', pathname, query), model, true);
      return true;
    case 'countTokens':
      await handleCountTokens(engine, engine.open(req, res, 'gemini', pathname, query), model);
      return true;
    case 'embedContent':
      await handleEmbed(engine, engine.open(req, res, 'gemini', pathname, query), model, false);
      return true;
    case 'batchEmbedContents':
      await handleEmbed(engine, engine.open(req, res, 'gemini', pathname, query), model, true);
      return true;
    default:
      return false;
  }
}

/** 404 for an unknown /v1beta path, in Gemini's shape. */
export function geminiNotFound(engine: Engine, exchange: Exchange, method: string, pathname: string): void {
  engine.sendError(exchange, geminiFormat, {
    status: 404,
    message: `Method not found: ${method} ${pathname}`,
  });
}
