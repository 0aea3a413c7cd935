import { startTracing } from './tracing.js';

// Tracing first, then Nest, loaded only now so that its modules are instrumented.
startTracing();
const { bootstrap } = await import('./bootstrap.js');
await bootstrap();
