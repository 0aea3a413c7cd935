import type { UpstreamStats } from '@app/fault-upstream';
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

export type UpstreamCommand = { id: number; cmd: 'faults'; faults: object } | { id: number; cmd: 'reset' } | { id: number; cmd: 'report' };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface UpstreamReply {
  id: number;
  baseURL?: string;
  stats?: UpstreamStats;
  /** Epoch milliseconds at which each completion request ended (answered or abandoned). */
  ends?: number[];
  error?: string;
}

const ANSWER_TIMEOUT_MS = 30_000;

/** The fault-injecting upstream in a child process, driven over IPC. */
export class RemoteUpstream {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (reply: UpstreamReply) => void; reject: (error: Error) => void }>();
  private exited?: Error;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseURL: string,
  ) {
    child.on('message', (reply: UpstreamReply) => {
      const waiter = this.settle(reply.id);
      if (reply.error) waiter?.reject(new Error(`the benchmark's upstream: ${reply.error}`));
      else waiter?.resolve(reply);
    });
    // A child that died answers nothing more: fail what waits instead of hanging the benchmark.
    child.on('exit', (code) => this.fail(new Error(`the benchmark's upstream exited (code ${code})`)));
    child.on('error', (error) => this.fail(error));
  }

  static async start(): Promise<RemoteUpstream> {
    const child = fork(join(import.meta.dirname, 'upstream-process.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const baseURL = await new Promise<string>((resolve, reject) => {
      child.once('message', (reply: UpstreamReply) => resolve(reply.baseURL!));
      child.once('error', reject);
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
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ cmd: 'stop' });
    await exited;
  }

  private ask(command: WithoutId<UpstreamCommand>): Promise<UpstreamReply> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id)?.reject(new Error(`the benchmark's upstream did not answer "${command.cmd}"`)), ANSWER_TIMEOUT_MS);
      this.waiting.set(id, {
        resolve: (reply) => (clearTimeout(timer), resolve(reply)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      this.child.send({ ...command, id });
    });
  }

  private settle(id: number) {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    return waiter;
  }

  private fail(error: Error): void {
    this.exited = error;
    for (const id of [...this.waiting.keys()]) this.settle(id)?.reject(error);
  }
}
