import { createRandom, hashString, normal } from './random';

/** A deterministic unit vector for `text` under `model` and `seed` (similar texts are not close). */
export function embed(text: string, model: string, dimensions: number, seed: number): Float32Array {
  const random = createRandom(hashString(`${model}\u0000${text}`, seed));
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const value = normal(random);
    vector[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) vector[i] = vector[i]! * scale;
  return vector;
}

/** Base64 of the little-endian float32 bytes, as OpenAI sends with `encoding_format: "base64"`. */
export function encodeBase64(vector: Float32Array): string {
  const buffer = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buffer.writeFloatLE(vector[i]!, i * 4);
  return buffer.toString('base64');
}
