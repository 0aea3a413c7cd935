import { spawn } from 'node:child_process';
import { once } from 'node:events';

// Another process's connection: better-sqlite3 in a child, holding the write lock until told to let go.
const LOCKER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\\n');
process.stdin.once('data', () => {
  db.exec('ROLLBACK');
  db.close();
  process.exit(0);
});
`;

/** Takes the write lock of `file` in another process; resolves once it holds it. */
export async function lockInAnotherProcess(file: string): Promise<{ release: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', LOCKER, file], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
  const [first] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit')])) as [Buffer | number];
  if (!Buffer.isBuffer(first) || !first.toString().includes('locked')) throw new Error('the locking process did not take the lock');
  return {
    release: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.write('release\n');
      await exited;
    },
  };
}
