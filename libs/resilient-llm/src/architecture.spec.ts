import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The library's folders depend one way, so that a change in one reaches only the folders above it.
 * From the bottom up; a folder may import only from folders listed before it (and from itself).
 * The barrel `index.ts` and `testing/` sit outside the graph: they only re-export.
 */
const LAYERS: readonly string[][] = [
  // Leaves: injection tokens, the clock, token counting, cross-cutting errors and option checks.
  ['constants', 'time', 'tokenizer', 'errors'],
  // Request helpers every HTTP-facing concern shares: the scope extractor, header counting, route metadata.
  ['http'],
  // Pure policies: prices, backoff and failure classification.
  ['pricing', 'backoff'],
  // Spend limits with their store port; anti-storm controls (retry budget, circuits, pacing, concurrency).
  ['budget', 'storm'],
  // The Idempotency-Key protocol, with its store port.
  ['idempotency'],
  // The TypeORM implementations of the store ports.
  ['storage'],
  // One guarded call: its context, deadline, budget, handler retries.
  ['guarded'],
  // The retry loop per upstream request, behind a guarded fetch.
  ['transport'],
  // Spans and metrics: listens to every concern through its own seam (observer, events, listener).
  ['telemetry'],
  ['client'],
  // Wiring: resolves the options, hands each concern its slice, registers the providers.
  ['module'],
];

const sourceRoot = dirname(fileURLToPath(import.meta.url));
const OUTSIDE_GRAPH = new Set(['index.ts', 'testing']);

function libraryFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return libraryFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The folder a file belongs to: its first path segment, or `constants` for the root constants file. */
function folderOf(file: string): string {
  const [first, ...rest] = relative(sourceRoot, file).split(sep);
  if (rest.length > 0) return first;
  return first === 'resilient-llm.constants.ts' ? 'constants' : first;
}

function relativeImports(source: string): string[] {
  return [...source.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) => match[1]);
}

/** Folder edges with the files that make them: `from -> to` mapped to the importing files. */
function folderEdges(): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  for (const file of libraryFiles(sourceRoot)) {
    const from = folderOf(file);
    if (OUTSIDE_GRAPH.has(from)) continue;
    for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
      const to = folderOf(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
      if (to === from) continue;
      const targets = edges.get(from) ?? new Map<string, string[]>();
      targets.set(to, [...(targets.get(to) ?? []), relative(sourceRoot, file)]);
      edges.set(from, targets);
    }
  }
  return edges;
}

/** A cycle as `a -> b -> ... -> a`, or undefined when the graph has none. */
function findCycle(edges: Map<string, Map<string, string[]>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'visiting');
    path.push(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('library architecture', () => {
  const edges = folderEdges();

  it('has no cycle between folders', () => {
    const cycle = findCycle(edges);
    const evidence = cycle?.slice(1).map((to, index) => `${cycle[index]} -> ${to} (${edges.get(cycle[index])?.get(to)?.join(', ')})`);
    expect(evidence, `folder cycle ${cycle?.join(' -> ')}`).toBeUndefined();
  });

  it('lists every folder in exactly one layer', () => {
    const layered = LAYERS.flat();
    const folders = [...new Set(libraryFiles(sourceRoot).map(folderOf))].filter((folder) => !OUTSIDE_GRAPH.has(folder)).sort();
    expect(layered.slice().sort()).toEqual(folders);
  });

  it('imports only from the layers below a folder', () => {
    const layerOf = new Map(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)));
    const upward: string[] = [];
    for (const [from, targets] of edges) {
      for (const [to, files] of targets) {
        if ((layerOf.get(to) ?? Infinity) >= (layerOf.get(from) ?? -1)) upward.push(`${from} -> ${to} (${files.join(', ')})`);
      }
    }
    expect(upward).toEqual([]);
  });
});
