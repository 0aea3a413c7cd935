import type { UpstreamStats } from '@app/fault-upstream';
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

export type UpstreamCommand =
  | { id: number; cmd: 'faults'; faults: object }
  | { id: number; cmd: 'reset' }
  | { id: number; cmd: 'report' }
  | { id: number; cmd: 'stop' };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface UpstreamReply {
  id: number;
  baseURL?: string;
  stats?: UpstreamStats;
  /** Epoch milliseconds at which each completion request ended (answered or abandoned). */
  ends?: number[];
}

/** The fault-injecting upstream in a child process, driven over IPC. */
export class RemoteUpstream {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: UpstreamReply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly baseURL: string,
  ) {
    child.on('message', (reply: UpstreamReply) => {
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  static async start(): Promise<RemoteUpstream> {
    const child = fork(join(import.meta.dirname, 'upstream-process.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const baseURL = await new Promise<string>((resolve, reject) => {
      child.once('message', (reply: UpstreamReply) => resolve(reply.baseURL!));
      child.once('exit', (code) => reject(new Error(`the benchmark's upstream exited (code ${code}) before it listened`)));
    });
    return new RemoteUpstream(child, baseURL);
  }

  async setFaults(faults: object): Promise<void> {
    await this.ask({ cmd: 'faults', faults });
  }

  async resetStats(): Promise<void> {
    await this.ask({ cmd: 'reset' });
  }

  async report(): Promise<{ stats: UpstreamStats; ends: number[] }> {
    const { stats, ends } = await this.ask({ cmd: 'report' });
    return { stats: stats!, ends: ends! };
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ id: 0, cmd: 'stop' } satisfies UpstreamCommand);
    await exited;
  }

  private ask(command: WithoutId<UpstreamCommand>): Promise<UpstreamReply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ ...command, id });
    });
  }
}
