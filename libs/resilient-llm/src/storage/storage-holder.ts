import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { InjectResilientLlmOptions } from '../resilient-llm.constants.js';
import { ResilientLlmStorage } from './resilient-llm-storage.js';

/**
 * Opens the library's database once, when something needs it (a budget with limits, an
 * `@Idempotent` handler), and closes it on shutdown. An app that uses neither never gets a file.
 */
@Injectable()
export class ResilientLlmStorageHolder implements OnApplicationShutdown {
  private opening?: Promise<ResilientLlmStorage>;

  constructor(@InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions) {}

  open(): Promise<ResilientLlmStorage> {
    this.opening ??= ResilientLlmStorage.open(this.options.storage);
    return this.opening;
  }

  async onApplicationShutdown(): Promise<void> {
    const storage = await this.opening?.catch(() => undefined);
    await storage?.close();
  }
}
