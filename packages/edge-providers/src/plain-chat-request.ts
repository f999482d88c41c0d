import type { ChatRequest } from './chat-schemas';

/*
 * Most chat requests are plain: text messages and a few scalar options. Checking those by hand
 * costs a few microseconds where the zod schema, a large generic interpreter, costs ~40 µs on a
 * request path whose code is no longer in the CPU caches (the usual case between requests). This
 * check accepts only a subset of what `chatRequestSchema` accepts and builds the same value zod
 * would (fresh objects, no defaults or transforms exist in the schema); anything outside the
 * subset, valid or not, returns `undefined` and goes through zod, which decides it and words the
 * error.
 */

type Check = (value: unknown) => boolean;

const isFiniteIn =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const isIntFrom =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const isString: Check = (v) => typeof v === 'string';
const isBoolean: Check = (v) => typeof v === 'boolean';

/** Top-level scalar fields the plain path accepts, with zod's rule for each (null excluded). */
const SCALAR_FIELDS: Readonly<Record<string, Check>> = {
  stream: isBoolean,
  temperature: isFiniteIn(0, 2),
  top_p: isFiniteIn(0, 1),
  presence_penalty: isFiniteIn(-2, 2),
  frequency_penalty: isFiniteIn(-2, 2),
  max_tokens: isIntFrom(1),
  max_completion_tokens: isIntFrom(1),
  n: isIntFrom(1, 128),
  seed: isIntFrom(Number.MIN_SAFE_INTEGER),
  user: isString,
  parallel_tool_calls: isBoolean,
  store: isBoolean,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A copy of a text-only message, or `undefined` when it is anything else. */
function plainMessage(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  const role = value['role'];
  const out: Record<string, string> = {};
  for (const key of Object.keys(value)) {
    const field = value[key];
    if (typeof field !== 'string') return undefined;
    switch (key) {
      case 'role':
      case 'content':
        break;
      case 'name':
        if (role === 'tool') return undefined;
        break;
      case 'tool_call_id':
        if (role !== 'tool' || field.length === 0) return undefined;
        break;
      default:
        return undefined;
    }
    out[key] = field;
  }
  switch (role) {
    case 'system':
    case 'developer':
    case 'user':
      return out['content'] === undefined ? undefined : out;
    case 'assistant':
      return out;
    case 'tool':
      return out['content'] === undefined || out['tool_call_id'] === undefined ? undefined : out;
    default:
      return undefined;
  }
}

/**
 * The request as `chatRequestSchema` would return it, when it is plain (text messages, the
 * scalar options above, `stream_options`); otherwise `undefined` (decide with the schema).
 */
export function plainChatRequest(body: unknown): ChatRequest | undefined {
  if (!isRecord(body)) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (key === 'model') {
      if (typeof value !== 'string' || value.length === 0) return undefined;
      out[key] = value;
    } else if (key === 'messages') {
      if (!Array.isArray(value) || value.length === 0) return undefined;
      const messages = new Array<Record<string, string>>(value.length);
      for (let i = 0; i < value.length; i += 1) {
        const message = plainMessage(value[i]);
        if (message === undefined) return undefined;
        messages[i] = message;
      }
      out[key] = messages;
    } else if (key === 'stream_options') {
      if (!isRecord(value)) return undefined;
      const options: Record<string, boolean> = {};
      for (const name of Object.keys(value)) {
        const flag = value[name];
        if ((name !== 'include_usage' && name !== 'include_obfuscation') || typeof flag !== 'boolean')
          return undefined;
        options[name] = flag;
      }
      out[key] = options;
    } else {
      const check = Object.hasOwn(SCALAR_FIELDS, key) ? SCALAR_FIELDS[key] : undefined;
      if (check === undefined || !check(value)) return undefined;
      out[key] = value;
    }
  }
  if (out['model'] === undefined || out['messages'] === undefined) return undefined;
  return out as unknown as ChatRequest;
}
