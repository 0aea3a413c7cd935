// Preloaded (NODE_OPTIONS=--require) into a benchmark process running on another Node major than
// the one node_modules was built for: `better-sqlite3` resolves to a copy built for that Node.
const Module = require('node:module');

const target = process.env.BENCH_BETTER_SQLITE3;
if (target) {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return resolve.call(this, request === 'better-sqlite3' ? target : request, ...rest);
  };
}
