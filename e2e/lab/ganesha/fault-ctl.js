#!/usr/bin/env node
// Host-side fault-injection server for e2e tests that run inside the guest. Plain Node, no deps.
// Listens on 127.0.0.1:${CSI_E2E_CTL_PORT:-18999}; the guest reaches it as http://10.0.2.2:PORT
// through QEMU's user network.
//   POST /stop | /cont | /kill | /restart   -> ganesha-ctl.sh ACTION
//   GET  /status                            -> ganesha-ctl.sh status
//   GET  /health                            -> {"ok":true}
// Answers JSON {ok, action, code, output}; HTTP 200 when ganesha-ctl.sh exited 0, else 500.
// Actions run one at a time (a restart must not overlap a kill). The ganesha-ctl.sh environment
// (CSI_E2E_WORK, CSI_E2E_NFS_PORT, ...) is this process's. Stops on SIGTERM/SIGINT.
'use strict';
const http = require('node:http');
const path = require('node:path');
const { execFile } = require('node:child_process');

const port = Number(process.env.CSI_E2E_CTL_PORT) || 18999;
const ctl = path.join(__dirname, 'ganesha-ctl.sh');
const ACTIONS = new Set(['stop', 'cont', 'kill', 'restart']);
const log = (m) => console.error(`[fault-ctl ${new Date().toISOString()}] ${m}`);

let queue = Promise.resolve();
function run(action) {
  const p = queue.then(() => new Promise((resolve) => {
    execFile(ctl, [action], { timeout: 60000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ ok: code === 0, action, code, output: `${stdout}${stderr}`.trim() });
    });
  }));
  queue = p;
  return p;
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

const server = http.createServer((req, res) => {
  const name = new URL(req.url, 'http://x').pathname.replace(/^\/+/, '');
  req.resume();
  if (name === 'health') return reply(res, 200, { ok: true });
  const action = name === 'status' ? 'status' : ACTIONS.has(name) ? name : null;
  if (!action) return reply(res, 404, { ok: false, error: `unknown endpoint /${name}` });
  if (action !== 'status' && req.method !== 'POST') return reply(res, 405, { ok: false, error: 'use POST' });
  run(action).then((r) => {
    log(`${action}: code ${r.code} ${r.output}`);
    reply(res, r.ok ? 200 : 500, r);
  });
});
server.listen(port, '127.0.0.1', () => log(`listening on 127.0.0.1:${port} (guest: http://10.0.2.2:${port})`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.close(); process.exit(0); });
