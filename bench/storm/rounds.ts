import { median } from '../median.js';
import type { StormRow } from './storm-figures.js';
import type { StormRun } from './run-storm.js';

type NumericKey = { [K in keyof StormRow]-?: StormRow[K] extends number | undefined ? K : never }[keyof StormRow];

/**
 * One figure across rounds. A fleet round in which some replica's circuit never opened has no
 * spread: it counts as an infinite one, so that a median of "never" is not a small number.
 */
function medianOf(rounds: StormRow[], key: NumericKey): number | undefined {
  const fleet = key === 'circuitOpenSpreadMs' && rounds.some((row) => row.replicasOpened !== undefined);
  const values = rounds.map((row) => row[key] ?? (fleet ? Number.POSITIVE_INFINITY : undefined)).filter((value): value is number => value !== undefined);
  if (!values.length) return undefined;
  const middle = median(values);
  return Number.isFinite(middle) ? Math.round(middle * 10_000) / 10_000 : undefined;
}

/** The cell's figures: each the median of its rounds' (computed figure by figure). */
export function medianRow(rounds: StormRow[]): StormRow {
  const row: StormRow = { ...rounds[0] };
  const figures = row as unknown as Record<string, unknown>;
  const keys = new Set(rounds.flatMap((round) => Object.keys(round))) as Set<keyof StormRow>;
  for (const key of keys) {
    if (typeof rounds.find((round) => round[key] !== undefined)?.[key] !== 'number') continue;
    const value = medianOf(rounds, key as NumericKey);
    if (value === undefined) delete figures[key];
    else figures[key] = value;
  }
  return row;
}

/** A cell's rounds as one run: median figures, each round's kept, the charts from the round whose p99 is nearest the median. */
export function medianRun(runs: StormRun[]): StormRun {
  const rounds = runs.map((run) => run.row);
  const row = medianRow(rounds);
  const typical = runs.reduce((best, run) => (Math.abs(run.row.p99Ms - row.p99Ms) < Math.abs(best.row.p99Ms - row.p99Ms) ? run : best));
  return { row, rounds, attemptTimes: typical.attemptTimes, latencies: typical.latencies };
}
