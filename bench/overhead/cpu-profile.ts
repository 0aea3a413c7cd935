import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * Records a V8 CPU profile of this process while `work` runs and writes it to `path` (a
 * `.cpuprofile`: Chrome DevTools and speedscope draw it as a flame graph). In-process, because
 * `--cpu-prof` is refused in NODE_OPTIONS and the measured app runs in a Vitest worker.
 */
export async function withCpuProfile<T>(path: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!path) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(path, JSON.stringify(profile));
    session.disconnect();
  }
}
