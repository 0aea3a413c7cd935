import type { Fault, FaultScript } from './fault-script.js';
import { RateLimiter } from './rate-limiter.js';
import { seededRandom } from './seeded-random.js';

const OK: Fault = { kind: 'ok' };

/** The script in motion: which fault the next request gets. Deterministic for a seed and an arrival order. */
export class FaultPlan {
  private consumed = 0;
  private readonly random: () => number;
  private readonly installedAtMs: number;
  /** The script's rate limit, its buckets filled to `startLevel` as the script is installed. */
  readonly rateLimiter?: RateLimiter;

  constructor(
    readonly script: FaultScript,
    private readonly now: () => number,
  ) {
    this.random = seededRandom(script.seed);
    this.installedAtMs = now();
    if (script.rateLimit) this.rateLimiter = new RateLimiter(script.rateLimit, now);
  }

  nextFault(): Fault {
    const sinceInstall = this.now() - this.installedAtMs;
    const outage = this.script.outages.find((window) => sinceInstall >= window.startMs && sinceInstall < window.endMs);
    // Draw even when an outage or the sequence decides, so that later draws do not depend on timing.
    const draw = this.random();
    if (outage) return outage.fault;
    if (this.consumed < this.script.sequence.length) return this.script.sequence[this.consumed++];
    let threshold = 0;
    for (const { fault, probability } of this.script.rates) {
      threshold += probability;
      if (draw < threshold) return fault;
    }
    return OK;
  }

  latencyMs(): number {
    const [min, max] = this.script.latencyMs;
    return min === max ? min : min + this.random() * (max - min);
  }
}
