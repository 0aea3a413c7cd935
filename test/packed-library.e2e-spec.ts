import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { FaultUpstream } from '@app/fault-upstream';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
// What a user's app already has; linked from this repo's install so the test needs no network.
const HOST_APP_PACKAGES = ['@nestjs', '@opentelemetry', '@types', 'openai', 'reflect-metadata', 'rxjs', 'typeorm', 'express'];

const CONSUMERS = [
  { format: 'ESM', fixture: 'packed-app', type: 'module', entry: 'dist/index.js' },
  { format: 'CommonJS', fixture: 'packed-app-cjs', type: 'commonjs', entry: 'dist/cjs/index.js' },
];

/**
 * The library as users get it: `npm pack`, installed as a tarball into a separate Nest app
 * outside the monorepo (no path aliases), compiled against the shipped .d.ts, booted, called;
 * once as an ESM app and once as a CommonJS one.
 */
describe('the packed @resilient-llm/nestjs in a separate app', () => {
  let packDir: string;
  let tarball: string;

  beforeAll(async () => {
    packDir = await mkdtemp(join(tmpdir(), 'resilient-llm-packed-'));
    const { stdout } = await run('npm', ['pack', '--pack-destination', packDir, '--loglevel=error'], { cwd: join(root, 'libs/resilient-llm') });
    tarball = join(packDir, stdout.trim().split('\n').at(-1)!);
  });
  afterAll(async () => {
    await rm(packDir, { recursive: true, force: true });
  });

  describe.each(CONSUMERS)('as an $format app', ({ fixture, type, entry }) => {
    let workDir: string;
    let upstream: FaultUpstream;
    let consumer: ChildProcess | undefined;

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), `resilient-llm-${fixture}-`));
      const appDir = join(workDir, 'consumer');
      await mkdir(appDir);
      await writeFile(
        join(appDir, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true, type, dependencies: { '@resilient-llm/nestjs': `file:${tarball}` } }),
      );
      // --legacy-peer-deps: install the tarball alone; the host app's packages are linked next.
      // --prefer-offline: npm ci leaves tarballs in the cache but not the registry's package documents.
      await run('npm', ['install', '--prefer-offline', '--legacy-peer-deps', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: appDir });
      for (const name of HOST_APP_PACKAGES) {
        await symlink(join(root, 'node_modules', name), join(appDir, 'node_modules', name), 'dir');
      }
      await cp(join(root, 'test/fixtures', fixture), appDir, { recursive: true });
      await cp(join(root, 'test/fixtures/packed-app-shared/consumer.module.ts'), join(appDir, 'consumer.module.ts'));
      await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: appDir });

      upstream = await FaultUpstream.start({ faults: { sequence: ['503', 'ok'] } });
    });

    afterAll(async () => {
      consumer?.kill('SIGTERM');
      await upstream?.stop();
      await rm(workDir, { recursive: true, force: true });
    });

    it('boots from the installed tarball and makes a guarded call that retries', async () => {
      consumer = spawn(process.execPath, ['dist/main.js'], {
        cwd: join(workDir, 'consumer'),
        env: { ...process.env, UPSTREAM_BASE_URL: upstream.baseURL },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const firstLine = await new Promise<string>((resolveLine, reject) => {
        createInterface({ input: consumer!.stdout! }).once('line', resolveLine);
        consumer!.once('exit', (code) => reject(new Error(`the consumer app exited with ${code} before listening`)));
      });
      const { port, resolved, testingExport } = JSON.parse(firstLine);
      expect(resolved).toContain(join(workDir, 'consumer/node_modules/@resilient-llm/nestjs', entry).replace(/^\/private/, ''));
      expect(testingExport).toBe('function');

      const response = await fetch(`http://127.0.0.1:${port}/ask`, { method: 'POST' });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ usage: { completion_tokens: 24 } });
      expect(upstream.stats()).toMatchObject({ totalRequests: 2, byOutcome: { '503': 1, '200': 1 } });
    });
  });
});
