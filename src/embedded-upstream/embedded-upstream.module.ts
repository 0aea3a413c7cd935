import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EmbeddedUpstream } from './embedded-upstream.js';

@Module({
  providers: [{ provide: EmbeddedUpstream, inject: [ConfigService], useFactory: EmbeddedUpstream.startUnlessKeyGiven }],
  exports: [EmbeddedUpstream],
})
export class EmbeddedUpstreamModule {}
