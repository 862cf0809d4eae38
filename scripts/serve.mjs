// The demo's static server on 127.0.0.1 (no dependencies), optionally with the e2e rig's
// Kamailio as a local SIP server (what `npm start` runs, through scripts/start.sh).
//
//   node scripts/serve.mjs                   # serve /www-demo/ and /pkg/ on PORT (default 8080)
//   node scripts/serve.mjs --kamailio        # ... plus Kamailio on ws://127.0.0.1:8088/, two demo
//                                            # accounts prefilled in the demo; Ctrl-C stops both
// Options: --port N (0 = any free port), --ws-port N, --sip-port N (Kamailio; 0 = free ports).
// Environment: PORT, SIP_WS_PORT, SIP_PORT give the same defaults.
//
// Only /www-demo/ and /pkg/ are served; with Kamailio, /www-demo/defaults.json tells the page
// the local server and accounts (the page works without it, against any SIP server).
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVED = /^\/(www-demo|pkg)\//;
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.ts': 'text/plain; charset=utf-8', '.md': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

/**
 * Serves /www-demo/ and /pkg/ of the repo on http://host:port/ ("/" redirects to the demo).
 * `defaults`, when given, is served as /www-demo/defaults.json.
 * Resolves to { port, url, demoUrl, close() }.
 */
export function startServer({ port = 8080, host = '127.0.0.1', defaults = null } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405); return res.end(); }
    if (url.pathname === '/' || url.pathname === '/www-demo') {
      res.writeHead(302, { Location: '/www-demo/' });
      return res.end();
    }
    if (url.pathname === '/www-demo/defaults.json' && defaults) {
      res.writeHead(200, { 'Content-Type': TYPES['.json'], 'Cache-Control': 'no-store' });
      return res.end(req.method === 'HEAD' ? undefined : JSON.stringify(defaults, null, 2));
    }
    let file;
    try { file = path.normalize(path.join(ROOT, decodeURIComponent(url.pathname))); } catch { file = ''; }
    if (!SERVED.test(url.pathname) || !file.startsWith(ROOT + path.sep)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('not found (only /www-demo/ and /pkg/ are served)\n');
    }
    if (url.pathname.endsWith('/')) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) {
        const hint = url.pathname.startsWith('/pkg/') ? ' (build the package: npm run build)' : '';
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        return res.end(`not found: ${url.pathname}${hint}\n`);
      }
      // no-store: a rebuilt package is picked up by a plain reload
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : data);
    });
  });
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const p = server.address().port;
      const base = `http://${host}:${p}`;
      resolve({
        port: p,
        url: base,
        demoUrl: `${base}/www-demo/`,
        close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
      });
    });
  });
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The demo accounts offered with the local Kamailio (the rig's users). */
export const DEMO_USERS = ['1001', '1002'];

/**
 * Kamailio (tests/rig/kamailio.mjs) + the demo server with defaults for it.
 * Resolves to { kam, server, defaults, stop() }.
 */
export async function startDemo({ port = 8080, wsPort = 8088, sipPort = 5060 } = {}) {
  const { startKamailio, USERS, DOMAIN } = await import('../tests/rig/kamailio.mjs');
  // a clear message for a taken port (Kamailio itself would only say it could not bind)
  for (const [p, what] of [[wsPort, 'SIP_WS_PORT'], [sipPort, 'SIP_PORT']]) {
    if (p && !(await portFree(p))) throw new Error(`port ${p} is in use (set ${what} to another port)`);
  }
  const kam = await startKamailio({ port: wsPort || undefined, sipPort: sipPort || undefined });
  const accounts = DEMO_USERS.map((user) => ({
    user, uri: `sip:${user}@${DOMAIN}`, password: USERS[user], displayName: `Demo ${user}`,
  }));
  const defaults = { server: kam.wsUrl, domain: DOMAIN, accounts };
  let server;
  try {
    server = await startServer({ port, defaults });
  } catch (e) {
    await kam.dispose();
    throw e;
  }
  let stopping = null;
  const stop = () => (stopping ??= (async () => {
    await server.close();
    await kam.dispose();
  })());
  return { kam, server, defaults, stop };
}

function parseArgs(argv) {
  const o = { kamailio: false, port: Number(process.env.PORT ?? 8080),
    wsPort: Number(process.env.SIP_WS_PORT ?? 8088), sipPort: Number(process.env.SIP_PORT ?? 5060) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0 || v > 65535) throw new Error(`${a} needs a port number`);
      return v;
    };
    if (a === '--kamailio') o.kamailio = true;
    else if (a === '--port') o.port = num();
    else if (a === '--ws-port') o.wsPort = num();
    else if (a === '--sip-port') o.sipPort = num();
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!o.kamailio) {
    const server = await startServer({ port: o.port });
    console.log(`demo: ${server.demoUrl}`);
    return;
  }
  const demo = await startDemo(o);
  const { kam, server, defaults } = demo;
  // whatever happens to this process, Kamailio does not outlive it
  process.on('exit', () => { if (kam.pid) { try { process.kill(kam.pid, 'SIGTERM'); } catch { /* gone */ } } });
  const lines = [
    '',
    'sipwasm demo',
    `  open        ${server.demoUrl}`,
    `  SIP server  ${defaults.server}  (Kamailio, domain ${defaults.domain}; SIP udp/tcp 127.0.0.1:${kam.sipPort})`,
    '  accounts    (open the demo in two tabs, one account each)',
    ...defaults.accounts.map((a) => `              ${a.uri.padEnd(22)} password ${a.password}`),
    `  kamailio    log ${kam.logFile}`,
    `              registrations: kamcmd -s unix:${kam.ctlSock} ul.dump`,
    '',
    'Ctrl-C stops the server and Kamailio.',
  ];
  console.log(lines.join('\n'));
  const bye = async (sig) => {
    console.log(`\n${sig}: stopping Kamailio...`);
    try {
      await demo.stop();
      console.log('stopped.');
      process.exit(0);
    } catch (e) {
      console.error(`stopping: ${e.message}`);
      process.exit(1);
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => bye(sig));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    const hint = e.code === 'EADDRINUSE' ? ` (port in use: try PORT=8081 npm start, or SIP_WS_PORT / SIP_PORT for Kamailio)` : '';
    console.error(`serve: ${e.message}${hint}`);
    process.exit(1);
  });
}
