import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TEST_INDEX } from './global-setup';

// A fresh Node process records every module it resolves while importing the agent: the simulator
// (and the tokenizer tables it brings, ~50 MB) must load only when a config runs it in-process.
const childScript = `
  import { registerHooks } from 'node:module';
  const [entry] = process.argv.slice(1);
  const heavy = [];
  registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      if (/\\/gpt-tokenizer\\/|\\/edge-simulator\\/|@llm-edge\\/simulator/.test(resolved.url)) heavy.push(resolved.url);
      return resolved;
    },
  });
  await import(entry);
  process.stdout.write(JSON.stringify(heavy));
`;

describe('importing @llm-edge/agent', () => {
  it('loads neither the simulator nor the tokenizer', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '--no-warnings',
      '-e',
      childScript,
      pathToFileURL(TEST_INDEX).href,
    ]);
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
