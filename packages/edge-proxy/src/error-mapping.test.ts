import { describe, expect, it } from 'vitest';
import { toErrorResponse } from './error-mapping';
import { ProxyError } from './errors';

const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345';

function providerError(kind: string, fields: Record<string, unknown> = {}) {
  return Object.assign(new Error(`upstream failed (${kind}) with key ${KEY}`), {
    code: 'LLM_EDGE_PROVIDER_ERROR',
    provider: 'openai',
    kind,
    ...fields,
  });
}

describe('toErrorResponse', () => {
  it('answers in the OpenAI shape with all four keys', () => {
    const error = Object.assign(new Error('temperature must be <= 2'), {
      status: 400,
      code: 'LLM_EDGE_SECURITY_INVALID_REQUEST',
      param: 'temperature',
    });
    expect(toErrorResponse(error, { dialect: 'openai' })).toEqual({
      status: 400,
      code: 'LLM_EDGE_SECURITY_INVALID_REQUEST',
      headers: {},
      payload: {
        error: {
          message: 'temperature must be <= 2',
          type: 'invalid_request_error',
          param: 'temperature',
          code: 'LLM_EDGE_SECURITY_INVALID_REQUEST',
        },
      },
    });
  });

  it('keeps the OpenAI type of a spent budget (insufficient_quota), which a 429 alone would call a rate limit', () => {
    const spent = Object.assign(new Error('The spend budget of this key is exhausted.'), {
      status: 429,
      code: 'LLM_EDGE_BUDGET_EXCEEDED',
      type: 'insufficient_quota',
    });
    const rate = Object.assign(new Error('Too many requests'), {
      status: 429,
      code: 'LLM_EDGE_RATE_LIMITED',
    });
    const openai = (e: Error) =>
      (toErrorResponse(e, { dialect: 'openai' }).payload as { error: { type: string } }).error.type;
    expect(openai(spent)).toBe('insufficient_quota');
    expect(openai(rate)).toBe('rate_limit_error');
    const anthropic = toErrorResponse(spent, { dialect: 'anthropic' }).payload as { error: { type: string } };
    expect(anthropic.error.type).toBe('rate_limit_error');
  });

  it('answers in the Anthropic shape with the request id', () => {
    const error = Object.assign(new Error('Missing API key'), {
      statusCode: 401,
      code: 'LLM_EDGE_AUTH_MISSING',
    });
    expect(toErrorResponse(error, { dialect: 'anthropic', requestId: 'req_1' })).toEqual({
      status: 401,
      code: 'LLM_EDGE_AUTH_MISSING',
      headers: {},
      payload: {
        type: 'error',
        error: { type: 'authentication_error', message: 'Missing API key' },
        request_id: 'req_1',
      },
    });
  });

  it.each([
    [400, 'invalid_request_error', 'invalid_request_error'],
    [401, 'invalid_request_error', 'authentication_error'],
    [402, 'insufficient_quota', 'billing_error'],
    [403, 'invalid_request_error', 'permission_error'],
    [404, 'invalid_request_error', 'not_found_error'],
    [408, 'invalid_request_error', 'timeout_error'],
    [413, 'invalid_request_error', 'request_too_large'],
    [429, 'rate_limit_error', 'rate_limit_error'],
    [500, 'server_error', 'api_error'],
    [502, 'server_error', 'api_error'],
    [503, 'server_error', 'overloaded_error'],
    [504, 'server_error', 'timeout_error'],
  ])('maps status %i to OpenAI type %s and Anthropic type %s', (status, openai, anthropic) => {
    const error = { status, message: 'x' };
    const o = toErrorResponse(error, { dialect: 'openai' });
    const a = toErrorResponse(error, { dialect: 'anthropic' });
    expect(o.status).toBe(status);
    expect(o.payload).toMatchObject({ error: { type: openai } });
    expect(a.payload).toMatchObject({ error: { type: anthropic } });
  });

  it('hides the message of 5xx errors unless they expose it, and never includes a stack', () => {
    const internal = new Error(`database password=hunter2 at /srv/app.js:10 ${KEY}`);
    const response = toErrorResponse(internal, { dialect: 'openai' });
    expect(response.status).toBe(500);
    expect(response.code).toBe('LLM_EDGE_PROXY_INTERNAL');
    expect(response.payload).toEqual({
      error: {
        message: 'Internal server error.',
        type: 'server_error',
        param: null,
        code: 'LLM_EDGE_PROXY_INTERNAL',
      },
    });
    const text = JSON.stringify(response);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('app.js');

    const exposed = toErrorResponse(
      Object.assign(new Error('Shutting down'), { status: 503, expose: true }),
      {
        dialect: 'openai',
      },
    );
    expect(exposed.payload).toMatchObject({ error: { message: 'Shutting down' } });
    const hidden = toErrorResponse(Object.assign(new Error('bad token'), { status: 400, expose: false }), {
      dialect: 'openai',
    });
    expect(hidden.payload).toMatchObject({ error: { message: 'The request is invalid.' } });
  });

  it('scrubs key-shaped strings from exposed messages', () => {
    const error = Object.assign(new Error(`key ${KEY} is not allowed; Bearer abcdefghijklmnop`), {
      status: 403,
    });
    const text = JSON.stringify(toErrorResponse(error, { dialect: 'openai' }));
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('abcdefghijklmnop');
  });

  it('maps upstream kinds by kind, not by the upstream status', () => {
    const auth = toErrorResponse(providerError('auth', { status: 401 }), { dialect: 'openai' });
    expect(auth.status).toBe(502);
    expect(auth.code).toBe('upstream_auth_failed');
    expect(JSON.stringify(auth)).not.toContain(KEY);

    const cases: Array<[string, number, string]> = [
      ['bad_request', 400, 'invalid_request'],
      ['unsupported', 400, 'unsupported_parameter'],
      ['not_found', 404, 'model_not_found'],
      ['rate_limit', 429, 'rate_limit_exceeded'],
      ['overloaded', 503, 'upstream_overloaded'],
      ['server', 502, 'upstream_error'],
      ['timeout', 504, 'upstream_timeout'],
      ['network', 502, 'upstream_unreachable'],
      ['context_length', 400, 'context_length_exceeded'],
      ['content_filter', 400, 'content_filter'],
    ];
    for (const [kind, status, code] of cases) {
      const response = toErrorResponse(providerError(kind, { status: 500 }), { dialect: 'anthropic' });
      expect([kind, response.status, response.code]).toEqual([kind, status, code]);
      expect(JSON.stringify(response)).not.toContain(KEY);
    }
  });

  it('answers an unsupported field as invalid_request_error naming the field, in both shapes', () => {
    const refused = providerError('unsupported', {
      provider: 'anthropic',
      status: 400,
      param: 'seed',
      message: 'seed: is not supported by the Anthropic Messages API',
    });
    expect(toErrorResponse(refused, { dialect: 'openai' })).toEqual({
      status: 400,
      code: 'unsupported_parameter',
      headers: {},
      payload: {
        error: {
          message: 'seed: is not supported by the Anthropic Messages API',
          type: 'invalid_request_error',
          param: 'seed',
          code: 'unsupported_parameter',
        },
      },
    });
    expect(toErrorResponse(refused, { dialect: 'anthropic', requestId: 'req_1' })).toEqual({
      status: 400,
      code: 'unsupported_parameter',
      headers: {},
      payload: {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: 'seed: is not supported by the Anthropic Messages API',
        },
        request_id: 'req_1',
      },
    });

    // The router's answer when no target of an alias can take the field: its own code, status and words.
    const noTarget = Object.assign(new Error('No target of "default" supports seed.'), {
      code: 'LLM_EDGE_UNSUPPORTED_BY_TARGETS',
      status: 400,
      param: 'seed',
      publicMessage: 'No target of "default" supports seed.',
      cause: refused,
    });
    expect(toErrorResponse(noTarget, { dialect: 'openai' }).payload).toEqual({
      error: {
        message: 'No target of "default" supports seed.',
        type: 'invalid_request_error',
        param: 'seed',
        code: 'LLM_EDGE_UNSUPPORTED_BY_TARGETS',
      },
    });
    expect(toErrorResponse(noTarget, { dialect: 'anthropic' }).payload).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'No target of "default" supports seed.' },
    });
  });

  it('shows the upstream message for request-shaped upstream failures only', () => {
    const tooLong = providerError('context_length', {
      providerMessage: 'maximum context length is 128000 tokens',
    });
    expect(toErrorResponse(tooLong, { dialect: 'openai' }).payload).toMatchObject({
      error: { message: 'maximum context length is 128000 tokens', code: 'context_length_exceeded' },
    });
    const server = providerError('server', { providerMessage: 'internal details of the upstream' });
    expect(JSON.stringify(toErrorResponse(server, { dialect: 'openai' }))).not.toContain('internal details');
  });

  it('turns retryAfterMs into retry-after headers and copies only rate-limit headers', () => {
    const error = Object.assign(new Error('Too many requests'), {
      status: 429,
      code: 'LLM_EDGE_RATE_LIMITED',
      retryAfterMs: 1500,
      headers: {
        'X-RateLimit-Remaining-Requests': 0,
        'x-ratelimit-reset-requests': '2s',
        'set-cookie': 'session=1',
        authorization: 'Bearer x',
        'x-ratelimit-limit-requests': '60\r\nx-injected: 1',
      },
    });
    expect(toErrorResponse(error, { dialect: 'openai' }).headers).toEqual({
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '2s',
      'retry-after': '2',
      'retry-after-ms': '1500',
    });
    const upstream = providerError('rate_limit', {
      retryAfterMs: 200,
      headers: { 'x-ratelimit-limit-requests': '10000' },
    });
    expect(toErrorResponse(upstream, { dialect: 'openai' }).headers).toEqual({
      'retry-after': '1',
      'retry-after-ms': '200',
    });
  });

  it('walks the cause chain of wrappers without a status, keeping the wrapper code', () => {
    const last = providerError('overloaded');
    const wrapper = Object.assign(new Error('all targets failed'), {
      code: 'LLM_EDGE_ALL_TARGETS_FAILED',
      cause: last,
    });
    const response = toErrorResponse(wrapper, { dialect: 'anthropic' });
    expect(response.status).toBe(503);
    expect(response.code).toBe('LLM_EDGE_ALL_TARGETS_FAILED');
    expect(response.payload).toMatchObject({ error: { type: 'overloaded_error' } });
  });

  it('knows status-less codes of sibling packages', () => {
    const noRoute = Object.assign(new Error('No target serves model "nope"'), { code: 'LLM_EDGE_NO_ROUTE' });
    expect(toErrorResponse(noRoute, { dialect: 'openai' })).toMatchObject({
      status: 404,
      payload: { error: { message: 'No target serves model "nope"', code: 'LLM_EDGE_NO_ROUTE' } },
    });
    const timeout = new DOMException('The operation timed out.', 'TimeoutError');
    expect(toErrorResponse(timeout, { dialect: 'openai' }).status).toBe(504);
  });

  it('takes the param from validation issues', () => {
    const error = Object.assign(new Error('Expected number'), {
      status: 400,
      issues: [{ path: ['messages', 0, 'content'], message: 'Expected string' }],
    });
    expect(toErrorResponse(error, { dialect: 'openai' }).payload).toMatchObject({
      error: { param: 'messages.0.content' },
    });
  });

  it('renames Fastify parser errors to proxy codes', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    expect(toErrorResponse(tooLarge, { dialect: 'anthropic' })).toMatchObject({
      status: 413,
      code: 'LLM_EDGE_PROXY_BODY_TOO_LARGE',
      payload: { error: { type: 'request_too_large', message: 'The request body is too large.' } },
    });
  });

  it('applies a custom mapper first and survives one that throws', () => {
    const mapError = (error: unknown) =>
      (error as { code?: string }).code === 'BUDGET'
        ? { status: 402, code: 'LLM_EDGE_BUDGET_EXHAUSTED', message: 'Budget spent' }
        : undefined;
    expect(toErrorResponse({ code: 'BUDGET' }, { dialect: 'openai', mapError })).toMatchObject({
      status: 402,
      payload: { error: { type: 'insufficient_quota', message: 'Budget spent' } },
    });
    const throwing = () => {
      throw new Error('mapper bug');
    };
    expect(toErrorResponse({ status: 418 }, { dialect: 'openai', mapError: throwing }).status).toBe(418);
  });

  it('maps proxy errors with their own status', () => {
    expect(
      toErrorResponse(new ProxyError('LLM_EDGE_PROXY_IDLE_TIMEOUT', 'No progress', { expose: true }), {
        dialect: 'openai',
      }),
    ).toMatchObject({
      status: 504,
      code: 'LLM_EDGE_PROXY_IDLE_TIMEOUT',
      payload: { error: { message: 'No progress' } },
    });
    expect(ProxyError.isInstance(new ProxyError('LLM_EDGE_PROXY_NOT_FOUND', 'x'))).toBe(true);
    expect(ProxyError.isInstance(new Error('x'))).toBe(false);
  });

  it('treats non-error values as internal errors', () => {
    for (const value of [undefined, null, 'boom', 42, { status: 200 }, { status: 'teapot' }]) {
      expect(toErrorResponse(value, { dialect: 'openai' }).status).toBe(500);
    }
  });
});
