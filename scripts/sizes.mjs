// Prints raw, gzip -9 and brotli (max quality) sizes of the given files, and their total.
// `sizes(bytes)` is the measure, also used by bench/size.mjs.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

/** { raw, gzip, brotli } byte counts of `b`: gzip -9, brotli at quality 11. */
export function sizes(b) {
  return {
    raw: b.length,
    gzip: zlib.gzipSync(b, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = process.argv.slice(2).map((f) => ({ file: f, ...sizes(fs.readFileSync(f)) }));
  const total = rows.reduce((t, r) => ({ file: 'total', raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }),
    { raw: 0, gzip: 0, brotli: 0 });
  const fmt = (n) => n.toLocaleString('en-US').padStart(9);
  console.log(`${'file'.padEnd(24)} ${'raw'.padStart(9)} ${'gzip -9'.padStart(9)} ${'brotli'.padStart(9)}`);
  for (const r of [...rows, total]) console.log(`${r.file.padEnd(24)} ${fmt(r.raw)} ${fmt(r.gzip)} ${fmt(r.brotli)}`);
}
