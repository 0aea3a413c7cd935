import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { GUARDED_METADATA } from '../resilient-llm.constants.js';
import { GuardedCallRunner } from './guarded-call.runner.js';
import type { GuardedMetadata } from './guarded-options.js';

/**
 * At startup, checks every `@Guarded` handler's backoff settings against the module's
 * (a handler's `capMs` below the module's `baseMs`, say), so that a bad combination stops the
 * app from booting instead of failing every request.
 */
@Injectable()
export class GuardedHandlersValidator implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly runner: GuardedCallRunner,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const onClass = this.reflector.get<GuardedMetadata | undefined>(GUARDED_METADATA, metatype);
      if (onClass) this.runner.backoffFor(onClass.backoff, onClass.source);
      for (const name of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const onMethod = this.reflector.get<GuardedMetadata | undefined>(GUARDED_METADATA, instance[name]);
        if (onMethod) this.runner.backoffFor(onMethod.backoff, onMethod.source);
      }
    }
  }
}
