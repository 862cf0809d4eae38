//! Fuzz-style robustness test of the SIP parser, cheap enough for every CI run.
//!
//! Inputs are seeds (bench/corpus, RFC 4475 torture messages) mutated many ways,
//! grammar-generated SIP messages (so a good share parse and exercise the round
//! trip) and random bytes. For each: `parse_frame` must not panic, and an accepted
//! message must satisfy `parse(print(m)) == m` (message and base headers) and
//! `print(parse(print(m))) == print(m)`.
//!
//! Input `i` depends only on (seed, i), so any failure replays alone with
//! `FUZZ_SEED=<seed> FUZZ_CASE=<i> cargo test --test fuzz_parse -- --nocapture`.
//! `FUZZ_ITERS` sets the number of inputs (default 1,000,000).

use sipwasm::sip::message::{parse_frame, Frame, Incoming, MAX_MESSAGE_SIZE};
use std::panic::catch_unwind;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

const DEFAULT_SEED: u64 = 0x5195_4475_7118_3261;
const DEFAULT_ITERS: u64 = 1_000_000;

/// SplitMix64: tiny, fast, good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut r = Rng(seed);
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------- seeds

fn read_seeds(dir: &str, ext: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("seed directory {}: {e}", dir.display()));
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    paths.sort(); // deterministic order, so (seed, i) always means the same input
    assert!(!paths.is_empty(), "no *.{ext} seeds in {}", dir.display());
    paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

fn load_seeds() -> Vec<Vec<u8>> {
    let mut seeds = read_seeds("bench/corpus", "sip");
    seeds.extend(read_seeds("tests/vectors/rfc4475", "dat"));
    seeds
}

// ---------------------------------------------------------------- generator

const TOKEN_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const USER_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()&=+$,;?/";
const PARAM_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()[]/:&+$";
const HNV_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()[]/?:+$";
const WORD_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~()<>:\\\"/[]?{}";
const METHODS: &[&str] = &[
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "REGISTER",
    "OPTIONS",
    "INFO",
    "UPDATE",
    "REFER",
    "NOTIFY",
    "SUBSCRIBE",
    "MESSAGE",
    "PRACK",
    "PUBLISH",
    "invite",
    "NEWMETHOD",
];
const TRANSPORTS: &[&str] = &["WS", "WSS", "UDP", "tcp", "TLS", "SCTP", "wss", "QUIC"];

fn chars(rng: &mut Rng, set: &[u8], lo: usize, hi: usize) -> String {
    let n = rng.range(lo, hi);
    (0..n).map(|_| *rng.pick(set) as char).collect()
}

/// A run of `set` characters, sometimes with `%HH` escapes.
fn escaped(rng: &mut Rng, set: &[u8], lo: usize, hi: usize) -> String {
    let mut s = chars(rng, set, lo, hi);
    if rng.chance(15) {
        let hex = b"0123456789abcdefABCDEF";
        s.push('%');
        s.push(*rng.pick(hex) as char);
        s.push(*rng.pick(hex) as char);
    }
    s
}

fn gen_host(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!(
            "{}.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            rng.below(256),
            rng.below(256)
        ),
        1 => format!("[2001:db8::{:x}]", rng.below(65536)),
        _ => {
            let labels = rng.range(1, 4);
            let v: Vec<String> = (0..labels).map(|_| chars(rng, ALNUM, 1, 12)).collect();
            v.join(".")
        }
    }
}

fn gen_port(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!(":{}", rng.below(65536)),
        1 => ":5060".into(),
        _ => String::new(),
    }
}

fn gen_uri_params(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(4) {
        s.push(';');
        s.push_str(&escaped(rng, PARAM_CHARS, 1, 8));
        if rng.chance(60) {
            s.push('=');
            s.push_str(&escaped(rng, PARAM_CHARS, 1, 10));
        }
    }
    s
}

/// A URI; `simple` ones have no parameters or headers (for addr-spec forms).
fn gen_uri(rng: &mut Rng, simple: bool) -> String {
    match rng.below(10) {
        0 => {
            let mut s = String::from(*rng.pick(&["tel:+", "tel:", "TEL:+"]));
            s.push_str(&chars(rng, b"0123456789-.()", 1, 12));
            s.push(*rng.pick(b"0123456789") as char);
            if !simple {
                s.push_str(&gen_uri_params(rng));
            }
            s
        }
        1 => format!(
            "{}:{}",
            rng.pick(&["urn", "http", "mailto", "soap.beep", "x-y+z"]),
            chars(rng, b"abcdefxyz0123456789:/.@?=&-_", 1, 20)
        ),
        _ => {
            let mut s = String::from(*rng.pick(&["sip:", "sips:", "SIP:"]));
            if rng.chance(80) {
                let set = if simple { ALNUM } else { USER_CHARS };
                s.push_str(&escaped(rng, set, 1, 12));
                if rng.chance(10) {
                    s.push(':');
                    s.push_str(&escaped(rng, b"abc123-_.!~*'()&=+$,", 0, 8));
                }
                s.push('@');
            }
            s.push_str(&gen_host(rng));
            s.push_str(&gen_port(rng));
            if !simple {
                s.push_str(&gen_uri_params(rng));
                if rng.chance(10) {
                    let n = rng.range(1, 2);
                    let h: Vec<String> = (0..n)
                        .map(|_| {
                            format!(
                                "{}={}",
                                escaped(rng, HNV_CHARS, 1, 6),
                                escaped(rng, HNV_CHARS, 0, 8)
                            )
                        })
                        .collect();
                    s.push('?');
                    s.push_str(&h.join("&"));
                }
            }
            s
        }
    }
}

/// `;name=value` header parameters, with LWS sometimes.
fn gen_params(rng: &mut Rng, first: Option<(&str, String)>) -> String {
    let mut s = String::new();
    let ws = |rng: &mut Rng| if rng.chance(10) { " " } else { "" };
    let mut push = |rng: &mut Rng, name: &str, value: Option<String>| {
        s.push_str(ws(rng));
        s.push(';');
        s.push_str(ws(rng));
        s.push_str(name);
        if let Some(v) = value {
            s.push_str(ws(rng));
            s.push('=');
            s.push_str(ws(rng));
            s.push_str(&v);
        }
    };
    if let Some((n, v)) = first {
        push(rng, n, Some(v));
    }
    for _ in 0..rng.below(3) {
        let name = chars(rng, TOKEN_CHARS, 1, 8);
        let value = match rng.below(5) {
            0 => None,
            1 => Some(format!("\"{}\"", chars(rng, b"ab c;,=<>@:", 0, 10))),
            2 => Some(format!("[2001:db8::{}]", rng.below(100))),
            _ => Some(chars(rng, TOKEN_CHARS, 1, 10)),
        };
        push(rng, &name, value);
    }
    s
}

fn gen_display(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => String::new(),
        1 => {
            let n = rng.range(1, 3);
            let w: Vec<String> = (0..n).map(|_| chars(rng, TOKEN_CHARS, 1, 8)).collect();
            format!("{} ", w.join(" "))
        }
        _ => {
            let mut s = String::from("\"");
            for _ in 0..rng.below(12) {
                match rng.below(12) {
                    0 => s.push_str("\\\""),
                    1 => s.push_str("\\\\"),
                    2 => s.push('é'),
                    3 => s.push(','),
                    _ => s.push(*rng.pick(ALNUM) as char),
                }
            }
            s.push_str(if rng.chance(70) { "\" " } else { "\"" });
            s
        }
    }
}

fn gen_name_addr(rng: &mut Rng, tag: bool) -> String {
    let tag = tag.then(|| ("tag", chars(rng, TOKEN_CHARS, 1, 16)));
    if rng.chance(20) {
        // addr-spec form: the URI ends at the first ';'
        format!("{}{}", gen_uri(rng, true), gen_params(rng, tag))
    } else {
        format!(
            "{}<{}>{}",
            gen_display(rng),
            gen_uri(rng, false),
            gen_params(rng, tag)
        )
    }
}

fn gen_via(rng: &mut Rng) -> String {
    let branch = format!("z9hG4bK{}", chars(rng, TOKEN_CHARS, 1, 20));
    let sp = if rng.chance(10) { " / " } else { "/" };
    format!(
        "SIP{sp}2.0{sp}{} {}{}{}",
        rng.pick(TRANSPORTS),
        gen_host(rng),
        gen_port(rng),
        gen_params(rng, Some(("branch", branch)))
    )
}

/// Free text for an unknown header: printable ASCII, tabs, some UTF-8.
fn gen_text(rng: &mut Rng, hi: usize) -> String {
    let n = rng.below(hi);
    (0..n)
        .map(|_| match rng.below(40) {
            0 => '\t',
            1 => 'ü',
            2 => '€',
            _ => (b' ' + rng.below(95) as u8) as char,
        })
        .collect::<String>()
}

/// A SIP message built from a template with random parts; most are valid.
fn gen_message(rng: &mut Rng) -> Vec<u8> {
    let nl = if rng.chance(85) { "\r\n" } else { "\n" };
    let method = *rng.pick(METHODS);
    let request = rng.chance(60);
    let mut lines: Vec<String> = Vec::new();
    if request {
        lines.push(format!("{method} {} SIP/2.0", gen_uri(rng, false)));
    } else {
        let code = rng.range(100, 699);
        lines.push(format!("SIP/2.0 {code} {}", gen_text(rng, 20).trim_start()));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    let name = |rng: &mut Rng, long: &str, compact: &str| -> String {
        match rng.below(10) {
            0 if !compact.is_empty() => compact.to_string(),
            1 => long.to_ascii_lowercase(),
            2 => long.to_ascii_uppercase(),
            _ => long.to_string(),
        }
    };
    for _ in 0..rng.range(1, 3) {
        let mut v = gen_via(rng);
        if rng.chance(20) {
            v = format!("{v} , {}", gen_via(rng));
        }
        headers.push((name(rng, "Via", "v"), v));
    }
    if rng.chance(95) {
        headers.push((name(rng, "From", "f"), gen_name_addr(rng, true)));
    }
    if rng.chance(95) {
        let tag = rng.chance(50);
        headers.push((name(rng, "To", "t"), gen_name_addr(rng, tag)));
    }
    if rng.chance(95) {
        let mut id = chars(rng, WORD_CHARS, 1, 24);
        if rng.chance(50) {
            id = format!("{id}@{}", gen_host(rng));
        }
        headers.push((name(rng, "Call-ID", "i"), id));
    }
    if rng.chance(95) {
        let m = if request || rng.chance(50) {
            method.to_string()
        } else {
            chars(rng, TOKEN_CHARS, 1, 8)
        };
        let n = match rng.below(10) {
            0 => u64::from(u32::MAX),
            1 => 0,
            _ => rng.below(100_000) as u64,
        };
        headers.push((name(rng, "CSeq", ""), format!("{n} {m}")));
    }
    if rng.chance(60) {
        let mf = rng.below(256);
        headers.push((name(rng, "Max-Forwards", ""), mf.to_string()));
    }
    for _ in 0..rng.below(3) {
        let c = if rng.chance(10) {
            "*".to_string()
        } else {
            let n = rng.range(1, 2);
            let v: Vec<String> = (0..n).map(|_| gen_name_addr(rng, false)).collect();
            v.join(", ")
        };
        headers.push((name(rng, "Contact", "m"), c));
    }
    if rng.chance(20) {
        headers.push((name(rng, "Expires", ""), rng.below(100_000).to_string()));
    }
    if rng.chance(30) {
        headers.push((
            name(rng, "Content-Type", "c"),
            format!("application/{}", chars(rng, TOKEN_CHARS, 1, 10)),
        ));
    }
    for _ in 0..rng.below(6) {
        let (n, v) = match rng.below(6) {
            0 => ("Route".to_string(), format!("<{}>", gen_uri(rng, false))),
            1 => (
                "Authorization".to_string(),
                format!(
                    "Digest username=\"{}\", realm=\"x\", nonce=\"{}\", response=\"{}\"",
                    chars(rng, ALNUM, 1, 8),
                    chars(rng, ALNUM, 8, 16),
                    chars(rng, b"0123456789abcdef", 32, 32)
                ),
            ),
            2 => (
                "Supported".to_string(),
                "100rel, timer, outbound".to_string(),
            ),
            _ => (chars(rng, TOKEN_CHARS, 1, 20), gen_text(rng, 60)),
        };
        headers.push((n, v));
    }
    // Shuffle a little: header order is free.
    for _ in 0..rng.below(4) {
        let a = rng.below(headers.len());
        let b = rng.below(headers.len());
        headers.swap(a, b);
    }
    let body: Vec<u8> = if rng.chance(40) {
        let n = rng.below(300);
        (0..n).map(|_| rng.next() as u8).collect()
    } else {
        Vec::new()
    };
    match rng.below(10) {
        0 => {} // no Content-Length: the body is the rest of the frame
        1 => headers.push(("l".into(), (body.len() / 2).to_string())),
        _ => headers.push((name(rng, "Content-Length", "l"), body.len().to_string())),
    }
    for (n, v) in headers {
        let colon = *rng.pick(&[": ", ":", " : ", ":\t"]);
        // Fold long values at a space now and then (RFC 3261 §7.3.1).
        match v.find(' ') {
            Some(i) if rng.chance(5) => {
                let (a, b) = v.split_at(i);
                lines.push(format!("{n}{colon}{a}{nl} {}", b.trim_start()))
            }
            _ => lines.push(format!("{n}{colon}{v}")),
        }
    }
    let mut out = Vec::new();
    if rng.chance(3) {
        out.extend_from_slice(b"\r\n\r\n");
    }
    for l in &lines {
        out.extend_from_slice(l.as_bytes());
        out.extend_from_slice(nl.as_bytes());
    }
    out.extend_from_slice(nl.as_bytes());
    out.extend_from_slice(&body);
    out
}

const LINE_ENDS: &[&str] = &["\r\n", "\n", "\r", "\r\n "];

/// Printable ASCII lines loosely shaped like SIP: `Token: value` and start lines.
fn gen_sip_like_lines(rng: &mut Rng) -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..rng.range(1, 12) {
        match rng.below(4) {
            0 => s.push_str(&format!(
                "{} sip:{} SIP/2.0",
                rng.pick(METHODS),
                gen_host(rng)
            )),
            1 => s.push_str(&format!(
                "SIP/2.0 {} {}",
                rng.below(1000),
                gen_text(rng, 10)
            )),
            _ => s.push_str(&format!(
                "{}:{}",
                chars(rng, TOKEN_CHARS, 0, 12),
                gen_text(rng, 40)
            )),
        }
        let end = *rng.pick(LINE_ENDS);
        s.push_str(end);
    }
    s.into_bytes()
}

// ---------------------------------------------------------------- mutations

const INTERESTING: &[u8] = b"\0\r\n \t:;,\"<>\\%\x80\xff0123456789@=/[]";
const DICT: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r\n ",
    b"\r\n\r\n",
    b"sip:",
    b"sips:",
    b"tel:+1",
    b"<sip:a@b>",
    b";tag=",
    b";branch=z9hG4bK",
    b"SIP/2.0",
    b"SIP/2.0/WS ",
    b"Content-Length: ",
    b"l: 0",
    b"Via: ",
    b"CSeq: 1 INVITE",
    b"\"",
    b"\\\"",
    b"%00",
    b"%",
    b"[::1]",
    b"\xc3\xa9",
    b"\xe2\x82",
    b",",
    b"*",
];
const BIG_NUMBERS: &[&str] = &[
    "0",
    "099",
    "255",
    "256",
    "699",
    "700",
    "65535",
    "65536",
    "2147483648",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "-1",
    "000000000000000000000000001",
];
const HUGE_LINES: &[&str] = &[
    "Content-Length: 99999999999999999999",
    "Content-Length: 4294967296",
    "CSeq: 4294967296 INVITE",
    "CSeq: 4294967295 INVITE",
    "Max-Forwards: 256",
    "Expires: 4294967296",
    "Via: SIP/2.0/WS h.invalid:65536;branch=z9hG4bK1",
    "Via: SIP/2.0/WS h.invalid:65535;branch=z9hG4bK1;rport=65536",
    "Contact: <sip:a@b:65536>",
    "To: <sip:a@b:99999999999999999999>",
];

/// Repeated to make huge values.
const HUGE_UNITS: &[&[u8]] = &[b"9", b"a", b"ab;", b"x,", b" ", b"%", b"\""];
const FOLDS: &[&[u8]] = &[b"\r\n ", b"\r\n\t", b"\n ", b"\r\n  \r\n "];

/// Byte offsets of line starts (after each LF).
fn line_starts(buf: &[u8]) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(
        buf.iter()
            .enumerate()
            .filter(|(_, &c)| c == b'\n')
            .map(|(i, _)| i + 1),
    );
    v
}

/// A random whole line `start..end` (end includes its LF), if any.
fn pick_line(rng: &mut Rng, buf: &[u8]) -> Option<(usize, usize)> {
    let starts = line_starts(buf);
    let i = rng.below(starts.len());
    let start = starts[i];
    let end = starts.get(i + 1).copied().unwrap_or(buf.len());
    (start < end).then_some((start, end))
}

fn mutate(rng: &mut Rng, buf: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let len = buf.len();
    match rng.below(20) {
        // bit flip
        0 if len > 0 => {
            let i = rng.below(len);
            buf[i] ^= 1 << rng.below(8);
        }
        // replace with an interesting byte
        1 | 2 if len > 0 => {
            let i = rng.below(len);
            buf[i] = *rng.pick(INTERESTING);
        }
        // insert an interesting byte or a dictionary word
        3 => {
            let i = rng.below(len + 1);
            if rng.chance(50) {
                buf.insert(i, *rng.pick(INTERESTING));
            } else {
                let w = *rng.pick(DICT);
                buf.splice(i..i, w.iter().copied());
            }
        }
        // truncate anywhere, or just before/after a syntactically special byte
        4 => {
            let special: Vec<usize> = buf
                .iter()
                .enumerate()
                .filter(|(_, c)| b"\r\n:;,<>\"@ /=".contains(c))
                .map(|(i, _)| i)
                .collect();
            let at = if special.is_empty() || rng.chance(30) {
                rng.below(len + 1)
            } else {
                (*rng.pick(&special) + rng.below(2)).min(len)
            };
            buf.truncate(at);
        }
        // delete a run
        5 if len > 0 => {
            let i = rng.below(len);
            let n = rng.range(1, 16.min(len - i));
            buf.drain(i..i + n);
        }
        // insert a run: random bytes or a copy of another part
        6 => {
            let i = rng.below(len + 1);
            let run: Vec<u8> = if rng.chance(50) || len == 0 {
                (0..rng.range(1, 16)).map(|_| rng.next() as u8).collect()
            } else {
                let s = rng.below(len);
                buf[s..(s + rng.range(1, 64)).min(len)].to_vec()
            };
            buf.splice(i..i, run);
        }
        // splice: head of this input + tail of another seed
        7 => {
            let other = rng.pick(seeds);
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            buf.truncate(cut);
            buf.extend_from_slice(&other[from..]);
        }
        // duplicate a header line many times
        8 => {
            if let Some((s, e)) = pick_line(rng, buf) {
                let line = buf[s..e].to_vec();
                let times = if rng.chance(10) {
                    rng.range(100, 1000)
                } else {
                    rng.range(1, 20)
                };
                let ins: Vec<u8> = line
                    .iter()
                    .copied()
                    .cycle()
                    .take(line.len() * times)
                    .collect();
                buf.splice(e..e, ins);
            }
        }
        // a huge value in a random line, or a huge/boundary header
        9 => {
            if rng.chance(50) {
                let line = rng.pick(HUGE_LINES).as_bytes();
                let at = pick_line(rng, buf).map_or(0, |(s, _)| s);
                let mut ins = line.to_vec();
                ins.extend_from_slice(b"\r\n");
                buf.splice(at..at, ins);
            } else if let Some((s, e)) = pick_line(rng, buf) {
                let unit = *rng.pick(HUGE_UNITS);
                let n = *rng.pick(&[100, 1000, 10_000, 70_000]);
                let colon = buf[s..e]
                    .iter()
                    .position(|&c| c == b':')
                    .map_or(s, |p| s + p + 1);
                let ins: Vec<u8> = unit.iter().copied().cycle().take(n).collect();
                buf.splice(colon..colon, ins);
            }
        }
        // replace a digit run with a boundary number
        10 | 11 => {
            let digits: Vec<usize> = (0..len)
                .filter(|&i| buf[i].is_ascii_digit() && (i == 0 || !buf[i - 1].is_ascii_digit()))
                .collect();
            if !digits.is_empty() {
                let s = *rng.pick(&digits);
                let e = (s..len).find(|&i| !buf[i].is_ascii_digit()).unwrap_or(len);
                let n = rng.pick(BIG_NUMBERS).as_bytes();
                buf.splice(s..e, n.iter().copied());
            }
        }
        // delete one CRLF/LF, or all of them
        12 => {
            let lfs: Vec<usize> = (0..len).filter(|&i| buf[i] == b'\n').collect();
            if rng.chance(20) {
                buf.retain(|&c| c != b'\r' && c != b'\n');
            } else if !lfs.is_empty() {
                let p = *rng.pick(&lfs);
                let s = if p > 0 && buf[p - 1] == b'\r' {
                    p - 1
                } else {
                    p
                };
                buf.drain(s..=p);
            }
        }
        // CRLF -> LF, everywhere or once; or LF -> CRLF
        13 => match rng.below(3) {
            0 => *buf = replace_all(buf, b"\r\n", b"\n"),
            1 => {
                if let Some(p) = find(buf, b"\r\n") {
                    buf.remove(p);
                }
            }
            _ => *buf = replace_all(buf, b"\n", b"\r\n"),
        },
        // fold a line at a space
        14 => {
            let spaces: Vec<usize> = (0..len).filter(|&i| buf[i] == b' ').collect();
            if !spaces.is_empty() {
                let i = *rng.pick(&spaces);
                let fold = *rng.pick(FOLDS);
                buf.splice(i..i, fold.iter().copied());
            }
        }
        // flip the case of a run
        15 if len > 0 => {
            let i = rng.below(len);
            let n = rng.range(1, 12);
            for c in buf.iter_mut().skip(i).take(n) {
                if c.is_ascii_alphabetic() {
                    *c ^= 0x20;
                }
            }
        }
        // overwrite a byte with a random one
        16 if len > 0 => {
            let i = rng.below(len);
            buf[i] = rng.next() as u8;
        }
        // swap two lines
        17 => {
            if let (Some(a), Some(b)) = (pick_line(rng, buf), pick_line(rng, buf)) {
                if a.1 <= b.0 {
                    let mut v = buf[..a.0].to_vec();
                    v.extend_from_slice(&buf[b.0..b.1]);
                    v.extend_from_slice(&buf[a.1..b.0]);
                    v.extend_from_slice(&buf[a.0..a.1]);
                    v.extend_from_slice(&buf[b.1..]);
                    *buf = v;
                }
            }
        }
        // delete a whole line
        18 => {
            if let Some((s, e)) = pick_line(rng, buf) {
                buf.drain(s..e);
            }
        }
        // insert a generated header line
        _ => {
            let at = pick_line(rng, buf).map_or(0, |(s, _)| s);
            let line = format!(
                "{}: {}\r\n",
                chars(rng, TOKEN_CHARS, 1, 12),
                gen_text(rng, 40)
            );
            buf.splice(at..at, line.into_bytes());
        }
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn replace_all(h: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(h.len() + 16);
    let mut i = 0;
    while i < h.len() {
        if h[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(h[i]);
            i += 1;
        }
    }
    out
}

/// The input number `i` of a run with `seed`.
fn make_input(seed: u64, i: u64, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ i.wrapping_mul(0xD134_2543_DE82_EF95));
    let (mut buf, mutations) = match rng.below(100) {
        0..=1 => {
            let n = rng.below(300);
            ((0..n).map(|_| rng.next() as u8).collect(), 0)
        }
        2..=4 => (gen_sip_like_lines(&mut rng), rng.below(2)),
        5..=49 => {
            let m = gen_message(&mut rng);
            let k = if rng.chance(60) { 0 } else { rng.range(1, 3) };
            (m, k)
        }
        _ => (rng.pick(seeds).clone(), rng.range(1, 5)),
    };
    for _ in 0..mutations {
        mutate(&mut rng, &mut buf, seeds);
    }
    buf
}

// ---------------------------------------------------------------- property

#[derive(Default, Clone, Copy)]
struct Stats {
    inputs: u64,
    accepted: u64,
    keepalive: u64,
}

enum Outcome {
    Rejected,
    KeepAlive,
    Accepted,
}

/// Parses `input` and checks the round-trip property of an accepted message.
fn check(input: &[u8]) -> Result<Outcome, String> {
    let inc = match parse_frame(input) {
        Err(e) => {
            if ![400, 505, 513].contains(&e.status) {
                return Err(format!("unexpected error status: {e}"));
            }
            if (e.status == 513) != (input.len() > MAX_MESSAGE_SIZE) {
                return Err(format!("513 iff over the size limit: {e}"));
            }
            return Ok(Outcome::Rejected);
        }
        Ok(Frame::Ping | Frame::Pong) => {
            if !input.iter().all(|&c| c == b'\r' || c == b'\n') {
                return Err("keep-alive from a frame that is not only CR/LF".into());
            }
            return Ok(Outcome::KeepAlive);
        }
        Ok(Frame::Message(inc)) => inc,
    };
    if let Some(n) = inc.base.content_length {
        if inc.msg.body.len() != n as usize {
            return Err(format!(
                "body is {} bytes, Content-Length {n}",
                inc.msg.body.len()
            ));
        }
    }
    let printed = inc.msg.to_bytes();
    // Printing can make a message longer than the frame limit (compact names print
    // long, "\n" becomes "\r\n"): the round trip uses the unbounded parser.
    let again = match Incoming::parse(&printed) {
        Ok(again) => again,
        other => {
            return Err(format!(
                "printed form does not parse back to a message: {other:?}\nprinted: b\"{}\"",
                printed.escape_ascii()
            ))
        }
    };
    if again.msg != inc.msg {
        return Err(format!(
            "parse(print(m)) != m\nm:      {:?}\nagain:  {:?}\nprinted: b\"{}\"",
            inc.msg,
            again.msg,
            printed.escape_ascii()
        ));
    }
    if again.base != inc.base {
        return Err(format!(
            "base headers differ after the round trip\nbase:  {:?}\nagain: {:?}",
            inc.base, again.base
        ));
    }
    let printed2 = again.msg.to_bytes();
    if printed2 != printed {
        return Err(format!(
            "print(parse(print(m))) != print(m)\nfirst:  b\"{}\"\nsecond: b\"{}\"",
            printed.escape_ascii(),
            printed2.escape_ascii()
        ));
    }
    Ok(Outcome::Accepted)
}

/// [`check`], with a panic turned into an error.
fn check_catching(input: &[u8]) -> Result<Outcome, String> {
    catch_unwind(|| check(input)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!("PANIC: {msg}"))
    })
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v:?} is not a number")))
}

struct Failure {
    iteration: u64,
    input: Vec<u8>,
    what: String,
}

/// Runs the inputs `first..end` with stride `step`; stops early when `stop` is set.
fn run_range(
    seed: u64,
    (first, end, step): (u64, u64, u64),
    seeds: &[Vec<u8>],
    stop: &AtomicBool,
    failure: &Mutex<Option<Failure>>,
) -> Stats {
    let mut st = Stats::default();
    let mut i = first;
    while i < end && !stop.load(Ordering::Relaxed) {
        let input = make_input(seed, i, seeds);
        let result = check_catching(&input);
        st.inputs += 1;
        match result {
            Ok(Outcome::Rejected) => {}
            Ok(Outcome::KeepAlive) => st.keepalive += 1,
            Ok(Outcome::Accepted) => st.accepted += 1,
            Err(what) => {
                stop.store(true, Ordering::Relaxed);
                let mut f = failure.lock().unwrap_or_else(|e| e.into_inner());
                if f.as_ref().is_none_or(|f| i < f.iteration) {
                    *f = Some(Failure {
                        iteration: i,
                        input,
                        what,
                    });
                }
                break;
            }
        }
        i += step;
    }
    st
}

#[test]
fn parser_survives_mutated_and_generated_messages() {
    let seed = env_u64("FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let iters = env_u64("FUZZ_ITERS").unwrap_or(DEFAULT_ITERS);
    let only = env_u64("FUZZ_CASE");
    let seeds = load_seeds();
    for (k, s) in seeds.iter().enumerate() {
        // Every seed goes through the property unmutated too.
        if let Err(what) = check_catching(s) {
            panic!("seed #{k} fails: {what}\ninput: b\"{}\"", s.escape_ascii());
        }
    }
    let (first, end) = match only {
        Some(i) => (i, i + 1),
        None => (0, iters),
    };
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8) as u64;
    println!(
        "fuzz_parse: FUZZ_SEED={seed:#x} FUZZ_ITERS={iters}{} ({} seeds, {threads} threads)",
        only.map(|i| format!(" FUZZ_CASE={i}")).unwrap_or_default(),
        seeds.len()
    );

    let t0 = Instant::now();
    let stop = AtomicBool::new(false);
    let failure = Mutex::new(None);
    let stats: Vec<Stats> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (seeds, stop, failure) = (&seeds, &stop, &failure);
                s.spawn(move || run_range(seed, (first + t, end, threads), seeds, stop, failure))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker thread"))
            .collect()
    });
    let total = stats.iter().fold(Stats::default(), |a, b| Stats {
        inputs: a.inputs + b.inputs,
        accepted: a.accepted + b.accepted,
        keepalive: a.keepalive + b.keepalive,
    });
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "fuzz_parse: {} inputs in {secs:.1} s, {} accepted ({:.1}%), {} keep-alives",
        total.inputs,
        total.accepted,
        100.0 * total.accepted as f64 / total.inputs.max(1) as f64,
        total.keepalive
    );

    if let Some(f) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let file = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("fuzz_parse-{seed:x}-{}.bin", f.iteration));
        let saved = std::fs::write(&file, &f.input).is_ok();
        panic!(
            "input {} of seed {seed:#x} fails (replay: FUZZ_SEED={seed:#x} FUZZ_CASE={}){}\n{}\n\
             input ({} bytes): b\"{}\"",
            f.iteration,
            f.iteration,
            if saved {
                format!("\nsaved to {}", file.display())
            } else {
                String::new()
            },
            f.what,
            f.input.len(),
            f.input.escape_ascii()
        );
    }
    if only.is_none() {
        assert_eq!(total.inputs, iters, "every input ran");
        // Guard the generator: if it stops producing valid messages, the round trip
        // is no longer exercised.
        assert!(
            total.accepted * 5 >= total.inputs,
            "under 20% of inputs parse: the round trip is barely exercised"
        );
    }
}
