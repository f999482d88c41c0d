import { describe, expect, it } from 'vitest';
import { toErrorResponse } from './error-mapping';
import { formatSseError, formatSseEvent } from './sse';

describe('formatSseEvent', () => {
  it('frames OpenAI chunks as data lines without event names', () => {
    expect(formatSseEvent({ data: { id: 'c1', choices: [] } }, 'openai')).toBe(
      'data: {"id":"c1","choices":[]}\n\n',
    );
  });

  it('names Anthropic events after their type unless told otherwise', () => {
    expect(formatSseEvent({ data: { type: 'message_stop' } }, 'anthropic')).toBe(
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
    expect(formatSseEvent({ event: 'ping', data: { type: 'ping' } }, 'anthropic')).toBe(
      'event: ping\ndata: {"type":"ping"}\n\n',
    );
  });

  it('writes serialized strings as is and splits line breaks into data lines', () => {
    expect(formatSseEvent({ data: '{"a":1}' }, 'openai')).toBe('data: {"a":1}\n\n');
    expect(formatSseEvent({ data: 'line1\nline2\r\nline3' }, 'openai')).toBe(
      'data: line1\ndata: line2\ndata: line3\n\n',
    );
  });

  it('drops event names and ids that would inject fields', () => {
    expect(formatSseEvent({ event: 'x\ndata: injected', id: 'a\rb', data: {} }, 'anthropic')).toBe(
      'data: {}\n\n',
    );
    expect(formatSseEvent({ id: '7', data: {} }, 'openai')).toBe('id: 7\ndata: {}\n\n');
  });
});

describe('formatSseError', () => {
  it('writes the dialect error event', () => {
    const response = toErrorResponse(
      { status: 503, message: 'Overloaded', expose: true },
      { dialect: 'anthropic' },
    );
    expect(formatSseError(response, 'anthropic')).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    );
    const openai = toErrorResponse({ status: 502, code: 'upstream_error' }, { dialect: 'openai' });
    expect(formatSseError(openai, 'openai')).toBe(
      'data: {"error":{"message":"The upstream provider failed.","type":"server_error","param":null,"code":"upstream_error"}}\n\n',
    );
  });
});
