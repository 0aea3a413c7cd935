import { Redis } from 'ioredis';
import { isResilientLlmConfigurationError } from '../../errors/resilient-llm-configuration.error.js';
import { resolveFleetOptions } from './fleet-options.validation.js';

function problem(raw: unknown, path?: string): { option: string; message: string } {
  try {
    resolveFleetOptions(raw, path);
  } catch (error) {
    if (!isResilientLlmConfigurationError(error)) throw error;
    return { option: error.option, message: error.message };
  }
  throw new Error('no error thrown');
}

describe('resolveFleetOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveFleetOptions({ redis: 'redis://127.0.0.1:6379' })).toEqual({
      redis: 'redis://127.0.0.1:6379',
      keyPrefix: 'resilient-llm:',
      syncMs: 200,
      commandTimeoutMs: 250,
    });
  });

  it('accepts ioredis options and keeps a client passed in as that very object', () => {
    const client = new Redis({ lazyConnect: true });
    try {
      expect(resolveFleetOptions({ redis: client, keyPrefix: 'app:', syncMs: 50, commandTimeoutMs: 100 }).redis).toBe(client);
      expect(resolveFleetOptions({ redis: { host: 'redis', port: 6380 } }).redis).toEqual({ host: 'redis', port: 6380 });
    } finally {
      client.disconnect();
    }
  });

  it.each([
    [undefined, 'stormControl.fleet', /must be an object with a "redis" connection, got undefined/],
    [{}, 'stormControl.fleet.redis', /URL, ioredis options or an ioredis client, got undefined/],
    [{ redis: 'localhost:6379' }, 'stormControl.fleet.redis', /got "localhost:6379"/],
    [{ redis: 'redis://x', keyPrefix: '' }, 'stormControl.fleet.keyPrefix', /1 to 200 characters, got $/],
    [{ redis: 'redis://x', syncMs: 5 }, 'stormControl.fleet.syncMs', /milliseconds >= 10 and <= 60000, got 5/],
    [{ redis: 'redis://x', commandTimeoutMs: 0 }, 'stormControl.fleet.commandTimeoutMs', /milliseconds >= 1 and <= 10000, got 0/],
    [{ redis: 'redis://x', commandTimeoutMs: Number.NaN }, 'stormControl.fleet.commandTimeoutMs', /got NaN/],
  ])('rejects %j naming %s, the accepted range and the value', (raw, option, message) => {
    const error = problem(raw);
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it('names the option under the path it is given', () => {
    expect(problem({ redis: 'redis://x', syncMs: -1 }, 'fleet').option).toBe('fleet.syncMs');
  });
});
