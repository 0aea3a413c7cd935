// One replica of scenario (f)'s fleet, in a process of its own (started by fleet-strategy.ts): this
// module as one instance of a horizontally scaled app runs it. The Nest app needs decorator
// metadata, which tsx does not emit: the module strategy is loaded through Vite's module runner,
// with the transform the benchmarks run under.
import { join } from 'node:path';
import { runnerImport } from 'vite';
import type { CircuitTransitionEvent, ModuleStrategySettings } from './module-strategy.js';
import type { StrategyContext, StrategyInstance } from './strategies.js';

export type ReplicaCommand =
  | { id: number; cmd: 'create'; context: StrategyContext; fleet?: ModuleStrategySettings['fleet'] }
  | { id: number; cmd: 'send' }
  | { id: number; cmd: 'close' };

export type ReplicaMessage = { cmd: 'ready' } | { cmd: 'done'; id: number; error?: string } | { cmd: 'transition'; event: CircuitTransitionEvent };

const root = join(import.meta.dirname, '..', '..');
const { module: strategies } = await runnerImport<typeof import('./module-strategy.js')>(join(import.meta.dirname, 'module-strategy.ts'), {
  root,
  configFile: false,
  logLevel: 'error',
  resolve: { tsconfigPaths: true },
});

const post = (message: ReplicaMessage) => process.send!(message);
let current: StrategyInstance | undefined;
let generation = 0;

async function answer(command: ReplicaCommand): Promise<void> {
  switch (command.cmd) {
    case 'create': {
      const instance = ++generation;
      // Transitions of an instance closed since would be read as the next one's.
      const onCircuitTransition = (event: CircuitTransitionEvent) => instance === generation && post({ cmd: 'transition', event });
      current = await strategies.createModuleInstance(command.context, { fleet: command.fleet, onCircuitTransition });
      return;
    }
    case 'send':
      await current!.send();
      return;
    case 'close':
      await current?.close?.();
      current = undefined;
      return;
  }
}

process.on('message', (command: ReplicaCommand | { cmd: 'stop' }) => {
  if (command.cmd === 'stop') return void Promise.resolve(current?.close?.()).finally(() => process.exit(0));
  answer(command).then(
    () => post({ cmd: 'done', id: command.id }),
    (error: unknown) => post({ cmd: 'done', id: command.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
// The benchmark went away (it failed, or was stopped): so does its replica.
process.on('disconnect', () => process.exit(1));
post({ cmd: 'ready' });
