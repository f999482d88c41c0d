import { describe, expect, it } from 'vitest';
import { mapAnthropicErrorResponse, mapAnthropicStreamError } from './anthropic-errors';
import { ProviderError } from './errors';
import { mapGeminiErrorResponse, parseDurationMs } from './gemini-errors';
import { retryAfterMsFromHeaders } from './http-transport';
import { mapOpenAIErrorResponse, mapOpenAIStreamError } from './openai-errors';

const now = () => Date.parse('2026-11-23T10:00:00Z');
const openai = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  mapOpenAIErrorResponse('openai', now, { status, headers, bodyText: JSON.stringify(body) });
const anthropic = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  mapAnthropicErrorResponse('anthropic', now, { status, headers, bodyText: JSON.stringify(body) });
const gemini = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  mapGeminiErrorResponse('gemini', now, { status, headers, bodyText: JSON.stringify(body) });

const oaiBody = (type: string, code: string | null, message = 'm') => ({
  error: { message, type, param: null, code },
});

describe('OpenAI error mapping', () => {
  it.each([
    [400, oaiBody('invalid_request_error', null), 'bad_request', false],
    [400, oaiBody('invalid_request_error', 'context_length_exceeded'), 'context_length', false],
    [400, oaiBody('invalid_request_error', 'content_filter'), 'content_filter', false],
    [401, oaiBody('invalid_request_error', 'invalid_api_key'), 'auth', false],
    [403, oaiBody('permission_error', null), 'auth', false],
    [404, oaiBody('invalid_request_error', 'model_not_found'), 'not_found', false],
    [429, oaiBody('requests', 'rate_limit_exceeded'), 'rate_limit', true],
    [429, oaiBody('insufficient_quota', 'insufficient_quota'), 'rate_limit', false],
    [500, oaiBody('server_error', null), 'server', true],
    [503, oaiBody('server_error', null), 'overloaded', true],
    [504, {}, 'timeout', true],
  ])('%i %j → %s (retryable %s)', (status, body, kind, retryable) => {
    const error = openai(status, body);
    expect(ProviderError.isInstance(error)).toBe(true);
    expect({ kind: error.kind, retryable: error.retryable, status: error.status }).toEqual({
      kind,
      retryable,
      status,
    });
  });

  it('keeps the upstream message and type, and reads Retry-After', () => {
    const error = openai(429, oaiBody('tokens', 'rate_limit_exceeded', 'slow down'), { 'retry-after': '2' });
    expect(error.providerMessage).toBe('slow down');
    expect(error.providerType).toBe('rate_limit_exceeded');
    expect(error.retryAfterMs).toBe(2000);
    expect(error.code).toBe('LLM_EDGE_PROVIDER_ERROR');
  });

  it('reads compatible servers’ shapes (Ollama string error, FastAPI detail)', () => {
    expect(openai(404, { error: 'model "x" not found' }).providerMessage).toBe('model "x" not found');
    expect(openai(422, { detail: [{ loc: ['body', 'x'] }] }).kind).toBe('bad_request');
  });

  it('honours x-should-retry', () => {
    expect(openai(500, {}, { 'x-should-retry': 'false' }).retryable).toBe(false);
    expect(openai(400, {}, { 'x-should-retry': 'true' }).retryable).toBe(true);
  });

  it('maps an error inside a stream', () => {
    const error = mapOpenAIStreamError('openai', { error: { message: 'boom', type: 'server_error' } });
    expect({ kind: error.kind, message: error.providerMessage }).toEqual({ kind: 'server', message: 'boom' });
  });
});

describe('Anthropic error mapping', () => {
  const body = (type: string, extra: Record<string, unknown> = {}) => ({
    type: 'error',
    error: { type, message: 'm', ...extra },
    request_id: 'req_1',
  });
  it.each([
    [400, 'invalid_request_error', 'bad_request', false],
    [401, 'authentication_error', 'auth', false],
    [402, 'billing_error', 'auth', false],
    [403, 'permission_error', 'auth', false],
    [404, 'not_found_error', 'not_found', false],
    [413, 'request_too_large', 'bad_request', false],
    [429, 'rate_limit_error', 'rate_limit', true],
    [500, 'api_error', 'server', true],
    [504, 'timeout_error', 'timeout', true],
    [529, 'overloaded_error', 'overloaded', true],
  ])('%i %s → %s', (status, type, kind, retryable) => {
    const error = anthropic(status, body(type));
    expect({ kind: error.kind, retryable: error.retryable, providerType: error.providerType }).toEqual({
      kind,
      retryable,
      providerType: type,
    });
  });

  it('does not retry an enforced spend limit, and prefers retry-after-ms', () => {
    const error = anthropic(
      429,
      body('rate_limit_error', { details: { error_code: 'enforced_spend_limit_reached' } }),
      {
        'retry-after-ms': '1500',
        'retry-after': '9',
      },
    );
    expect(error.retryable).toBe(false);
    expect(error.retryAfterMs).toBe(1500);
  });

  it('maps a mid-stream overloaded error event', () => {
    const error = mapAnthropicStreamError('anthropic', {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect({ kind: error.kind, retryable: error.retryable }).toEqual({ kind: 'overloaded', retryable: true });
  });
});

describe('Gemini error mapping', () => {
  it('turns RESOURCE_EXHAUSTED + RetryInfo into rate_limit with retryAfterMs', () => {
    const error = gemini(429, {
      error: {
        code: 429,
        message: 'quota',
        status: 'RESOURCE_EXHAUSTED',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '36s' },
        ],
      },
    });
    expect({ kind: error.kind, retryAfterMs: error.retryAfterMs, providerType: error.providerType }).toEqual({
      kind: 'rate_limit',
      retryAfterMs: 36_000,
      providerType: 'RESOURCE_EXHAUSTED',
    });
  });

  it.each([
    [400, 'INVALID_ARGUMENT', 'bad_request'],
    [400, 'FAILED_PRECONDITION', 'bad_request'],
    [403, 'PERMISSION_DENIED', 'auth'],
    [404, 'NOT_FOUND', 'not_found'],
    [500, 'INTERNAL', 'server'],
    [503, 'UNAVAILABLE', 'overloaded'],
    [504, 'DEADLINE_EXCEEDED', 'timeout'],
  ])('%i %s → %s', (status, name, kind) => {
    expect(gemini(status, { error: { code: status, message: 'm', status: name } }).kind).toBe(kind);
  });

  it('recognises an invalid API key by ErrorInfo.reason, also inside an array', () => {
    const error = gemini(400, [
      {
        error: {
          code: 400,
          status: 'INVALID_ARGUMENT',
          message: 'API key not valid',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
        },
      },
    ]);
    expect(error.kind).toBe('auth');
  });

  it('parses protobuf durations', () => {
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('abc')).toBeUndefined();
  });
});

describe('retryAfterMsFromHeaders', () => {
  it('reads milliseconds, seconds and HTTP dates', () => {
    expect(retryAfterMsFromHeaders({ 'retry-after-ms': '250' }, now)).toBe(250);
    expect(retryAfterMsFromHeaders({ 'retry-after': '3' }, now)).toBe(3000);
    expect(retryAfterMsFromHeaders({ 'retry-after': 'Mon, 23 Nov 2026 10:00:05 GMT' }, now)).toBe(5000);
    expect(retryAfterMsFromHeaders({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMsFromHeaders({}, now)).toBeUndefined();
  });
});
