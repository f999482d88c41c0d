import { describe, expect, it } from 'vitest';
import { InvalidMonitoringOptionError, MonitoringError } from './errors';

describe('MonitoringError', () => {
  it('is identified by its marker, not by class identity', () => {
    const error = new InvalidMonitoringOptionError('prefix', 'bad', { cause: new Error('root') });
    expect(MonitoringError.isInstance(error)).toBe(true);
    expect(InvalidMonitoringOptionError.isInstance(error)).toBe(true);
    expect(error.code).toBe('LLM_EDGE_MONITORING_INVALID_OPTION');
    expect(error.field).toBe('prefix');
    expect((error.cause as Error).message).toBe('root');
    const foreign = {
      [Symbol.for('llm-edge.monitoring.error')]: true,
      code: 'LLM_EDGE_MONITORING_INVALID_OPTION',
    };
    expect(InvalidMonitoringOptionError.isInstance(foreign)).toBe(true);
    expect(MonitoringError.isInstance(new Error('x'))).toBe(false);
  });
});
