import type { StormRow, StormRun } from './run-storm.js';
import { SCENARIOS } from './scenarios.js';
import { scenarioLabel } from './storm-figures.js';

type Column = [keyof StormRow, string];

const COLUMNS: Column[] = [
  ['strategy', 'strategy'],
  ['successRate', 'success %'],
  ['meanMs', 'mean ms'],
  ['p50Ms', 'p50 ms'],
  ['p99Ms', 'p99 ms'],
  ['amplification', 'attempts/request'],
  ['outageAmplification', 'attempts/request in the outage'],
  ['rateLimitedPct', '429 % of attempts'],
  ['throughputPct', 'throughput % of limit'],
  ['tokenWastePct', 'token waste %'],
  ['retryWastePct', 'retry waste %'],
  ['costUsd', 'cost $'],
  ['overshootUsd', 'overshoot $'],
  ['replicasOpened', 'replicas whose circuit opened'],
  ['circuitOpenSpreadMs', 'circuit-open spread ms'],
];

/** Scenario-specific figures get a column only where a row has them (the spread wherever replicas are counted). */
function columnsFor(rows: StormRow[]): Column[] {
  return COLUMNS.filter(([key]) => rows.some((row) => row[key] !== undefined || (key === 'circuitOpenSpreadMs' && row.replicasOpened !== undefined)));
}

const cell = (row: StormRow, key: keyof StormRow) => (row[key] === undefined ? 'n/a' : String(row[key]));
const noteOf = (label: string) => SCENARIOS.find((scenario) => scenarioLabel(scenario) === label)?.note;
const scenariosOf = (runs: StormRun[]) => [...new Set(runs.map((run) => run.row.scenario))];

export function stormMarkdown(runs: StormRun[]): string {
  const out: string[] = [];
  for (const scenario of scenariosOf(runs)) {
    const mine = runs.filter((run) => run.row.scenario === scenario);
    const columns = columnsFor(mine.map((run) => run.row));
    out.push(`### ${scenario}`, '', `| ${columns.map(([, label]) => label).join(' | ')} |`, `| ${columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
    for (const { row } of mine) out.push(`| ${columns.map(([key]) => cell(row, key)).join(' | ')} |`);
    const note = noteOf(scenario);
    if (note) out.push('', note);
    out.push('');
  }
  return out.join('\n');
}

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function bars(runs: StormRun[], value: (run: StormRun) => number, unit: string): string {
  const width = 720;
  const height = 24 * runs.length + 20;
  const max = Math.max(1, ...runs.map(value));
  const rows = runs
    .map((run, i) => {
      const w = (value(run) / max) * (width - 330);
      return `<text x="0" y="${i * 24 + 16}" font-size="12">${escape(run.row.strategy)}</text>
<rect x="230" y="${i * 24 + 4}" width="${w.toFixed(1)}" height="16" fill="${PALETTE[i % PALETTE.length]}"/>
<text x="${(236 + w).toFixed(1)}" y="${i * 24 + 16}" font-size="12">${value(run).toLocaleString('en-US')} ${unit}</text>`;
    })
    .join('\n');
  return `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${rows}</svg>`;
}

function lines(series: Array<{ name: string; points: Array<[number, number]> }>, xLabel: string, yLabel: string): string {
  const width = 720;
  const height = 300;
  const pad = 40;
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const maxX = Math.max(1, ...xs);
  const maxY = Math.max(1, ...ys);
  const px = (x: number) => pad + (x / maxX) * (width - pad - 200);
  const py = (y: number) => height - pad - (y / maxY) * (height - 2 * pad);
  const paths = series
    .map((s, i) => `<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.5" points="${s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`)
    .join('\n');
  const legend = series.map((s, i) => `<text x="${width - 190}" y="${20 + i * 16}" font-size="11" fill="${PALETTE[i % PALETTE.length]}">${escape(s.name)}</text>`).join('\n');
  const axes = `<line x1="${pad}" y1="${height - pad}" x2="${width - 200}" y2="${height - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#333"/>
<text x="${pad}" y="${height - 8}" font-size="11">0</text><text x="${width - 260}" y="${height - 8}" font-size="11">${escape(xLabel)}: ${Math.round(maxX).toLocaleString('en-US')}</text>
<text x="2" y="${pad - 8}" font-size="11">${escape(yLabel)} (max ${Math.round(maxY).toLocaleString('en-US')})</text>`;
  return `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${axes}${paths}${legend}</svg>`;
}

function cdf(latencies: number[]): Array<[number, number]> {
  const sorted = [...latencies].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(sorted.length / 100));
  const points: Array<[number, number]> = [];
  for (let i = 0; i < sorted.length; i += step) points.push([sorted[i], ((i + 1) / sorted.length) * 100]);
  if (sorted.length) points.push([sorted.at(-1)!, 100]);
  return points;
}

function timeline(times: number[], bucketMs: number): Array<[number, number]> {
  const buckets = new Map<number, number>();
  for (const time of times) buckets.set(Math.floor(time / bucketMs), (buckets.get(Math.floor(time / bucketMs)) ?? 0) + 1);
  const last = Math.max(0, ...buckets.keys());
  return Array.from({ length: last + 1 }, (_, i) => [i * bucketMs, buckets.get(i) ?? 0] as [number, number]);
}

/** A self-contained page (inline SVG, no scripts) with the table and charts per scenario. */
export function stormHtml(runs: StormRun[], meta: { measuredAt: string; scale: number | string; node: string; rounds?: number }): string {
  const sections = scenariosOf(runs).map((scenario) => {
    const mine = runs.filter((run) => run.row.scenario === scenario);
    const columns = columnsFor(mine.map((run) => run.row));
    const table = `<table><tr>${columns.map(([, label]) => `<th>${label}</th>`).join('')}</tr>${mine
      .map((run) => `<tr>${columns.map(([key]) => `<td>${escape(cell(run.row, key))}</td>`).join('')}</tr>`)
      .join('')}</table>`;
    const note = noteOf(scenario);
    return `<section><h2>${escape(scenario)}</h2>${table}${note ? `<p>${escape(note)}</p>` : ''}
<h3>p99 latency (ms)</h3>${bars(mine, (run) => run.row.p99Ms, 'ms')}
<h3>Latency distribution (cumulative %, ms)</h3>${lines(mine.map((run) => ({ name: run.row.strategy, points: cdf(run.latencies) })), 'latency ms', '% of requests')}
<h3>Upstream attempts over time (per 500 ms)</h3>${lines(mine.map((run) => ({ name: run.row.strategy, points: timeline(run.attemptTimes, 500) })), 'time ms', 'attempts')}</section>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>resilient-llm retry-storm benchmark</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body><h1>Retry-storm benchmark</h1><p>Measured ${escape(meta.measuredAt)} on Node ${escape(meta.node)}, time scale ${meta.scale} (figures are unscaled)${
    (meta.rounds ?? 1) > 1 ? `; table figures are medians of ${meta.rounds} runs, charts from the run whose p99 is nearest the median` : ''
  }.</p>
${sections.join('\n')}</body></html>`;
}
