/** One problem in a request body, reported in the provider's error shape. */
export interface BodyProblem {
  /** Dotted path of the bad field (OpenAI's `param`). */
  param: string;
  message: string;
  /** OpenAI-style error code: `missing_required_parameter`, `invalid_type`, `invalid_value`. */
  code: 'missing_required_parameter' | 'invalid_type' | 'invalid_value';
}

/** Thrown inside validators and turned into a 400 by the surface. */
export class BodyProblemSignal {
  constructor(readonly problem: BodyProblem) {}
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** A JSON object or a signalled problem. */
export function requireObject(value: unknown, param: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BodyProblemSignal({
      param,
      code: 'invalid_type',
      message: `Invalid type for '${param}': expected an object, but got ${describe(value)} instead.`,
    });
  }
  return value as Record<string, unknown>;
}

function missing(param: string): BodyProblemSignal {
  return new BodyProblemSignal({
    param,
    code: 'missing_required_parameter',
    message: `Missing required parameter: '${param}'.`,
  });
}

function wrongType(param: string, expected: string, value: unknown): BodyProblemSignal {
  return new BodyProblemSignal({
    param,
    code: 'invalid_type',
    message: `Invalid type for '${param}': expected ${expected}, but got ${describe(value)} instead.`,
  });
}

/** Field readers over one JSON object, naming fields by their path. */
export class Fields {
  constructor(
    readonly value: Record<string, unknown>,
    readonly prefix = '',
  ) {}

  private name(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  string(key: string, required: true): string;
  string(key: string, required?: false): string | undefined;
  string(key: string, required = false): string | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (required) throw missing(this.name(key));
      return undefined;
    }
    if (typeof v !== 'string') throw wrongType(this.name(key), 'a string', v);
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw wrongType(this.name(key), 'a boolean', v);
    return v;
  }

  number(key: string, range: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw wrongType(this.name(key), range.integer ? 'an integer' : 'a number', v);
    }
    if (range.integer && !Number.isInteger(v)) throw wrongType(this.name(key), 'an integer', v);
    if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) {
      const bounds =
        range.max === undefined
          ? `>= ${range.min}`
          : range.min === undefined
            ? `<= ${range.max}`
            : `between ${range.min} and ${range.max}`;
      throw new BodyProblemSignal({
        param: this.name(key),
        code: 'invalid_value',
        message: `Invalid '${this.name(key)}': ${v} must be ${bounds}.`,
      });
    }
    return v;
  }

  array(key: string, required: true): unknown[];
  array(key: string, required?: false): unknown[] | undefined;
  array(key: string, required = false): unknown[] | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (required) throw missing(this.name(key));
      return undefined;
    }
    if (!Array.isArray(v)) throw wrongType(this.name(key), 'an array', v);
    return v;
  }

  object(key: string, required = false): Fields | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (required) throw missing(this.name(key));
      return undefined;
    }
    return new Fields(requireObject(v, this.name(key)), this.name(key));
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) {
      throw new BodyProblemSignal({
        param: this.name(key),
        code: 'invalid_value',
        message: `Invalid value for '${this.name(key)}': expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, but got '${v}'.`,
      });
    }
    return v as T;
  }

  /** A nested element as Fields, e.g. `messages.0`. */
  static at(list: unknown[], index: number, listName: string): Fields {
    return new Fields(requireObject(list[index], `${listName}.${index}`), `${listName}.${index}`);
  }

  invalid(key: string, message: string): BodyProblemSignal {
    return new BodyProblemSignal({ param: this.name(key), code: 'invalid_value', message });
  }
}

/** A string or string[] field (stop sequences) as an array. */
export function stringList(fields: Fields, key: string): string[] {
  const v = fields.value[key];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  const list = fields.array(key) ?? [];
  for (const [i, item] of list.entries()) {
    if (typeof item !== 'string') throw wrongType(`${key}.${i}`, 'a string', item);
  }
  return list as string[];
}
