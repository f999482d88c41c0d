import type { ServerResponse } from 'node:http';
import type { Engine } from './engine';
import { SimulatorError } from './errors';
import { readBody } from './exchange';
import { parseScenario, parseScenarioText } from './scenario';

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Serves /_sim/* and /metrics; returns false when the path is not a control route. */
export async function handleControl(
  engine: Engine,
  req: import('node:http').IncomingMessage,
  res: ServerResponse,
  pathname: string,
  query: string,
): Promise<boolean> {
  const method = req.method ?? 'GET';
  if (pathname === '/metrics' && method === 'GET') {
    const text = await engine.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': engine.metrics.registry.contentType });
    res.end(text);
    return true;
  }
  switch (`${method} ${pathname}`) {
    case 'GET /_sim/health':
      send(res, 200, { ok: true });
      return true;
    case 'GET /_sim/scenario':
      send(res, 200, engine.scenario);
      return true;
    case 'PUT /_sim/scenario':
    case 'POST /_sim/scenario': {
      const text = (await readBody(req, engine.settings.bodyLimitBytes)) ?? '';
      const type = req.headers['content-type'] ?? '';
      try {
        const scenario = type.includes('yaml')
          ? parseScenarioText(text, 'scenario.yaml')
          : parseScenario(parseJson(text), 'scenario');
        engine.setScenario(scenario);
        send(res, 200, { ok: true });
      } catch (error) {
        if (!SimulatorError.isInstance(error)) throw error;
        send(res, 400, { error: { code: error.code, message: error.message, issues: error.issues } });
      }
      return true;
    }
    case 'POST /_sim/reset':
      engine.reset();
      send(res, 200, { ok: true });
      return true;
    case 'GET /_sim/stats':
      send(res, 200, engine.stats());
      return true;
    case 'GET /_sim/requests': {
      const limit = Number(new URLSearchParams(query).get('limit') ?? 'NaN');
      const log = engine.requestLog();
      send(res, 200, { data: Number.isInteger(limit) && limit > 0 ? log.slice(-limit) : log });
      return true;
    }
    default:
      if (pathname.startsWith('/_sim/')) {
        send(res, 404, { error: { code: 'not_found', message: `no control route ${method} ${pathname}` } });
        return true;
      }
      return false;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SimulatorError('LLM_EDGE_SIM_INVALID_SCENARIO', 'scenario body is not valid JSON', {
      cause: error,
    });
  }
}
