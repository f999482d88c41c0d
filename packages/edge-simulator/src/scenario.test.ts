import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario, parseScenarioText, SimulatorError, startSimulator } from './index';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

describe('scenario validation', () => {
  it('applies defaults to an empty scenario', () => {
    const scenario = parseScenario({});
    expect(scenario.content).toEqual({ mode: 'lorem', length: { min: 16, max: 64 } });
    expect(scenario.faults).toEqual([]);
    expect(scenario.acceptUnknownModels).toBe(false);
  });

  it('loads the README scenario file', async () => {
    const scenario = await loadScenarioFile(fixture('realistic.yaml'));
    expect(scenario.faults.map((f) => f.kind)).toEqual(['overloaded', 'disconnect', 'unavailable']);
    expect(scenario.rateLimits?.keys['sk-small-tier']).toEqual({
      requestsPerMinute: 3,
      tokensPerMinute: 40000,
    });
    expect(scenario.replies[0]!.toolCalls![0]!.arguments).toEqual({ city: 'Paris' });
  });

  it('names every bad field of a bad file', async () => {
    const error = await loadScenarioFile(fixture('bad.yaml')).catch((e: unknown) => e);
    expect(SimulatorError.isInstance(error)).toBe(true);
    const simError = error as SimulatorError;
    expect(simError.code).toBe('LLM_EDGE_SIM_INVALID_SCENARIO');
    expect(simError.issues.map((i) => i.path).sort()).toEqual([
      'faults.0.kind',
      'faults.0.probability',
      'profiles.gpt-4o.ttftMs.p99',
    ]);
    expect(simError.message).toContain('faults.0.probability');
  });

  it('rejects unknown fields, bad regexes and replies without content', () => {
    const cases: [unknown, string][] = [
      [{ falts: [] }, '(root)'],
      [{ replies: [{ match: { lastUserMessage: '(' }, text: 'x' }] }, 'replies.0.match.lastUserMessage'],
      [{ replies: [{ match: {} }] }, 'replies.0.text'],
      [{ rateLimits: { default: { requestsPerMinute: 0 } } }, 'rateLimits.default.requestsPerMinute'],
      [{ content: { mode: 'poetry' } }, 'content.mode'],
    ];
    for (const [input, path] of cases) {
      const error = (() => {
        try {
          parseScenario(input);
          return undefined;
        } catch (e) {
          return e as SimulatorError;
        }
      })();
      expect(error?.issues.map((i) => i.path)).toContain(path);
    }
  });

  it('reports unreadable and unparsable files with LLM_EDGE_SIM_SCENARIO_FILE', async () => {
    await expect(loadScenarioFile(fixture('missing.json'))).rejects.toMatchObject({
      code: 'LLM_EDGE_SIM_SCENARIO_FILE',
    });
    expect(() => parseScenarioText('{"faults": [', 'x.json')).toThrow(
      expect.objectContaining({ code: 'LLM_EDGE_SIM_SCENARIO_FILE' }),
    );
  });

  it('validates options and scenario at start', async () => {
    await expect(startSimulator({ timeScale: -1 })).rejects.toMatchObject({
      code: 'LLM_EDGE_SIM_INVALID_OPTIONS',
      issues: [{ path: 'timeScale' }],
    });
    await expect(
      startSimulator({ scenario: { faults: [{ kind: 'hang', probability: -1 }] } }),
    ).rejects.toMatchObject({
      code: 'LLM_EDGE_SIM_INVALID_SCENARIO',
    });
    const first = await startSimulator();
    try {
      await expect(startSimulator({ port: first.port })).rejects.toMatchObject({
        code: 'LLM_EDGE_SIM_LISTEN_FAILED',
      });
    } finally {
      await first.close();
    }
  });
});
