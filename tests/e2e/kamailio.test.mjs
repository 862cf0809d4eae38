// The rig's Kamailio on its own (no browser): WebSocket handshake, RFC 5626 CRLF
// keep-alive over WebSocket, OPTIONS, the digest challenge, stop/restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { connectRawWs, OP } from '../rig/rawws.mjs';
import { withRig, DOMAIN } from './helpers.mjs';

const sipRequest = (method, ruri, { to = ruri, extra = '' } = {}) => [
  `${method} ${ruri} SIP/2.0`,
  `Via: SIP/2.0/WS rawclient.invalid;branch=z9hG4bK${Math.random().toString(36).slice(2)}`,
  'Max-Forwards: 70',
  `To: <${to}>`,
  `From: <sip:1001@${DOMAIN}>;tag=raw1`,
  `Call-ID: raw-${Math.random().toString(36).slice(2)}`,
  `CSeq: 1 ${method}`,
  ...(extra ? [extra] : []),
  'Content-Length: 0', '', ''].join('\r\n');

const statusLine = (f) => f?.payload.split('\r\n')[0];

test('kamailio: WS handshake, CRLF keep-alive pong, OPTIONS, REGISTER challenge', async () => {
  await withRig(async ({ kam }) => {
    const ws = await connectRawWs(kam.wsUrl);
    try {
      // RFC 5626 keep-alive over RFC 7118: "\r\n\r\n" in a text frame -> "\r\n" in a text frame
      ws.send('\r\n\r\n');
      const pong = await ws.waitFrame(() => true);
      assert.ok(pong, 'no reply to a CRLFCRLF ping');
      assert.equal(pong.op, OP.TEXT);
      assert.equal(pong.payload, '\r\n');

      // a WebSocket-level PING is answered with a PONG carrying the same data
      let from = ws.frames.length;
      ws.send('rig-ping', OP.PING);
      const wsPong = await ws.waitFrame((f) => f.op === OP.PONG, { from });
      assert.equal(wsPong?.payload, 'rig-ping');

      // OPTIONS to the server itself: 200
      from = ws.frames.length;
      ws.send(sipRequest('OPTIONS', `sip:${DOMAIN}`));
      const opt = await ws.waitFrame((f) => f.payload.startsWith('SIP/2.0'), { from });
      assert.equal(statusLine(opt), 'SIP/2.0 200 OK');

      // REGISTER without credentials: 401 with a digest challenge for realm sipwasm.test
      from = ws.frames.length;
      ws.send(sipRequest('REGISTER', `sip:${DOMAIN}`, { to: `sip:1001@${DOMAIN}`,
        extra: 'Contact: <sip:raw@rawclient.invalid;transport=ws>\r\nExpires: 60' }));
      const reg = await ws.waitFrame((f) => f.payload.startsWith('SIP/2.0'), { from });
      assert.equal(statusLine(reg), 'SIP/2.0 401 Unauthorized');
      assert.match(reg.payload, /WWW-Authenticate: Digest realm="sipwasm\.test", nonce="[^"]+", qop="auth"/);

      // INVITE without credentials: 407
      from = ws.frames.length;
      ws.send(sipRequest('INVITE', `sip:1002@${DOMAIN}`, { extra: 'Contact: <sip:raw@rawclient.invalid;transport=ws>' }));
      const inv = await ws.waitFrame((f) => f.payload.startsWith('SIP/2.0 407'), { from });
      assert.match(inv?.payload ?? '', /Proxy-Authenticate: Digest realm="sipwasm\.test"/);
    } finally {
      ws.close();
    }

    // plain HTTP on the WS port: 404, not a WebSocket
    const status = await new Promise((resolve, reject) => {
      http.get(kam.wsUrl.replace('ws:', 'http:'), { agent: false }, (res) => { res.resume(); resolve(res.statusCode); })
        .once('error', reject);
    });
    assert.equal(status, 404);

    assert.deepEqual(await kam.ulDump(), {});
  }, { browser: false });
});

test('kamailio: stop() leaves no process, restart() comes back on the same port', async () => {
  await withRig(async ({ kam }) => {
    const { pid, port, wsUrl } = kam;
    await kam.stop();
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.throws(() => process.kill(-pid, 0), { code: 'ESRCH' }, 'a child of kamailio is still running');
    const refused = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(true));
    });
    assert.ok(refused, 'WS port still accepts connections after stop()');

    await kam.restart();
    assert.notEqual(kam.pid, pid);
    assert.equal(kam.wsUrl, wsUrl);
    const ws = await connectRawWs(kam.wsUrl);
    ws.send('\r\n\r\n');
    assert.equal((await ws.waitFrame(() => true))?.payload, '\r\n');
    ws.close();
  }, { browser: false });
});
