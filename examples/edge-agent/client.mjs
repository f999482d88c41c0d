// A client of the gateway using the official openai SDK: only the base URL and the key change.
//
//   pnpm start                                   # prints the development key
//   LLM_EDGE_API_KEY=<that key> pnpm client
//
// LLM_EDGE_URL (default http://127.0.0.1:8080) and LLM_EDGE_MODEL (default gpt-4o-mini) select
// another gateway or model.
import OpenAI from 'openai';

const baseURL = `${process.env.LLM_EDGE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`}/v1`;
const apiKey = process.env.LLM_EDGE_API_KEY;
if (!apiKey) {
  console.error('Set LLM_EDGE_API_KEY to the key `pnpm start` printed (or a key from your config).');
  process.exit(1);
}
const model = process.env.LLM_EDGE_MODEL ?? 'gpt-4o-mini';
const client = new OpenAI({ baseURL, apiKey });

// 1. A plain completion; the raw response carries the gateway's headers.
const { data: completion, response } = await client.chat.completions
  .create({ model, messages: [{ role: 'user', content: 'Say hello in five words.' }] })
  .withResponse();
console.log(`[chat] ${completion.choices[0]?.message.content}`);
console.log(
  `       target=${response.headers.get('x-llm-edge-target')} cache=${response.headers.get('x-llm-edge-cache')}` +
    ` overhead=${response.headers.get('x-llm-edge-overhead-ms')}ms tokens=${completion.usage?.total_tokens}`,
);

// 2. The same request again: answered from the gateway's cache.
const { response: again } = await client.chat.completions
  .create({ model, messages: [{ role: 'user', content: 'Say hello in five words.' }] })
  .withResponse();
console.log(`[chat again] cache=${again.headers.get('x-llm-edge-cache')}`);

// 3. A streamed completion.
process.stdout.write('[stream] ');
const stream = await client.chat.completions.create({
  model,
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'Count from one to five.' }],
});
for await (const chunk of stream) {
  process.stdout.write(chunk.choices[0]?.delta.content ?? '');
  if (chunk.usage) process.stdout.write(`\n         (${chunk.usage.total_tokens} tokens)`);
}
process.stdout.write('\n');

// 4. The models the gateway exposes.
const models = [];
for await (const m of client.models.list()) models.push(m.id);
console.log(`[models] ${models.join(', ')}`);
