import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { StormControl } from '../storm/storm-control.js';
import { ResilientLlmTelemetry } from './resilient-llm.telemetry.js';

/** Records every circuit transition storm control announces: storm control itself knows nothing of telemetry. */
@Injectable()
export class CircuitTransitionTelemetry implements OnApplicationShutdown {
  private readonly unsubscribe: () => void;

  constructor(storm: StormControl, telemetry: ResilientLlmTelemetry) {
    this.unsubscribe = storm.onCircuitTransition(({ model, from, to }) => telemetry.circuitTransition(model, from, to));
  }

  onApplicationShutdown(): void {
    this.unsubscribe();
  }
}
