import Database from 'better-sqlite3';

/**
 * Measures how long better-sqlite3 holds the event loop, call by call: its statements run
 * synchronously, so a lock wait inside one (its busy timeout) blocks every route of the app.
 * Unlike the event loop's own delay, this does not grow with the machine's load.
 */
export function watchSqliteCalls(): { stop: () => { calls: number; longestMs: number } } {
  const probe = new Database(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<'run' | 'all' | 'get', (...args: unknown[]) => unknown>;
  probe.close();
  const originals = { run: statement.run, all: statement.all, get: statement.get };
  let calls = 0;
  let longestMs = 0;
  for (const method of ['run', 'all', 'get'] as const) {
    const original = originals[method];
    statement[method] = function timed(this: unknown, ...args: unknown[]) {
      const startedAt = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        calls++;
        longestMs = Math.max(longestMs, performance.now() - startedAt);
      }
    };
  }
  return {
    stop: () => {
      Object.assign(statement, originals);
      return { calls, longestMs };
    },
  };
}
