import type { DataSource } from 'typeorm';

const DEADLOCK = '40P01';

/** One SQL statement at a time, with the placeholders of the DataSource's dialect. */
export class SqlStatements {
  readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  param(index: number): string {
    return this.postgres ? `$${index}` : '?';
  }

  params(count: number, from = 1): string {
    return Array.from({ length: count }, (_, offset) => this.param(from + offset)).join(', ');
  }

  /** Runs one statement; returns its rows (reads) and how many rows it changed itself (writes). */
  async run<T = unknown>(sql: string, parameters: unknown[]): Promise<{ records: T[]; affected: number }> {
    for (let attempt = 1; ; attempt++) {
      const runner = this.dataSource.createQueryRunner();
      try {
        const result = await runner.query(sql, parameters, true);
        return { records: (result.records ?? []) as T[], affected: result.affected ?? 0 };
      } catch (error) {
        // PostgreSQL picks one of two lock waiters as a deadlock victim; its statement did nothing.
        const code = (error as { driverError?: { code?: string } }).driverError?.code;
        if (code !== DEADLOCK || attempt >= 5) throw error;
      } finally {
        await runner.release();
      }
    }
  }
}
