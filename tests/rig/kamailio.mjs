// Runs the rig's Kamailio (tests/rig/kamailio.cfg) in the foreground, on 127.0.0.1 only,
// with every runtime file (ctl socket, pid file, log) in a fresh temp dir.
//
//   const kam = await startKamailio();          // free ports picked for WS and SIP
//   kam.wsUrl                                   // ws://127.0.0.1:<port>/ (subprotocol "sip")
//   await kam.ulDump()                          // { '1001': [{ address, received, ... }] }
//   await kam.restart(); await kam.stop();
//
// Run by hand for debugging: `node tests/rig/kamailio.mjs [wsPort] [sipPort]`
// (defaults 8088 and 5060; Ctrl-C stops it).
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CFG = path.join(here, 'kamailio.cfg');
export const DOMAIN = 'sipwasm.test';
export const USERS = Object.fromEntries([1001, 1002, 1003, 1004, 1005, 1006].map((u) => [String(u), `pass${u}`]));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that is free right now (also checked for UDP when `udp`). */
export async function freePort({ udp = false } = {}) {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address();
        srv.close(() => resolve(port));
      });
    });
    if (!udp || (await udpFree(port))) return port;
  }
  throw new Error('no free port found');
}

async function udpFree(port) {
  const dgram = await import('node:dgram');
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.setTimeout(500, () => { s.destroy(); resolve(false); });
  });
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

function groupAlive(pgid) {
  try { process.kill(-pgid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

/**
 * Start Kamailio. Options:
 *   port     WebSocket port (default: a free one)
 *   sipPort  UDP+TCP SIP port (default: a free one)
 *   debug    Kamailio log level (default 2 = info; 3 = debug, logs every WS frame)
 *   timeoutMs  start-up timeout (default 15000)
 */
export async function startKamailio(opts = {}) {
  const port = opts.port ?? (await freePort());
  const sipPort = opts.sipPort ?? (await freePort({ udp: true }));
  const debug = opts.debug ?? Number(process.env.KAMAILIO_DEBUG || 2);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sipwasm-kam-'));
  const logFile = path.join(dir, 'kamailio.log');
  const ctlSock = path.join(dir, 'ctl.sock');
  const pidFile = path.join(dir, 'kamailio.pid');
  const wsUrl = `ws://127.0.0.1:${port}/`;

  let child = null;
  let exited = null; // promise resolved with { code, signal } once the main process is gone

  async function launch() {
    const logFd = fs.openSync(logFile, 'a');
    const args = ['-DD', '-E', '-f', CFG, '-Y', dir, '-P', pidFile, '-m', '64', '-M', '8',
      '-A', `WS_PORT=${port}`, '-A', `SIP_PORT=${sipPort}`, '-A', `CTL_SOCK="unix:${ctlSock}"`,
      '-A', `DEBUG_LEVEL=${debug}`];
    // registrar max_expires: a short one makes the SDK refresh quickly in tests
    if (opts.maxExpires) args.push('-A', `MAX_EXPIRES=${opts.maxExpires}`);
    fs.writeSync(logFd, `\n==== ${new Date().toISOString()} kamailio ${args.join(' ')}\n`);
    // detached: own process group, so the children can be found (and killed) as a group
    child = spawn('kamailio', args, { cwd: dir, detached: true, stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    const c = child;
    exited = new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
    c.once('error', (e) => fs.appendFileSync(logFile, `spawn error: ${e.message}\n`));
    let gone = false;
    exited.then(() => { gone = true; });
    const deadline = Date.now() + (opts.timeoutMs ?? 15000);
    while (Date.now() < deadline) {
      if (gone) throw new Error(`kamailio exited during start-up; log ${logFile}:\n${tail()}`);
      if ((await canConnect(port)) && fs.existsSync(ctlSock)) return;
      await sleep(50);
    }
    await stopProcess();
    throw new Error(`kamailio did not listen on ${port} within the timeout; log ${logFile}:\n${tail()}`);
  }

  function tail(lines = 200) {
    try { return fs.readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return ''; }
  }

  async function stopProcess(timeoutMs = 5000) {
    if (!child) return;
    const c = child;
    child = null;
    const pid = c.pid;
    if (c.exitCode === null && c.signalCode === null) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      let timer;
      const t = await Promise.race([exited.then(() => 'exited'),
        new Promise((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); })]);
      clearTimeout(timer);
      if (t === 'timeout') {
        try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
        await exited;
      }
    }
    // children of the main process share its process group: wait until all are gone
    const deadline = Date.now() + timeoutMs;
    while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
    if (groupAlive(pid)) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      await sleep(200);
    }
    if (alive(pid) || groupAlive(pid)) throw new Error(`kamailio (pid ${pid}) still running after stop`);
    fs.rmSync(ctlSock, { force: true });
  }

  await launch();

  const kam = {
    get pid() { return child?.pid ?? null; },
    port, sipPort, wsUrl, dir, logFile, ctlSock, domain: DOMAIN, users: USERS,
    /** SIGTERM (SIGKILL after timeoutMs), verified gone. Keeps the temp dir. */
    async stop() { await stopProcess(); },
    /** Stop and start again on the same ports (log appended). */
    async restart() { await stopProcess(); await launch(); },
    /** Stop and remove the temp dir (log included). */
    async dispose() { await stopProcess(); await fsp.rm(dir, { recursive: true, force: true }); },
    /** The log so far (last `lines` lines). */
    log: tail,
    /** kamcmd -s <ctl> <cmd...>: raw text output */
    kamcmd: (...cmd) => kamcmd(ctlSock, cmd),
    /** Registered contacts: { AOR: [{ address, expires, received, socket, userAgent, ... }] } */
    async ulDump() { return parseUlDump(await kamcmd(ctlSock, ['ul.dump'])); },
  };
  return kam;
}

function kamcmd(sock, cmd) {
  return new Promise((resolve, reject) => {
    execFile('kamcmd', ['-s', `unix:${sock}`, ...cmd], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kamcmd ${cmd.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Parses kamcmd's indented "Key: value" / "Key: {" ... "}" tree into nested [key, value] lists. */
export function parseKamcmdTree(text) {
  const root = [];
  const stack = [root];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line === '}') { if (stack.length > 1) stack.pop(); continue; }
    if (line === '{') { const node = []; stack.at(-1).push(['', node]); stack.push(node); continue; }
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === '{') { const node = []; stack.at(-1).push([m[1], node]); stack.push(node); }
    else stack.at(-1).push([m[1], m[2]]);
  }
  return root;
}

const camel = (k) => k.toLowerCase().replace(/[-_ ]+(.)/g, (_, c) => c.toUpperCase());

/** ul.dump → { aor: [contact, ...] } with contact fields in camelCase (address, expires, received, ...). */
export function parseUlDump(text) {
  const out = {};
  const walk = (node) => {
    for (const [k, v] of node) {
      if (!Array.isArray(v)) continue;
      if (k === 'Info' || (k === '' && v.some(([kk]) => kk === 'AoR'))) {
        const aor = v.find(([kk]) => kk === 'AoR')?.[1];
        const contacts = [];
        const cs = v.find(([kk]) => kk === 'Contacts')?.[1] ?? [];
        for (const [ck, cv] of cs) {
          if (ck !== 'Contact' || !Array.isArray(cv)) continue;
          contacts.push(Object.fromEntries(cv.filter(([, x]) => !Array.isArray(x)).map(([a, b]) => [camel(a), b])));
        }
        if (aor !== undefined) out[aor] = contacts;
      } else walk(v);
    }
  };
  walk(parseKamcmdTree(text));
  return out;
}

// CLI: run the rig's Kamailio by hand.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] || 8088);
  const sipPort = Number(process.argv[3] || 5060);
  const kam = await startKamailio({ port, sipPort });
  console.log(`kamailio pid ${kam.pid}: ${kam.wsUrl} (sip udp/tcp 127.0.0.1:${sipPort}), domain ${DOMAIN}`);
  console.log(`log: ${kam.logFile}\nkamcmd -s unix:${kam.ctlSock} ul.dump`);
  const bye = async () => { await kam.dispose(); process.exit(0); };
  process.on('SIGINT', bye);
  process.on('SIGTERM', bye);
}
