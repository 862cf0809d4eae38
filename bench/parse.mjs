#!/usr/bin/env node
// SIP parser benchmark: ours (Rust -> wasm) vs JsSIP vs SIP.js, one Node process.
//
//   npm run bench:parse                      check, then time all implementations
//   npm run bench:parse -- --check           correctness check only (npm test)
//   npm run bench:parse -- --json out.json   also write the results as JSON
//   options: --time <s> (slice per implementation per round, default 2)
//            --rounds <n> (default 3)  --warmup <s> (default 0.5 per impl)
//            --only wasm,jssip,sipjs  (explicit subset; the run is marked PARTIAL)
//
// Exit codes: 0 ok, 1 check failed, 2 wasm build missing / usage error.
// See bench/README.md.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { hrtime } from "node:process";
import { ROOT, WASM_BIN, jssipAdapter, sipjsAdapter, wasmAdapter, WasmMissingError } from "./adapters.mjs";

const CORPUS_DIR = path.join(ROOT, "bench", "corpus");
const ALL_IMPLS = ["wasm", "jssip", "sipjs"];

// ---------------------------------------------------------------------------
// Known deviations of the JS libraries, found by this check. Each entry says
// what the library returns (`got`) and what the message really contains
// (`correct`). The library's value must still equal `got` exactly (so a
// library upgrade that changes behaviour is noticed), and `correct` is used in
// its place for the cross-implementation comparison. Our wasm parser gets NO
// entries here: it must match the manifest and the consensus.

const VIA_23_ALL = [
  { transport: "WSS", host: "203.0.113.10", port: 443, branch: "z9hG4bK6e3a.f1c2d3e4b5a6978812ab34cd56ef7890.0" },
  { transport: "UDP", host: "192.0.2.5", port: 5060, branch: "z9hG4bKc81d.5f0e2a4c6b8d0f1e3a5c7e9b1d3f5a70.0" },
  { transport: "UDP", host: "192.0.2.50", port: 5060, branch: "z9hG4bK1819284734" },
];
const VIA_23_LAST_OF_LINE_ONLY = [VIA_23_ALL[0], VIA_23_ALL[2]];
const COMMA_VIA_WHY =
  "a comma-combined Via line ('Via: A, B', RFC 3261 7.3.1) is stored as ONE header entry and its Via " +
  "grammar rule keeps only the last via-parm's fields, so Via 2 of 3 (192.0.2.5, branch z9hG4bKc81d...) " +
  "is silently lost (a response routed with these Vias would skip the edge proxy)";

export const KNOWN_DEVIATIONS = [
  { impl: "jssip", file: "23-invite-multi-via-rr.sip", field: "vias",
    got: VIA_23_LAST_OF_LINE_ONLY, correct: VIA_23_ALL, why: COMMA_VIA_WHY },
  { impl: "sipjs", file: "23-invite-multi-via-rr.sip", field: "vias",
    got: VIA_23_LAST_OF_LINE_ONLY, correct: VIA_23_ALL, why: `${COMMA_VIA_WHY} (SIP.js forked its parser from JsSIP)` },
];

// ---------------------------------------------------------------------------

function usage(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error("usage: node bench/parse.mjs [--check] [--json out.json] [--time s] [--rounds n] [--warmup s] [--only wasm,jssip,sipjs]");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { check: false, json: null, time: 2, rounds: 3, warmup: 0.5, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === "--check") o.check = true;
    else if (a === "--json") o.json = val();
    else if (a === "--time") o.time = Number(val());
    else if (a === "--rounds") o.rounds = Number(val());
    else if (a === "--warmup") o.warmup = Number(val());
    else if (a === "--only") o.only = val().split(",").map((s) => s.trim()).filter(Boolean);
    else if (a === "-h" || a === "--help") usage();
    else usage(`unknown argument ${a}`);
  }
  if (!(o.time > 0) || !(o.rounds >= 1) || !(o.warmup >= 0)) usage("--time/--rounds/--warmup must be positive numbers");
  if (o.only) for (const id of o.only) if (!ALL_IMPLS.includes(id)) usage(`--only: unknown implementation ${id} (known: ${ALL_IMPLS.join(", ")})`);
  return o;
}

function loadCorpus() {
  const manifest = JSON.parse(fs.readFileSync(path.join(CORPUS_DIR, "manifest.json"), "utf8"));
  const files = fs.readdirSync(CORPUS_DIR).filter((f) => f.endsWith(".sip")).sort();
  const listed = manifest.map((m) => m.file).sort();
  if (JSON.stringify(files) !== JSON.stringify(listed)) {
    throw new Error(`corpus/manifest mismatch: files ${files.join(",")} vs manifest ${listed.join(",")}`);
  }
  // Decode once, up front, as a WebSocket text frame reaches JS: a UTF-8 string.
  return manifest.map((m) => {
    const buf = fs.readFileSync(path.join(CORPUS_DIR, m.file));
    if (buf.length !== m.bytes) throw new Error(`${m.file}: ${buf.length} bytes on disk, manifest says ${m.bytes} (corpus altered? see bench/corpus/.gitattributes)`);
    return { ...m, text: new TextDecoder("utf-8", { fatal: true }).decode(buf) };
  });
}

// ---------------------------------------------------------------------------
// Check

const MANIFEST_FIELDS = ["kind", "method", "status", "callId", "cseq", "bodyBytes"];

// Fields compared across implementations (derived from the inspect shape).
function crossFields(s) {
  return {
    vias: Array.isArray(s.vias)
      ? s.vias.map((v) => ({ transport: String(v.transport).toUpperCase(), host: v.host, port: v.port ?? null, branch: v.branch ?? null }))
      : s.vias,
    fromTag: s.from?.tag ?? null,
    toTag: s.to?.tag ?? null,
    cseqMethod: s.cseqMethod,
    contactCount: Array.isArray(s.contacts) ? s.contacts.length : s.contacts,
    contentLength: s.contentLength ?? null,
  };
}

const SHAPE_TYPES = {
  kind: "string", method: "string", callId: "string", cseq: "number", cseqMethod: "string",
  vias: "array", from: "object", to: "object", contacts: "array", bodyBytes: "number",
};
function shapeProblems(s) {
  const p = [];
  for (const [k, t] of Object.entries(SHAPE_TYPES)) {
    const ok = t === "array" ? Array.isArray(s[k]) : typeof s[k] === t && s[k] !== null;
    if (!ok) p.push(`field "${k}" should be ${t}, got ${JSON.stringify(s[k])}`);
  }
  if (s.kind === "response" && typeof s.status !== "number") p.push(`response without numeric "status"`);
  if (s.kind === "request" && typeof s.ruri !== "string") p.push(`request without string "ruri"`);
  return p;
}

const J = (v) => JSON.stringify(v);

function runCheck(impls, corpus) {
  const failures = []; // { impl, file, msg }
  const deviationsSeen = [];
  const fail = (impl, file, msg) => failures.push({ impl, file, msg });
  const usedDeviation = new Set();

  for (const m of corpus) {
    const values = new Map(); // impl -> cross fields (with allow-listed corrections applied)
    const corrected = new Set(); // "impl/field" replaced by a KNOWN_DEVIATIONS `correct` value
    for (const impl of impls) {
      let s;
      try {
        s = impl.inspect(m.text);
      } catch (e) {
        fail(impl.id, m.file, `inspect threw: ${e?.stack ?? e}`);
        continue;
      }
      if (!s || s.ok !== true) {
        fail(impl.id, m.file, `rejected the message: ${s?.error ?? J(s)}`);
        continue;
      }
      const probs = shapeProblems(s);
      if (probs.length) {
        for (const p of probs) fail(impl.id, m.file, `inspect shape: ${p}`);
        continue;
      }
      // Timed entry point must accept the message and be deterministic.
      let c1, c2;
      try {
        c1 = impl.bench(m.text);
        c2 = impl.bench(m.text);
      } catch (e) {
        fail(impl.id, m.file, `bench() threw: ${e?.stack ?? e}`);
        continue;
      }
      if (typeof c1 !== "number" || c1 === 0) fail(impl.id, m.file, `bench() returned ${J(c1)} (0 or non-number = rejected)`);
      else if (c1 !== c2) fail(impl.id, m.file, `bench() not deterministic: ${c1} then ${c2}`);
      if (impl.printParse) {
        const p = impl.printParse(m.text);
        if (typeof p !== "number" || p === 0) fail(impl.id, m.file, `bench_print_parse() returned ${J(p)} (0 = rejected)`);
      }

      const devs = KNOWN_DEVIATIONS.filter((d) => d.impl === impl.id && d.file === m.file);
      const fields = { ...Object.fromEntries(MANIFEST_FIELDS.map((f) => [f, s[f] ?? null])), ...crossFields(s) };
      for (const d of devs) {
        if (J(fields[d.field]) !== J(d.got)) {
          fail(impl.id, m.file, `allow-listed deviation on "${d.field}" no longer matches: expected the known-wrong ${J(d.got)}, got ${J(fields[d.field])} (update KNOWN_DEVIATIONS)`);
        } else {
          deviationsSeen.push(d);
        }
        usedDeviation.add(d);
        fields[d.field] = d.correct;
        corrected.add(`${impl.id}/${d.field}`);
      }
      for (const f of MANIFEST_FIELDS) {
        if (J(fields[f]) !== J(m[f] ?? null)) fail(impl.id, m.file, `${f}: got ${J(fields[f])}, manifest says ${J(m[f])}`);
      }
      values.set(impl.id, fields);
    }

    // Cross-check: every implementation that parsed the message must agree.
    if (values.size >= 2) {
      for (const f of Object.keys(crossFields({}))) {
        const byVal = new Map();
        for (const [id, v] of values) {
          const k = J(v[f]);
          if (!byVal.has(k)) byVal.set(k, []);
          byVal.get(k).push(id);
        }
        if (byVal.size <= 1) continue;
        // "*" marks a value that is the allow-list correction, not what the library returned.
        const star = (id) => (corrected.has(`${id}/${f}`) ? `${id}*` : id);
        const groups = [...byVal.entries()]
          .map(([val, ids]) => [val, ids.map(star)])
          .sort((a, b) => b[1].length - a[1].length);
        const [majVal, majIds] = groups[0];
        if (majIds.length > groups[1][1].length) {
          for (const [val, ids] of groups.slice(1)) {
            for (const id of ids) fail(id.replace("*", ""), m.file, `disagrees on ${f}: ${val}; ${majIds.join("+")} say ${majVal}`);
          }
        } else {
          const desc = groups.map(([val, ids]) => `${ids.join("+")}=${val}`).join("  vs  ");
          for (const [, ids] of groups) for (const id of ids) fail(id.replace("*", ""), m.file, `no consensus on ${f}: ${desc}`);
        }
      }
    }
  }
  // An allow-list entry whose implementation ran but never matched is stale.
  for (const d of KNOWN_DEVIATIONS) {
    if (impls.some((i) => i.id === d.impl) && !usedDeviation.has(d) && corpus.some((m) => m.file === d.file)) {
      fail(d.impl, d.file, `KNOWN_DEVIATIONS entry for "${d.field}" was not exercised`);
    }
  }
  return { failures, deviationsSeen };
}

function printCheck(impls, corpus, { failures, deviationsSeen }) {
  console.log(`check: ${corpus.length} messages x ${impls.length} implementations (${impls.map((i) => i.id).join(", ")})`);
  for (const d of deviationsSeen) console.log(`  known deviation of ${d.impl}: ${d.file} ${d.field}: ${d.why}`);
  for (const impl of impls) {
    const mine = failures.filter((f) => f.impl === impl.id);
    if (mine.length === 0) {
      console.log(`  ${impl.label.padEnd(16)} OK`);
    } else {
      console.log(`  ${impl.label.padEnd(16)} ${mine.length} MISMATCH(ES):`);
      for (const f of mine) console.log(`    ${f.file}: ${f.msg}`);
    }
  }
  if (failures.some((f) => f.msg.includes("*"))) console.log("  (id* = that library's value is the KNOWN_DEVIATIONS correction, not what it returned)");
  console.log(failures.length === 0 ? "check: PASS" : `check: FAIL (${failures.length} mismatches)`);
}

// ---------------------------------------------------------------------------
// Timing

function runSlice(fn, texts, ms) {
  let n = 0;
  let sink = 0;
  const t0 = hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(ms * 1e6));
  let t;
  do {
    for (let i = 0; i < texts.length; i++) sink = (sink + fn(texts[i])) | 0;
    n += texts.length;
    t = hrtime.bigint();
  } while (t < deadline);
  return { msgs: n, ns: Number(t - t0), sink };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function fmtInt(x) {
  return Math.round(x).toLocaleString("en-US");
}

function runTiming(impls, corpus, opts) {
  const texts = corpus.map((m) => m.text);
  const entries = [];
  for (const impl of impls) {
    entries.push({ id: impl.id, label: impl.label, fn: impl.bench, impl });
    if (impl.id === "wasm") {
      entries.push(impl.printParse
        ? { id: "wasm-print-parse", label: "ours print+parse", fn: impl.printParse, impl }
        : { id: "wasm-print-parse", label: "ours print+parse", fn: null, impl });
      if (impl.transfer) entries.push({ id: "wasm-transfer", label: "string in only: encodeInto (SDK)", fn: impl.transfer, impl });
      if (impl.transferStr) entries.push({ id: "wasm-transfer-str", label: "string in only: wasm-bindgen &str", fn: impl.transferStr, impl });
    }
  }
  const timed = entries.filter((e) => e.fn);
  let sink = 0;
  process.stdout.write(`warm-up ${opts.warmup}s each`);
  for (const e of timed) { sink ^= runSlice(e.fn, texts, opts.warmup * 1000).sink; process.stdout.write("."); }
  process.stdout.write("\n");
  const rates = new Map(timed.map((e) => [e.id, []]));
  for (let r = 0; r < opts.rounds; r++) {
    process.stdout.write(`round ${r + 1}/${opts.rounds}:`);
    // Rotate the order each round so no implementation always runs first/last.
    for (let k = 0; k < timed.length; k++) {
      const e = timed[(k + r) % timed.length];
      const res = runSlice(e.fn, texts, opts.time * 1000);
      sink ^= res.sink;
      const rate = res.msgs / (res.ns / 1e9);
      rates.get(e.id).push(rate);
      process.stdout.write(` ${e.id} ${fmtInt(rate)}/s`);
    }
    process.stdout.write("\n");
  }
  const results = entries.map((e) => {
    if (!e.fn) return { id: e.id, label: e.label, available: false };
    const rs = rates.get(e.id);
    const med = median(rs);
    return { id: e.id, label: e.label, available: true, msgsPerSec: med, usPerMsg: 1e6 / med, rounds: rs };
  });
  const js = results.find((r) => r.id === "jssip" && r.available);
  for (const r of results) if (r.available) r.ratioToJssip = js ? r.msgsPerSec / js.msgsPerSec : null;
  return { results, sink };
}

function printTable(results) {
  const rows = [["implementation", "msgs/s", "µs/msg", "vs JsSIP", "rounds (msgs/s)"]];
  for (const r of results) {
    if (!r.available) { rows.push([r.label, "n/a", "n/a", "n/a", "(bench_print_parse not exported)"]); continue; }
    rows.push([
      r.label, fmtInt(r.msgsPerSec), r.usPerMsg.toFixed(2),
      r.ratioToJssip == null ? "n/a" : `${r.ratioToJssip.toFixed(2)}x`,
      r.rounds.map(fmtInt).join(" / "),
    ]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row) => row.map((cell, c) => (c === 0 || c === 4 ? cell.padEnd(w[c]) : cell.padStart(w[c]))).join("  ");
  console.log(line(rows[0]));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const row of rows.slice(1)) console.log(line(row));
}

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const wanted = opts.only ?? ALL_IMPLS;
  const partial = wanted.length < ALL_IMPLS.length;
  if (partial) {
    console.log(`*** PARTIAL RUN: only ${wanted.join(", ")} (excluded: ${ALL_IMPLS.filter((i) => !wanted.includes(i)).join(", ")}) ***`);
  }

  const corpus = loadCorpus();
  const impls = [];
  for (const id of wanted) {
    if (id === "wasm") impls.push(await wasmAdapter());
    if (id === "jssip") impls.push(jssipAdapter());
    if (id === "sipjs") impls.push(await sipjsAdapter());
  }
  const wasm = impls.find((i) => i.id === "wasm");
  if (wasm?.stale) {
    console.error(`WARNING: ${path.relative(ROOT, WASM_BIN) || WASM_BIN} is older than src/ or Cargo.toml: rebuild with bash bench/build-wasm.sh`);
  }

  const check = runCheck(impls, corpus);
  printCheck(impls, corpus, check);
  if (check.failures.length) process.exit(1);
  if (opts.check) return;

  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model ?? "unknown", cores: cpus.length, node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`, loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  };
  const bytes = corpus.reduce((a, m) => a + m.bytes, 0);
  console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.os}, loadavg ${machine.loadavg.join(" ")}`);
  console.log(`corpus: ${corpus.length} messages, ${bytes} bytes; ${opts.rounds} rounds x ${opts.time}s per implementation (median reported)`);
  if (wasm) {
    const bi = wasm.buildInfo;
    console.log(`wasm: ${wasm.wasmBytes} bytes${bi ? `, cargo profile ${bi.profile}, ${bi.rustc}, wasm-bindgen ${bi.wasmBindgen}, built ${bi.builtAt}` : " (no build-info.json)"}${wasm.stale ? " (STALE)" : ""}`);
  }
  const { results, sink } = runTiming(impls, corpus, opts);
  console.log("");
  printTable(results);
  if (partial) console.log(`\n*** PARTIAL RUN: ${ALL_IMPLS.filter((i) => !wanted.includes(i)).join(", ")} not measured ***`);

  if (opts.json) {
    const out = {
      date: new Date().toISOString(),
      partial,
      machine,
      corpus: { messages: corpus.length, bytes },
      config: { sliceSeconds: opts.time, rounds: opts.rounds, warmupSeconds: opts.warmup },
      implementations: impls.map((i) => ({
        id: i.id, label: i.label, version: i.version, invocation: i.invocation,
        ...(i.id === "wasm" ? { wasmBytes: i.wasmBytes, buildInfo: i.buildInfo, stale: i.stale, printParseExported: !!i.printParse } : {}),
      })),
      knownDeviations: check.deviationsSeen.map(({ impl, file, field, why }) => ({ impl, file, field, why })),
      results: results.map(({ id, label, available, msgsPerSec, usPerMsg, ratioToJssip, rounds }) =>
        ({ id, label, available, msgsPerSec, usPerMsg, ratioToJssip, rounds })),
      sink,
    };
    fs.writeFileSync(opts.json, JSON.stringify(out, null, 2) + "\n");
    console.log(`\nwrote ${opts.json}`);
  }
}

main().catch((e) => {
  if (e instanceof WasmMissingError) {
    console.error(`\nERROR: ${e.message}`);
    process.exit(2);
  }
  console.error(e?.stack ?? e);
  process.exit(1);
});
