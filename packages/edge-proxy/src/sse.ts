import type { ApiDialect, ErrorResponse } from './error-mapping';

/**
 * One Server-Sent Event produced by a handler.
 *
 * `data` objects are JSON-serialized; a string is written as is (use it for JSON serialized
 * earlier, e.g. a cached stream). For Anthropic routes `event` defaults to `data.type`, which is
 * how every Anthropic stream event names itself; OpenAI streams have no `event:` lines.
 */
export interface SseEvent {
  /** SSE event name (`event:` line). */
  event?: string;
  /** Payload: an object to serialize, or serialized JSON. */
  data: unknown;
  /** SSE `id:` line. */
  id?: string;
}

/** The OpenAI stream terminator. */
export const OPENAI_DONE_FRAME = 'data: [DONE]\n\n';

const LINE_BREAK = /\r\n|\r|\n/;
const FIELD_VALUE_UNSAFE = /[\r\n]/;

function dataLines(data: string): string {
  if (!LINE_BREAK.test(data)) return `data: ${data}\n`;
  // A line break inside data would end the field early; SSE joins consecutive data lines with \n.
  let out = '';
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out;
}

/**
 * Frames one event for the dialect: OpenAI `data: <json>\n\n`, Anthropic
 * `event: <type>\ndata: <json>\n\n`. Event names and ids with line breaks are dropped rather than
 * allowed to inject fields.
 */
export function formatSseEvent(event: SseEvent, dialect: ApiDialect): string {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data ?? null);
  let name = event.event;
  if (
    name === undefined &&
    dialect === 'anthropic' &&
    typeof event.data === 'object' &&
    event.data !== null
  ) {
    const type = (event.data as { type?: unknown }).type;
    if (typeof type === 'string') name = type;
  }
  let frame = '';
  if (name !== undefined && name.length > 0 && !FIELD_VALUE_UNSAFE.test(name)) frame += `event: ${name}\n`;
  if (event.id !== undefined && !FIELD_VALUE_UNSAFE.test(event.id)) frame += `id: ${event.id}\n`;
  return `${frame}${dataLines(data)}\n`;
}

/**
 * Frames a mid-stream failure as the dialect's final error event: OpenAI
 * `data: {"error":{...}}` (the openai SDK throws on it), Anthropic `event: error`.
 */
export function formatSseError(response: ErrorResponse, dialect: ApiDialect): string {
  if (dialect === 'anthropic') return `event: error\ndata: ${JSON.stringify(response.payload)}\n\n`;
  return `data: ${JSON.stringify(response.payload)}\n\n`;
}
