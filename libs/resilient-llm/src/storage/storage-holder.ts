import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectStorageSettings } from '../resilient-llm.constants.js';
import type { StorageSettings } from './storage-options.interface.js';
import { ResilientLlmStorage } from './resilient-llm-storage.js';

/**
 * Opens the library's database once, when something needs it (a budget with limits, an
 * `@Idempotent` handler), and closes it on shutdown. An app that uses neither never gets a file.
 */
@Injectable()
export class ResilientLlmStorageHolder implements OnApplicationShutdown {
  private opening?: Promise<ResilientLlmStorage>;

  constructor(@InjectStorageSettings() private readonly options: StorageSettings) {}

  open(): Promise<ResilientLlmStorage> {
    if (!this.opening) {
      const opening = ResilientLlmStorage.open(this.options.storage);
      // A database that could not be opened (down, locked) is tried again by the next caller.
      opening.catch(() => {
        if (this.opening === opening) this.opening = undefined;
      });
      this.opening = opening;
    }
    return this.opening;
  }

  async onApplicationShutdown(): Promise<void> {
    const storage = await this.opening?.catch(() => undefined);
    await storage?.close();
  }
}
