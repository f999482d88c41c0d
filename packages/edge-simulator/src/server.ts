import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleAnthropicModels, handleCountTokens, handleMessages } from './anthropic';
import { handleControl } from './control';
import type { Engine } from './engine';
import { geminiNotFound, isGeminiRequest, routeGemini } from './gemini';
import {
  handleAzureModels,
  handleChatCompletions,
  handleEmbeddings,
  handleOpenAIModels,
  openAIFormat,
} from './openai';

/**
 * The request handler: a switch on method and path rather than a router library, because this is the
 * hot path of gateway load tests (see the README's benchmark).
 */
export function createHandler(engine: Engine): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(engine, req, res).catch((error: unknown) => {
      engine.internalErrors++;
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { message: 'simulator internal error', type: 'server_error', param: null, code: null },
          }),
        );
      } else {
        res.destroy(error instanceof Error ? error : undefined);
      }
    });
  };
}

async function route(engine: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const method = req.method ?? 'GET';

  if (method === 'POST' && pathname === '/v1/chat/completions') {
    return handleChatCompletions(engine, engine.open(req, res, 'openai', pathname, query));
  }
  if (pathname.startsWith('/_sim/') || pathname === '/metrics') {
    if (await handleControl(engine, req, res, pathname, query)) return;
  }
  if (method === 'POST' && pathname === '/v1/messages') {
    return handleMessages(engine, engine.open(req, res, 'anthropic', pathname, query));
  }
  if (method === 'POST' && pathname === '/v1/messages/count_tokens') {
    return handleCountTokens(engine, engine.open(req, res, 'anthropic', pathname, query));
  }
  if (method === 'POST' && pathname === '/v1/embeddings') {
    return handleEmbeddings(engine, engine.open(req, res, 'openai', pathname, query));
  }
  if (isGeminiRequest(req, pathname, query) && (await routeGemini(engine, req, res, pathname, query))) return;
  if (method === 'GET' && (pathname === '/v1/models' || pathname.startsWith('/v1/models/'))) {
    const id =
      pathname === '/v1/models' ? undefined : decodeURIComponent(pathname.slice('/v1/models/'.length));
    // Both APIs serve /v1/models; Anthropic clients always send anthropic-version or x-api-key.
    if (req.headers['anthropic-version'] !== undefined || req.headers['x-api-key'] !== undefined) {
      return handleAnthropicModels(engine, engine.open(req, res, 'anthropic', pathname, query), id);
    }
    return handleOpenAIModels(engine, engine.open(req, res, 'openai', pathname, query), id);
  }
  if (method === 'POST' && pathname.startsWith('/openai/deployments/')) {
    const match = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(pathname);
    if (match) {
      const deployment = decodeURIComponent(match[1]!);
      const exchange = engine.open(req, res, 'openai', pathname, query);
      exchange.entry.model = deployment;
      return match[2] === 'embeddings'
        ? handleEmbeddings(engine, exchange, deployment)
        : handleChatCompletions(engine, exchange, deployment);
    }
  }
  if (method === 'GET' && pathname === '/openai/models') {
    return handleAzureModels(engine, engine.open(req, res, 'openai', pathname, query));
  }
  if (pathname.startsWith('/v1beta/')) {
    if (await routeGemini(engine, req, res, pathname, query)) return;
    const exchange = engine.open(req, res, 'gemini', pathname, query);
    req.resume();
    geminiNotFound(engine, exchange, method, pathname);
    return;
  }
  const exchange = engine.open(req, res, 'openai', pathname, query);
  req.resume();
  engine.sendError(exchange, openAIFormat, {
    status: 404,
    message: `Invalid URL (${method} ${pathname})`,
    code: 'unknown_url',
  });
}
