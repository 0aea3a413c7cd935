/** A V8 `.cpuprofile`, as the inspector's Profiler.stop returns it. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  frame: string;
  /** Share of all samples spent in this function itself. */
  selfShare: number;
  /** Share of all samples with this function on the stack. */
  totalShare: number;
}

const ROOT_LABEL = /^\((root|program|idle|garbage collector)\)$/;

function frameOf(node: CpuProfile['nodes'][number], root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^file:\/\//, '').replace(root, '').replace(/^.*node_modules\//, '');
  return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
}

/** Self and inclusive shares per function (by name and place), the largest first; `root` is cut from paths. */
export function summariseProfile(profile: CpuProfile, root: string, top = 25): { bySelf: ProfileLine[]; byTotal: ProfileLine[]; library: number; gc: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let library = 0;
  let gc = 0;
  for (const id of profile.samples) {
    const node = byId.get(id)!;
    const frame = frameOf(node, root);
    self.set(frame, (self.get(frame) ?? 0) + 1);
    if (node.callFrame.functionName === '(garbage collector)') gc++;
    const seen = new Set<string>();
    let inLibrary = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const ancestor = byId.get(at)!;
      if (ancestor.callFrame.url.includes('libs/resilient-llm/')) inLibrary = true;
      const name = frameOf(ancestor, root);
      if (ROOT_LABEL.test(ancestor.callFrame.functionName) || seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + 1);
    }
    if (inLibrary) library++;
  }
  const count = profile.samples.length;
  const lines = (source: Map<string, number>, key: 'selfShare' | 'totalShare') =>
    [...source.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame]) => ({ frame, selfShare: (self.get(frame) ?? 0) / count, totalShare: (total.get(frame) ?? 0) / count }))
      .sort((a, b) => b[key] - a[key]);
  return { bySelf: lines(self, 'selfShare'), byTotal: lines(total, 'totalShare'), library: library / count, gc: gc / count };
}
