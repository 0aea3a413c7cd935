import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { StoreFileReplacedError } from '../errors/store-file-replaced.error.js';

/**
 * Which file an SQLite connection has open: the device and inode of its path when it was
 * opened. An open connection keeps writing to an unlinked file, and a file put in its place is
 * another ledger; both show as a path that no longer leads to that inode. One `stat` per check
 * (a few microseconds), so it runs before every batch of statements.
 */
export class SqliteFileIdentity {
  private constructor(
    readonly path: string,
    private readonly device: bigint,
    private readonly inode: bigint,
  ) {}

  static of(path: string): SqliteFileIdentity {
    const absolute = resolve(path);
    const stats = statSync(absolute, { bigint: true });
    return new SqliteFileIdentity(absolute, stats.dev, stats.ino);
  }

  /** The error to fail with when the path no longer leads to the opened file; undefined while it does. */
  change(): StoreFileReplacedError | undefined {
    let stats;
    try {
      stats = statSync(this.path, { bigint: true, throwIfNoEntry: false });
    } catch {
      // Unreadable for now (permissions, a stale mount): no evidence that the file changed.
      return undefined;
    }
    if (!stats) return new StoreFileReplacedError(this.path, 'removed');
    if (stats.dev !== this.device || stats.ino !== this.inode) return new StoreFileReplacedError(this.path, 'replaced');
    return undefined;
  }
}
