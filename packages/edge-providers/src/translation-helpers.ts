import { chatRequestSchema } from './chat-schemas';
import { ProviderError, unsupportedField } from './errors';
import { isRecord } from './http-transport';

/** Top-level fields the unified schema names (everything else is a passthrough extension). */
export const KNOWN_REQUEST_FIELDS: ReadonlySet<string> = new Set(Object.keys(chatRequestSchema.shape));

/** Splits a `data:<media type>;base64,<data>` URL; undefined for anything else. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([^;,]+)(?:;[^;,=]+=[^;,]+)*;base64,(.*)$/is.exec(url);
  if (!match) return undefined;
  return { mediaType: match[1]!.toLowerCase(), data: match[2]! };
}

/** Parses tool-call arguments (a JSON text) into the object providers want; `''` counts as `{}`. */
export function parseToolArguments(provider: string, text: string, path: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // OpenAI-family upstreams take the arguments as an opaque string; only translations need JSON.
    throw unsupportedField(provider, path, 'must be valid JSON to be translated', error);
  }
  if (!isRecord(value)) throw unsupportedField(provider, path, 'must be a JSON object');
  return value;
}

/** The texts of a string-or-text-parts content. */
export function textOf(content: string | ReadonlyArray<{ type: 'text'; text: string }>): string[] {
  return typeof content === 'string' ? [content] : content.map((part) => part.text);
}

/** Runs a translation for its local checks only: the ProviderError it raises, or undefined. */
export function localRejection(translate: () => unknown): ProviderError | undefined {
  try {
    translate();
    return undefined;
  } catch (error) {
    if (ProviderError.isInstance(error)) return error;
    throw error;
  }
}
