import { loremWords } from './lorem';
import { intBetween, type RandomSource } from './random';

type Schema = Record<string, unknown>;

const MAX_DEPTH = 8;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveRef(root: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isSchema(node)) return undefined;
    node = node[part];
  }
  return isSchema(node) ? node : undefined;
}

function schemaType(schema: Schema): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return type.toLowerCase();
  if (Array.isArray(type)) {
    const first = type.find((t) => typeof t === 'string' && t.toLowerCase() !== 'null') ?? type[0];
    return typeof first === 'string' ? first.toLowerCase() : undefined;
  }
  if (isSchema(schema['properties'])) return 'object';
  if (schema['items'] !== undefined) return 'array';
  return undefined;
}

function num(schema: Schema, key: string): number | undefined {
  const value = schema[key];
  if (typeof value === 'number') return value;
  // Gemini's OpenAPI-style schemas send int64 bounds as strings.
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

function sampleString(schema: Schema, random: RandomSource): string {
  switch (schema['format']) {
    case 'date-time':
      return new Date(Date.UTC(2024, 0, 1) + intBetween(random, 0, 365 * 86_400) * 1000).toISOString();
    case 'date':
      return new Date(Date.UTC(2024, 0, 1) + intBetween(random, 0, 365) * 86_400_000)
        .toISOString()
        .slice(0, 10);
    case 'time':
      return `${String(intBetween(random, 0, 23)).padStart(2, '0')}:${String(intBetween(random, 0, 59)).padStart(2, '0')}:00`;
    case 'email':
      return `${loremWords(random, 1).trim().toLowerCase()}@example.com`;
    case 'uri':
    case 'url':
      return `https://example.com/${loremWords(random, 1).trim().toLowerCase()}`;
    case 'uuid': {
      const hex = () => Math.floor(random() * 16).toString(16);
      const block = (n: number) => Array.from({ length: n }, hex).join('');
      return `${block(8)}-${block(4)}-4${block(3)}-a${block(3)}-${block(12)}`;
    }
    default:
      break;
  }
  const minLength = num(schema, 'minLength') ?? num(schema, 'min_length') ?? 0;
  const maxLength = num(schema, 'maxLength') ?? num(schema, 'max_length') ?? Math.max(minLength, 40);
  let text = loremWords(random, intBetween(random, 1, 4)).trim();
  while (text.length < minLength) text += ` ${loremWords(random, 1).trim()}`;
  if (text.length > maxLength) text = text.slice(0, maxLength);
  return text;
}

function sampleNumber(schema: Schema, random: RandomSource, integer: boolean): number {
  let min = num(schema, 'minimum') ?? num(schema, 'exclusiveMinimum') ?? 0;
  let max = num(schema, 'maximum') ?? num(schema, 'exclusiveMaximum') ?? Math.max(min, 0) + 100;
  if (num(schema, 'exclusiveMinimum') !== undefined && num(schema, 'minimum') === undefined) {
    min += integer ? 1 : 1e-6;
  }
  if (num(schema, 'exclusiveMaximum') !== undefined && num(schema, 'maximum') === undefined) {
    max -= integer ? 1 : 1e-6;
  }
  const multipleOf = num(schema, 'multipleOf');
  if (multipleOf !== undefined && multipleOf > 0) {
    const lo = Math.ceil(min / multipleOf);
    const hi = Math.floor(max / multipleOf);
    return (hi >= lo ? intBetween(random, lo, hi) : lo) * multipleOf;
  }
  if (integer) {
    const lo = Math.ceil(min);
    const hi = Math.floor(max);
    return hi >= lo ? intBetween(random, lo, hi) : lo;
  }
  return Math.round((min + random() * (max - min)) * 100) / 100;
}

function sample(schema: Schema, root: Schema, random: RandomSource, depth: number): unknown {
  if (typeof schema['$ref'] === 'string') {
    const target = resolveRef(root, schema['$ref']);
    return target ? sample(target, root, random, depth + 1) : {};
  }
  if ('const' in schema) return schema['const'];
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && enumValues.length > 0) {
    return enumValues[Math.floor(random() * enumValues.length)];
  }
  for (const key of ['anyOf', 'oneOf']) {
    const options = schema[key];
    if (Array.isArray(options)) {
      const usable = options.filter(isSchema).filter((option) => schemaType(option) !== 'null');
      const chosen = usable[0] ?? options.find(isSchema);
      if (chosen) return sample(chosen, root, random, depth + 1);
    }
  }
  const allOf = schema['allOf'];
  if (Array.isArray(allOf)) {
    const merged: Schema = { ...schema, allOf: undefined };
    for (const part of allOf) {
      if (!isSchema(part)) continue;
      const resolved = typeof part['$ref'] === 'string' ? (resolveRef(root, part['$ref']) ?? {}) : part;
      Object.assign(merged, resolved, {
        properties: { ...(merged['properties'] as Schema), ...(resolved['properties'] as Schema) },
        required: [
          ...((merged['required'] as unknown[]) ?? []),
          ...((resolved['required'] as unknown[]) ?? []),
        ],
      });
    }
    delete merged['allOf'];
    return sample(merged, root, random, depth + 1);
  }
  switch (schemaType(schema)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = isSchema(schema['properties']) ? schema['properties'] : {};
      const required = new Set(Array.isArray(schema['required']) ? schema['required'] : []);
      for (const [name, propertySchema] of Object.entries(properties)) {
        if (!isSchema(propertySchema)) continue;
        if (!required.has(name) && depth >= 3) continue;
        if (depth >= MAX_DEPTH && !required.has(name)) continue;
        out[name] = sample(propertySchema, root, random, depth + 1);
      }
      return out;
    }
    case 'array': {
      const items = isSchema(schema['items']) ? schema['items'] : {};
      const minItems = num(schema, 'minItems') ?? num(schema, 'min_items') ?? 0;
      const maxItems = num(schema, 'maxItems') ?? num(schema, 'max_items') ?? Math.max(minItems, 3);
      const count =
        depth >= MAX_DEPTH
          ? minItems
          : intBetween(
              random,
              Math.max(minItems, Math.min(1, maxItems)),
              Math.max(minItems, Math.min(maxItems, 3)),
            );
      return Array.from({ length: count }, () => sample(items, root, random, depth + 1));
    }
    case 'string':
      return sampleString(schema, random);
    case 'integer':
      return sampleNumber(schema, random, true);
    case 'number':
      return sampleNumber(schema, random, false);
    case 'boolean':
      return random() < 0.5;
    case 'null':
      return null;
    default:
      return depth === 0 ? {} : sampleString(schema, random);
  }
}

/**
 * Produces a value that satisfies a JSON Schema (the subset providers accept for structured output and
 * tool parameters: types, properties/required, items/minItems/maxItems, enum, const, anyOf/oneOf/allOf,
 * $ref to $defs/definitions, numeric bounds, string lengths and common formats).
 */
export function sampleJsonSchema(schema: unknown, random: RandomSource): unknown {
  if (!isSchema(schema)) return {};
  return sample(schema, schema, random, 0);
}
