// A minimal WebSocket client over node:net (no dependencies), for probing the server
// at the frame level: it sends exactly the frames it is told to and records every frame
// it receives (opcode + payload), control frames included.
import net from 'node:net';
import crypto from 'node:crypto';

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };

export function connectRawWs(url, { protocol = 'sip', timeoutMs = 5000 } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let open = false;
    const frames = [];
    const waiters = [];
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('handshake timeout')); }, timeoutMs);
    sock.once('error', (e) => { if (!open) { clearTimeout(timer); reject(e); } });
    sock.on('connect', () => {
      sock.write(`GET ${u.pathname || '/'} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Protocol: ${protocol}\r\nOrigin: http://127.0.0.1\r\n\r\n`);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        clearTimeout(timer);
        if (!/^HTTP\/1\.1 101/.test(head)) { sock.destroy(); reject(new Error(`handshake failed: ${head}`)); return; }
        const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        if (!head.includes(accept)) { sock.destroy(); reject(new Error('bad Sec-WebSocket-Accept')); return; }
        open = true;
        resolve(api);
      }
      for (;;) {
        if (buf.length < 2) return;
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf[1] & 0x80) off += 4; // servers do not mask; tolerate it anyway
        if (buf.length < off + len) return;
        const f = { op, payload: buf.subarray(off, off + len).toString('utf8'), at: Date.now() };
        buf = buf.subarray(off + len);
        frames.push(f);
        for (const w of waiters.splice(0)) w();
      }
    });
    sock.on('close', () => { for (const w of waiters.splice(0)) w(); });

    const api = {
      frames,
      send(payload, op = OP.TEXT) {
        const data = Buffer.from(payload);
        const mask = crypto.randomBytes(4);
        const hdr = data.length < 126 ? Buffer.from([0x80 | op, 0x80 | data.length])
          : Buffer.concat([Buffer.from([0x80 | op, 0x80 | 126]), Buffer.from([data.length >> 8, data.length & 0xff])]);
        const body = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
        sock.write(Buffer.concat([hdr, mask, body]));
      },
      /** Resolves with the first received frame (from index `from`) matching `pred`, or null on timeout. */
      async waitFrame(pred, { from = 0, timeoutMs = 2000 } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const f = frames.slice(from).find(pred);
          if (f) return f;
          if (sock.destroyed || Date.now() >= deadline) return null;
          await new Promise((r) => {
            const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
            function done() { clearTimeout(timer); r(); }
            waiters.push(done);
          });
        }
      },
      close() { sock.destroy(); },
      get closed() { return sock.destroyed; },
    };
  });
}
