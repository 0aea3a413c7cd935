import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { GuardedCallRunner } from '../guarded/guarded-call.runner.js';
import type { GuardedMetadata } from '../guarded/guarded-options.js';
import { checkDeadlineWithinLease } from '../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { GUARDED_METADATA, IDEMPOTENT_METADATA, InjectResilientLlmOptions } from '../resilient-llm.constants.js';
import { ResilientLlmStorageHolder } from '../storage/storage-holder.js';
import type { ResolvedResilientLlmOptions } from './resilient-llm-options.interface.js';
import { SSE_METADATA } from '../http/nest-route-metadata.js';

// Where @nestjs/common marks an @Sse() handler.
/**
 * Looks at every controller once, at startup: a `@Guarded` handler's backoff that conflicts
 * with the module's stops the boot (instead of failing every request), and `@Idempotent`
 * handlers get their store opened now, so that a bad database fails the boot too.
 */
@Injectable()
export class HandlerDiscovery implements OnModuleInit {
  /** True when some handler is `@Idempotent` (or all unsafe ones are, by option). */
  usesIdempotency = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly runner: GuardedCallRunner,
    private readonly storage: ResilientLlmStorageHolder,
    @InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    this.usesIdempotency = this.options.idempotency.applyToUnsafeMethods;
    const guardedHandlers: Array<{ guarded: GuardedMetadata; deadlineMs: number }> = [];
    for (const { instance, metatype } of this.discovery.getControllers()) {
      if (!instance || !metatype) continue;
      const targets = [metatype, ...this.scanner.getAllMethodNames(Object.getPrototypeOf(instance)).map((name) => instance[name])];
      for (const target of targets) {
        const guarded = this.reflector.get<GuardedMetadata | undefined>(GUARDED_METADATA, target);
        if (guarded && target !== metatype && Reflect.hasMetadata(SSE_METADATA, target)) {
          throw new ResilientLlmConfigurationError(guarded.source, 'cannot guard an @Sse() handler, which emits many values; stream inside an ordinary guarded handler instead');
        }
        if (guarded) guardedHandlers.push({ guarded, deadlineMs: this.runner.backoffFor(guarded.backoff, guarded.source).deadlineMs });
        if (this.reflector.get(IDEMPOTENT_METADATA, target)) this.usesIdempotency = true;
      }
    }
    for (const { guarded, deadlineMs } of guardedHandlers) this.checkLeases(guarded, deadlineMs);
    if (this.usesIdempotency) await this.storage.open();
  }

  /** A handler's own deadline, checked against each lease its calls take. */
  private checkLeases(guarded: GuardedMetadata, deadlineMs: number): void {
    const leases: Array<[string, number, boolean]> = [
      ['budget.leaseMs', this.options.budget.leaseMs, this.options.budget.enabled],
      ['idempotency.leaseMs', this.options.idempotency.leaseMs, this.usesIdempotency],
    ];
    for (const [option, ms, applies] of leases) {
      if (applies) checkDeadlineWithinLease(`${guarded.source}: backoff.deadlineMs`, deadlineMs, this.options.client.attemptTimeoutMs, { option, ms });
    }
  }
}
