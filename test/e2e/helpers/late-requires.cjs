// Preloaded (--require) into a built server by cold-start e2e specs: appends to LATE_REQUIRES_FILE every module
// file compiled after the server starts listening (work a request would otherwise pay for).
const Module = require('node:module');
const http = require('node:http');
const { appendFileSync } = require('node:fs');

const file = process.env.LATE_REQUIRES_FILE;
let listening = false;
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  this.once('listening', () => {
    listening = true;
  });
  return listen.apply(this, args);
};
for (const extension of ['.js', '.json', '.node']) {
  const load = Module._extensions[extension];
  Module._extensions[extension] = function (module, filename) {
    if (listening && file) appendFileSync(file, `${filename}\n`);
    return load.call(this, module, filename);
  };
}
