import { FaultUpstream } from '@app/fault-upstream';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BudgetGuard } from '@resilient-llm/nestjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { overspendModule } from '../test/apps/overspend.app.js';
import { createTestSchema } from '../test/support/postgres.js';

// Issue 12's utilisation scenario: 200 concurrent calls, a ~20-token prompt (19 with OpenAI's framing)
// and max_tokens 64 ('flat': one token is one micro-dollar, so a worst case is 83), against a limit of 100 worst cases.
const CALLS = 200;
const WORST_CASE_MICRO = 19 + 64;
const LIMIT_MICRO = 100 * WORST_CASE_MICRO;
const ROUNDS = 3;
const MESSAGE = 'one two three four five six seven eight nine ten eleven twelve';

interface Round {
  store: string;
  admitted: number;
  refused: number;
  spentMicro: number;
  limitMicro: number;
  overshootMicro: number;
}

async function oneRound(store: string, database: string, upstream: FaultUpstream): Promise<Round> {
  const module = overspendModule({ client: { apiKey: 'bench', baseURL: upstream.baseURL }, budget: { limits: { dailyUsd: LIMIT_MICRO / 1_000_000 } }, storage: { database } });
  const app: INestApplication = await NestFactory.create(module, { logger: false });
  await app.listen(0, '127.0.0.1');
  try {
    const { port } = app.getHttpServer().address() as { port: number };
    const ask = () =>
      fetch(`http://127.0.0.1:${port}/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: MESSAGE, maxTokens: 64 }) }).then(
        async (response) => (await response.arrayBuffer(), response.status),
      );
    const statuses = await Promise.all(Array.from({ length: CALLS }, ask));
    const window = (await app.get(BudgetGuard).status()).windows[0];
    return {
      store,
      admitted: statuses.filter((status) => status === 200).length,
      refused: statuses.filter((status) => status === 429).length,
      spentMicro: window.spentMicroUsd,
      limitMicro: window.limitMicroUsd,
      overshootMicro: Math.max(0, window.spentMicroUsd - window.limitMicroUsd),
    };
  } finally {
    await app.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

it(`utilisation: ${CALLS} concurrent calls against ${LIMIT_MICRO / WORST_CASE_MICRO} worst cases`, async () => {
  const upstream = await FaultUpstream.start();
  const rounds: Round[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      rounds.push(await oneRound('SQLite memory', ':memory:', upstream));
      const schema = await createTestSchema();
      try {
        rounds.push(await oneRound('PostgreSQL', schema.url, upstream));
      } finally {
        await schema.drop();
      }
    }
  } finally {
    await upstream.stop();
  }
  const stores = [...new Set(rounds.map((round) => round.store))];
  const rows = stores.map((store) => {
    const mine = rounds.filter((round) => round.store === store);
    return {
      store,
      admittedMedian: median(mine.map((round) => round.admitted)),
      admittedByRound: mine.map((round) => round.admitted),
      spentOverLimitMedian: median(mine.map((round) => round.spentMicro / round.limitMicro)),
      maxOvershootMicro: Math.max(...mine.map((round) => round.overshootMicro)),
    };
  });
  const results = join(import.meta.dirname, 'results');
  writeFileSync(join(results, 'utilisation.json'), `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, calls: CALLS, worstCaseMicro: WORST_CASE_MICRO, limitMicro: LIMIT_MICRO, rounds, rows }, null, 2)}\n`);
  const table = rows
    .map((row) => `| ${row.store} | ${row.admittedMedian} | ${row.admittedByRound.join(', ')} | ${row.spentOverLimitMedian.toFixed(3)} | ${row.maxOvershootMicro} |`)
    .join('\n');
  writeFileSync(
    join(results, 'utilisation.md'),
    `# Budget utilisation\n\n${CALLS} concurrent guarded calls (19-token prompt with OpenAI's framing, max_tokens 64: a worst case of ${WORST_CASE_MICRO} micro-dollars) against a daily limit of ${LIMIT_MICRO} micro-dollars (100 worst cases), ${ROUNDS} rounds per store, ${process.version}.\n\n| store | admitted (median) | admitted by round | spent / limit (median) | overshoot (max, micro-dollars) |\n| --- | ---: | --- | ---: | ---: |\n${table}\n`,
  );
  for (const row of rows) {
    expect(row.maxOvershootMicro).toBe(0);
    expect(row.admittedMedian).toBeGreaterThanOrEqual(100);
  }
});
