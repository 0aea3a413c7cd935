import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { budgetModule } from '../apps/budget.app.js';

/**
 * One replica of the budget app as a process of its own, bundled by `buildReplica()`: its
 * provider, its store, its daily limit and escrow from the environment; prints `READY <port>` once it listens.
 */
async function main(): Promise<void> {
  const env = process.env;
  const app = await NestFactory.create(
    budgetModule({
      client: { apiKey: 't', baseURL: env.UPSTREAM_URL!, attemptTimeoutMs: 2_000 },
      backoff: { deadlineMs: 3_000 },
      // A short lease (the least the options accept): the survivors collect a dead replica's soon.
      budget: { limits: { dailyUsd: Number(env.DAILY_USD ?? 1) }, scopeLimits: { dailyUsd: 1 }, leaseMs: 5_000, escrow: env.ESCROW === '1' },
      scope: { header: 'x-tenant-id' },
      storage: { database: env.LEDGER! },
    }),
    { logger: ['error'] },
  );
  // SIGTERM runs the shutdown hooks (escrow slices are settled); the lease tests kill with SIGKILL.
  app.enableShutdownHooks(['SIGTERM']);
  await app.listen(0, '127.0.0.1');
  process.stdout.write(`READY ${((app.getHttpServer() as Server).address() as AddressInfo).port}\n`);
}

await main();
