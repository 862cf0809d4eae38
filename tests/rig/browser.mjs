// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) plus a tiny
// static HTTP server on 127.0.0.1 that serves the repository, so pages load over
// http://127.0.0.1:<port>/ (tests/e2e/*.html, pkg/, node_modules/, tests/e2e/build/).
//
//   const b = await launchBrowser();
//   const page = await b.newPage('/tests/e2e/peer.html', 'alice');
//   ...
//   b.printConsole();            // on failure: every page's console, tagged with its name
//   await b.close();             // browser, server and user-data dir gone
import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

/** Static files of `root` (default: the repo) on http://127.0.0.1:<random free port>/. GET/HEAD only, no caching. */
export function startStaticServer({ root = REPO, port = 0 } = {}) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405); res.end(); return; }
    let file = path.normalize(path.join(base, decodeURIComponent(url.pathname)));
    if (file !== base && !file.startsWith(base + path.sep)) { res.writeHead(403); res.end(); return; }
    fs.stat(file, (err, st) => {
      if (!err && st.isDirectory()) { file = path.join(file, 'index.html'); }
      fs.readFile(file, (err2, data) => {
        if (err2) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end(`not found: ${url.pathname}\n`); return; }
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : data);
      });
    });
  });
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({
        port: p,
        url: `http://127.0.0.1:${p}`,
        close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
      });
    });
  });
}

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-background-networking', '--disable-quic', '--disable-component-update',
  '--disable-sync', '--no-first-run',
  '--autoplay-policy=no-user-gesture-required', '--disable-breakpad', '--disable-crash-reporter',
  // keep timers of background pages (several tabs in one browser) running
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/**
 * Launches Chromium with a fresh temp user-data dir and a static server for the repo.
 * Options: `args` added to CHROMIUM_ARGS, `dropArgs` removed from them (e.g.
 * '--use-fake-ui-for-media-stream', so that `permissions: []` really denies media),
 * `permissions` granted (default microphone and camera), `server`.
 * Returns { context, baseUrl, newPage(pathname, name), console, printConsole(), screenshot(page, name), close() }.
 */
export async function launchBrowser({ args = [], dropArgs = [], permissions = ['microphone', 'camera'], server } = {}) {
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sipwasm-chromium-'));
  const srv = server ?? (await startStaticServer());
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: false, // --headless=new below: the real (new) headless mode of the full browser
      args: [...CHROMIUM_ARGS.filter((a) => !dropArgs.includes(a)), ...args],
      viewport: { width: 800, height: 600 },
      permissions,
      // keep Chromium's own config/cache writes (crashpad, dconf) inside the temp dir too
      env: { ...process.env, XDG_CONFIG_HOME: path.join(userDataDir, 'xdg-config'), XDG_CACHE_HOME: path.join(userDataDir, 'xdg-cache') },
    });
  } catch (e) {
    if (!server) await srv.close();
    await fsp.rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
  const log = []; // { t, page, type, text }
  const t0 = Date.now();
  const pages = [];
  const attach = (page, name) => {
    page.on('console', (m) => log.push({ t: Date.now() - t0, page: name, type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => log.push({ t: Date.now() - t0, page: name, type: 'pageerror', text: String(e?.stack || e) }));
    page.on('crash', () => log.push({ t: Date.now() - t0, page: name, type: 'crash', text: 'page crashed' }));
    page.on('requestfailed', (r) => log.push({ t: Date.now() - t0, page: name, type: 'requestfailed', text: `${r.url()} ${r.failure()?.errorText}` }));
  };
  // a persistent context opens with one blank page: reuse it for the first newPage()
  let spare = context.pages()[0] ?? null;

  const b = {
    context,
    baseUrl: srv.url,
    userDataDir,
    console: log,
    /** Opens `pathname` (served from the repo) in a new tab; `name` tags its console lines. */
    async newPage(pathname, name = `page${pages.length + 1}`) {
      const page = spare ?? (await context.newPage());
      spare = null;
      attach(page, name);
      pages.push(page);
      await page.goto(new URL(pathname, srv.url).href, { waitUntil: 'load' });
      return page;
    },
    consoleText() {
      return log.map((l) => `[${(l.t / 1000).toFixed(3)}s ${l.page} ${l.type}] ${l.text}`).join('\n');
    },
    printConsole(out = console.error) { out(`---- browser console (${log.length} lines) ----\n${b.consoleText()}\n---- end of browser console ----`); },
    /** Saves a PNG of `page` under dir (default: the OS temp dir) and returns its path. */
    async screenshot(page, name = 'page', dir = os.tmpdir()) {
      const file = path.join(dir, `sipwasm-${name}-${Date.now()}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      try { await context.close(); } catch { /* already gone */ }
      if (!server) await srv.close();
      await fsp.rm(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
  return b;
}
