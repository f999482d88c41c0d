import { InvalidCacheOptionError } from './errors';

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return typeof value;
}

export function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidCacheOptionError(field, `expected a positive integer, got ${describeValue(value)}`);
  }
  return value;
}

export function optionalPositiveInteger(field: string, value: unknown): number | undefined {
  return value === undefined ? undefined : positiveInteger(field, value);
}

export function nonNegativeInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidCacheOptionError(field, `expected an integer >= 0, got ${describeValue(value)}`);
  }
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectOption(field: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isRecord(value)) {
    throw new InvalidCacheOptionError(field, `expected an object, got ${describeValue(value)}`);
  }
  return value;
}
