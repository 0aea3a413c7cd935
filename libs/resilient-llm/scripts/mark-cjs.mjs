// The CommonJS build lives under dist/cjs, inside a "type": "module" package: this marks that folder
// as CommonJS, so that Node (and TypeScript) read its .js and .d.ts files as such.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
