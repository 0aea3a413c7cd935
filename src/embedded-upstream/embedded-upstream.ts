import { FaultUpstream } from '@app/fault-upstream';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { AppEnvironment } from '../config/environment.js';

/**
 * With no `OPENAI_API_KEY`, the app talks to the project's fault-injecting upstream, started
 * in-process, so that `npm start` works on a fresh machine with no provider account.
 */
export class EmbeddedUpstream implements OnApplicationShutdown {
  private static readonly logger = new Logger('EmbeddedUpstream');

  private constructor(readonly upstream?: FaultUpstream) {}

  static async startUnlessKeyGiven(config: ConfigService<AppEnvironment, true>): Promise<EmbeddedUpstream> {
    if (config.get('OPENAI_API_KEY', { infer: true })) return new EmbeddedUpstream();
    const upstream = await FaultUpstream.start({
      port: config.get('UPSTREAM_PORT', { infer: true }),
      faults: config.get('UPSTREAM_FAULTS', { infer: true }),
    });
    EmbeddedUpstream.logger.log(
      `OPENAI_API_KEY is not set: using the embedded fault-injecting upstream at ${upstream.baseURL} ` +
        `(stats: ${upstream.url}/_upstream/stats, faults: PUT ${upstream.url}/_upstream/faults)`,
    );
    return new EmbeddedUpstream(upstream);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.upstream?.stop();
  }
}
