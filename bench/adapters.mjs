// Parser adapters for the parse benchmark (bench/parse.mjs).
//
// Every adapter exposes the same unit of work on a message given as a JS
// string (one WebSocket text frame):
//   bench(text)   -> number   timed: parse + validate + extract the fields a UA
//                             reads on every message; returns a checksum over
//                             them (0 = rejected). Same field set for all.
//   inspect(text) -> object   untimed: the same extraction as a JSON-able
//                             object in the shape of the wasm
//                             `inspect_message` contract, for the check.
//
// Fields (all implementations): start line (method + request-URI, or status +
// reason), EVERY Via (transport, sent-by host, port, branch), From/To (URI +
// tag), Call-ID, CSeq (number + method), every Contact URI, Content-Length,
// body.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL, fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, "..");

function pkgVersion(name) {
  return JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
}

const utf8Bytes = (s) => Buffer.byteLength(s, "utf8");

// ---------------------------------------------------------------------------
// Shared code for the two JS libraries. SIP.js's parser is a fork of JsSIP's:
// both return a message whose parsed Via objects carry
// {transport, host, port, branch} and whose URI / NameAddrHeader objects have
// the same getters, so after the library-specific "force" step (which builds a
// small view object) the checksum and the JSON shape are computed identically.

function uriChecksum(u) {
  // What a UA reads from a parsed URI: scheme, user, host, port.
  return u.scheme.length + (u.user ? u.user.length : 0) + u.host.length + (u.port || 0);
}

function viewChecksum(v) {
  let h = 1;
  if (v.kind === "response") h += v.status + v.reason.length;
  else h += v.method.length + uriChecksum(v.ruri);
  for (const via of v.vias) {
    h += via.transport.length + via.host.length + (via.port || 0) + (via.branch ? via.branch.length : 0);
  }
  h += uriChecksum(v.from.uri) + (v.fromTag ? v.fromTag.length : 0);
  h += uriChecksum(v.to.uri) + (v.toTag ? v.toTag.length : 0);
  h += v.callId.length + v.cseq + v.cseqMethod.length;
  for (const c of v.contacts) h += uriChecksum(c.uri);
  h += (v.contentLength ?? 0) + v.body.length;
  return (h | 0) || 1;
}

function viewShape(v) {
  return {
    ok: true,
    kind: v.kind,
    method: v.kind === "request" ? v.method : v.cseqMethod,
    status: v.kind === "response" ? v.status : null,
    reason: v.kind === "response" ? v.reason : null,
    ruri: v.kind === "request" ? v.ruri.toString() : null,
    callId: v.callId,
    cseq: v.cseq,
    cseqMethod: v.cseqMethod,
    vias: v.vias.map((via) => ({
      transport: String(via.transport).toUpperCase(),
      host: via.host,
      port: via.port ?? null,
      branch: via.branch ?? null,
    })),
    from: { uri: v.from.uri.toString(), tag: v.fromTag ?? null },
    to: { uri: v.to.uri.toString(), tag: v.toTag ?? null },
    contacts: v.contacts.map((c) => c.uri.toString()),
    contentLength: v.contentLength ?? null,
    bodyBytes: utf8Bytes(v.body),
  };
}

// Force the lazily parsed headers of a JsSIP / SIP.js IncomingMessage.
// Both parsers eagerly parse only the FIRST Via; every other Via is stored raw
// and parsed on demand by parseHeader('via', i). From, To, Call-ID, CSeq,
// Contact and Content-Length are parsed eagerly (parseHeader returns the cached
// object), so the calls below cost a lookup for those. Returns null when any
// header fails to parse (the library's own accessor returns undefined then).
function forceView(m, lib) {
  const isResponse = lib === "jssip" ? m.status_code != null : m.statusCode != null;
  const nVia = m.getHeaders("via").length;
  if (nVia === 0) return null;
  const vias = new Array(nVia);
  for (let i = 0; i < nVia; i++) {
    const via = m.parseHeader("via", i);
    if (!via) return null;
    vias[i] = via;
  }
  const cseqH = m.parseHeader("cseq");
  if (!cseqH || !m.from || !m.to) return null;
  const callId = lib === "jssip" ? m.call_id : m.callId;
  if (!callId) return null;
  const nContact = m.getHeaders("contact").length;
  const contacts = new Array(nContact);
  for (let i = 0; i < nContact; i++) {
    const c = m.parseHeader("contact", i);
    if (!c) return null;
    contacts[i] = c;
  }
  let contentLength = null;
  if (m.hasHeader("content-length")) {
    contentLength = m.parseHeader("content-length");
    if (contentLength === undefined) return null;
  }
  return {
    kind: isResponse ? "response" : "request",
    method: m.method,
    ruri: isResponse ? null : m.ruri,
    status: isResponse ? (lib === "jssip" ? m.status_code : m.statusCode) : null,
    reason: isResponse ? (lib === "jssip" ? m.reason_phrase : m.reasonPhrase) : null,
    vias,
    from: m.from,
    fromTag: lib === "jssip" ? m.from_tag : m.fromTag,
    to: m.to,
    toTag: lib === "jssip" ? m.to_tag : m.toTag,
    callId,
    cseq: cseqH.value,
    cseqMethod: cseqH.method,
    contacts,
    contentLength,
    body: m.body ?? "",
  };
}

// ---------------------------------------------------------------------------
// JsSIP 3.13.8: lib/Parser.js parseMessage(data, ua). `ua` is only stored on
// IncomingRequest (used later for replies), never read while parsing, so an
// empty stub is enough. Parse failures are logged through the `debug` package
// (silent unless DEBUG=JsSIP*) and parseMessage returns undefined.

export function jssipAdapter() {
  const JsSIPParser = require("jssip/lib/Parser.js");
  const UA_STUB = {};
  const parse = (text) => {
    const m = JsSIPParser.parseMessage(text, UA_STUB);
    return m ? forceView(m, "jssip") : null;
  };
  return {
    id: "jssip",
    label: `JsSIP ${pkgVersion("jssip")}`,
    version: pkgVersion("jssip"),
    invocation: "require('jssip/lib/Parser.js').parseMessage(text, {}) + parseHeader('via', i) for every Via, parseHeader('contact', i), parseHeader('cseq'/'content-length')",
    bench(text) {
      const v = parse(text);
      return v ? viewChecksum(v) : 0;
    },
    inspect(text) {
      const v = parse(text);
      return v ? viewShape(v) : { ok: false, error: "JsSIP parseMessage() or a header parse returned undefined (DEBUG=JsSIP* for details)" };
    },
  };
}

// ---------------------------------------------------------------------------
// SIP.js 0.21.2: lib/core/messages/parser.js Parser.parseMessage(data, logger)
// (the package has no "exports" map, so the deep import is allowed; it is the
// function SIP.js's UserAgentCore transport path calls). The logger is only
// used for warn/error on malformed input; the stub records the last message.
// Performance note: SIP.js ships its peggy grammar in bytecode form, and
// peg$parse() re-runs peg$decode() on ~236 bytecode strings and rebuilds its
// ~800-entry constant table on EVERY Grammar.parse() call, i.e. once per parsed
// header. A CPU profile of parseMessage shows ~74% of the time in peg$decode.
// That is why SIP.js is an order of magnitude slower than JsSIP here: it is how
// the published package behaves, not an artefact of this adapter.

export async function sipjsAdapter() {
  const { Parser } = await import("sip.js/lib/core/messages/parser.js");
  let lastError = null;
  const logger = {
    error: (msg) => { lastError = String(msg); },
    warn: (msg) => { lastError = String(msg); },
    log() {}, debug() {},
  };
  const parse = (text) => {
    const m = Parser.parseMessage(text, logger);
    return m ? forceView(m, "sipjs") : null;
  };
  return {
    id: "sipjs",
    label: `SIP.js ${pkgVersion("sip.js")}`,
    version: pkgVersion("sip.js"),
    invocation: "Parser.parseMessage(text, loggerStub) from sip.js/lib/core/messages/parser.js + parseHeader('via', i) for every Via, parseHeader('contact', i), parseHeader('cseq'/'content-length')",
    bench(text) {
      const v = parse(text);
      return v ? viewChecksum(v) : 0;
    },
    inspect(text) {
      lastError = null;
      const v = parse(text);
      return v ? viewShape(v) : { ok: false, error: lastError ?? "a header parse returned undefined" };
    },
  };
}

// ---------------------------------------------------------------------------
// Ours: the crate built by bench/build-wasm.sh (wasm-bindgen --target web),
// loaded synchronously with initSync. Contract (feature "bench"):
//   bench_parse(text: string) -> number        (0 = rejected)
//   inspect_message(text: string) -> string    (JSON, see bench/README.md)
//   bench_print_parse(text: string) -> number  (optional)

// BENCH_WASM_DIR overrides the directory (e.g. to compare two builds).
export const WASM_DIR = process.env.BENCH_WASM_DIR ? path.resolve(process.env.BENCH_WASM_DIR) : path.join(BENCH_DIR, "wasm");
export const WASM_GLUE = path.join(WASM_DIR, "sipwasm.js");
export const WASM_BIN = path.join(WASM_DIR, "sipwasm_bg.wasm");

export class WasmMissingError extends Error {}

function newestMtime(p) {
  let st;
  try { st = fs.statSync(p); } catch { return 0; }
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of fs.readdirSync(p)) m = Math.max(m, newestMtime(path.join(p, e)));
  return m;
}

export async function wasmAdapter() {
  for (const f of [WASM_GLUE, WASM_BIN]) {
    if (!fs.existsSync(f)) {
      throw new WasmMissingError(
        `wasm build missing: ${path.relative(ROOT, f) || f} does not exist.\n` +
        `Build it first with: bash bench/build-wasm.sh\n` +
        `(or pass --only jssip,sipjs to run the JS libraries alone; that run is reported as PARTIAL)`);
    }
  }
  const mod = await import(pathToFileURL(WASM_GLUE).href);
  mod.initSync({ module: fs.readFileSync(WASM_BIN) });
  for (const fn of ["bench_parse", "inspect_message"]) {
    if (typeof mod[fn] !== "function") {
      throw new WasmMissingError(
        `wasm build at ${path.relative(ROOT, WASM_GLUE)} does not export ${fn}(); ` +
        `was it built with --features bench? Rebuild with: bash bench/build-wasm.sh`);
    }
  }
  let buildInfo = null;
  try { buildInfo = JSON.parse(fs.readFileSync(path.join(WASM_DIR, "build-info.json"), "utf8")); } catch {}
  const wasmMtime = fs.statSync(WASM_BIN).mtimeMs;
  const srcMtime = Math.max(newestMtime(path.join(ROOT, "src")), newestMtime(path.join(ROOT, "Cargo.toml")));
  const stale = srcMtime > wasmMtime;
  const version = /^version\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8"))?.[1] ?? "?";
  return {
    id: "wasm",
    label: `ours (wasm)`,
    version,
    wasmBytes: fs.statSync(WASM_BIN).size,
    buildInfo,
    stale,
    invocation: "bench_parse(text) exported by bench/wasm/sipwasm.js (wasm-bindgen --target web, initSync)",
    bench: mod.bench_parse,
    inspect(text) {
      const s = mod.inspect_message(text);
      try {
        return JSON.parse(s);
      } catch (e) {
        return { ok: false, error: `inspect_message returned invalid JSON (${e.message}): ${String(s).slice(0, 200)}` };
      }
    },
    printParse: typeof mod.bench_print_parse === "function" ? mod.bench_print_parse : null,
    // Cost of getting the string into wasm alone: the SDK's path (TextEncoder.encodeInto
    // into a reusable buffer) and wasm-bindgen's default `&str` copy, for comparison.
    transfer: typeof mod.bench_transfer_only === "function" ? mod.bench_transfer_only : null,
    transferStr: typeof mod.bench_transfer_str === "function" ? mod.bench_transfer_str : null,
  };
}
