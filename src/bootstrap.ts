import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import type { AppEnvironment } from './config/environment.js';

export async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const port = app.get(ConfigService<AppEnvironment, true>).get('PORT', { infer: true });
  await app.listen(port);
  const logger = new Logger('Bootstrap');
  logger.log(`Example app listening on http://localhost:${port}`);
  logger.log(`Try: curl -s -X POST http://localhost:${port}/chat -H 'content-type: application/json' -d '{"message":"Hello"}'`);
}
