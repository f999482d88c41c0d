import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli';
import { SimulatorError } from './errors';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

describe('llm-edge-sim CLI', () => {
  it('starts with a scenario file and a profile preset, and prints the SDK base URLs', async () => {
    let output = '';
    const sim = await runCli(
      [
        '--port',
        '0',
        '--profile',
        'instant',
        '--seed',
        '4',
        '--scenario',
        fixture('realistic.yaml'),
        '--api-key',
        'sk-a',
      ],
      (text) => {
        output += text;
      },
    );
    try {
      expect(sim).toBeDefined();
      expect(output).toContain(`OpenAI     baseURL ${sim!.url}/v1`);
      expect(output).toContain('time scale 0');
      expect(sim!.scenario().rateLimits?.keys['sk-small-tier']?.requestsPerMinute).toBe(3);
      const response = await fetch(`${sim!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-a' },
        body: JSON.stringify({
          model: 'my-local-model',
          messages: [{ role: 'user', content: 'weather in Paris?' }],
        }),
      });
      const body = (await response.json()) as {
        choices: { message: { tool_calls: { function: { name: string } }[] } }[];
      };
      expect(body.choices[0]!.message.tool_calls[0]!.function.name).toBe('get_weather');
      const refused = await fetch(`${sim!.url}/v1/models`, { headers: { authorization: 'Bearer sk-other' } });
      expect(refused.status).toBe(401);
    } finally {
      await sim?.close();
    }
  });

  it('prints help', async () => {
    let output = '';
    expect(await runCli(['--help'], (text) => (output += text))).toBeUndefined();
    expect(output).toContain('--scenario <file>');
  });

  it('rejects bad options and bad scenario files naming the field', async () => {
    const write = () => {};
    const badProfile = await runCli(['--profile', 'warp'], write).catch((e: unknown) => e);
    expect(SimulatorError.isInstance(badProfile) && badProfile.issues[0]!.path).toBe('profile');
    const badPort = await runCli(['--port', 'x'], write).catch((e: unknown) => e);
    expect(SimulatorError.isInstance(badPort) && badPort.issues[0]!.path).toBe('port');
    const unknown = await runCli(['--warp'], write).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'LLM_EDGE_SIM_INVALID_OPTIONS' });
    const badFile = await runCli(['--port', '0', '--scenario', fixture('bad.yaml')], write).catch(
      (e: unknown) => e,
    );
    expect(badFile).toMatchObject({ code: 'LLM_EDGE_SIM_INVALID_SCENARIO' });
    expect((badFile as SimulatorError).issues.map((i) => i.path)).toContain('faults.0.probability');
  });
});
