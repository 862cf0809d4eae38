//! Shows how the SDK's parser sees SIP messages: a tool for debugging SIP traffic.
//!
//! `cargo run --example sip_parse -- FILE...` parses each file as one whole WebSocket
//! message and prints either the message normalised (as the SDK would print it) with
//! its base headers, or why it is malformed. `-` reads stdin.
//! Exit status: 0 when every file parses, 1 when any is malformed or unreadable,
//! 2 for a usage error.

use sipwasm::sip::message::{
    parse_frame, Frame, Incoming, ParseError, StartLine, MAX_MESSAGE_SIZE,
};
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::ExitCode;

const USAGE: &str = "\
usage: sip_parse [--] FILE...
       cargo run --example sip_parse -- FILE...

Parses each FILE as one SIP-over-WebSocket message (RFC 7118: one frame, one
message) and prints either
  == FILE: OK (request METHOD URI | response CODE REASON, N headers, B body bytes)
  followed by its base headers and the message normalised as the SDK prints it
  (bytes that are not printable text are shown as \\xNN or \\u{NNNN}), or
  == FILE: MALFORMED: REASON (would answer STATUS)
A frame of only CRLFs is a keep-alive ping or pong (RFC 5626 \u{a7}4.4.1).
FILE '-' reads standard input.

Exit status: 0 when every file parses, 1 when any is malformed or unreadable,
2 for a usage error.
";

enum Args {
    Help,
    Files(Vec<OsString>),
    Bad(String),
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Args {
    let mut files = Vec::new();
    let mut options_done = false;
    for a in args {
        if options_done || a == "-" || !a.to_string_lossy().starts_with('-') {
            files.push(a);
        } else if a == "--" {
            options_done = true;
        } else if a == "-h" || a == "--help" {
            return Args::Help;
        } else {
            return Args::Bad(format!("unknown option {}", a.to_string_lossy()));
        }
    }
    if files.is_empty() {
        return Args::Bad("no FILE given".into());
    }
    Args::Files(files)
}

/// Reads at most one byte more than the parser accepts, so a huge file gets a 513
/// rather than filling memory.
fn read_input(name: &OsString) -> io::Result<Vec<u8>> {
    let limit = MAX_MESSAGE_SIZE as u64 + 1;
    let mut buf = Vec::new();
    if name == "-" {
        io::stdin().lock().take(limit).read_to_end(&mut buf)?;
    } else {
        std::fs::File::open(name)?
            .take(limit)
            .read_to_end(&mut buf)?;
    }
    Ok(buf)
}

/// The bytes as text: printable UTF-8, TAB, LF and CRLF as they are, anything else
/// (other control characters, invalid UTF-8) as `\xNN`.
fn show(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        let text = chunk.valid();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\t' | '\n' => out.push(c),
                '\r' if chars.peek() == Some(&'\n') => out.push(c),
                c if c.is_ascii_control() => escape(&mut out, c as u8),
                c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", u32::from(c))),
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            escape(&mut out, b);
        }
    }
    out
}

fn escape(out: &mut String, b: u8) {
    out.push_str(&format!("\\x{b:02X}"));
}

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        _ => "",
    }
}

/// The reason and the header it is in, without the status.
fn describe(e: &ParseError) -> String {
    match &e.header {
        Some(h) => format!("{} in {h}", e.reason),
        None => e.reason.to_string(),
    }
}

fn write_ok(out: &mut impl Write, name: &str, inc: &Incoming) -> io::Result<()> {
    let m = &inc.msg;
    let first = match &m.start {
        StartLine::Request(r) => format!("request {} {}", r.method, r.uri),
        StartLine::Response(s) => format!("response {} {}", s.code, s.reason),
    };
    writeln!(
        out,
        "== {name}: OK ({}, {} headers, {} body bytes)",
        show(first.as_bytes()),
        m.headers.len(),
        m.body.len()
    )?;
    let b = &inc.base;
    let or_none = |v: Option<&str>| v.map_or_else(|| "(none)".to_string(), |s| show(s.as_bytes()));
    let fields = [
        (
            "top Via branch",
            or_none(b.vias.first().and_then(|v| v.branch())),
        ),
        ("From tag", or_none(b.from.as_ref().and_then(|f| f.tag()))),
        ("To tag", or_none(b.to.as_ref().and_then(|t| t.tag()))),
        ("Call-ID", or_none(b.call_id.as_deref())),
        (
            "CSeq",
            or_none(b.cseq.as_ref().map(|c| c.to_string()).as_deref()),
        ),
    ];
    for (label, value) in fields {
        writeln!(out, "   {:<15} {value}", format!("{label}:"))?;
    }
    if m.is_request() {
        if let Err(e) = inc.check_request() {
            writeln!(
                out,
                "   note: a UA would answer {} {} to this request: {}",
                e.status,
                status_text(e.status),
                describe(&e)
            )?;
        }
    }
    let text = show(&m.to_bytes());
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

/// Parses and prints one input; returns whether it parsed.
fn report(out: &mut impl Write, name: &str, bytes: &[u8]) -> io::Result<bool> {
    match parse_frame(bytes) {
        Ok(Frame::Message(inc)) => write_ok(out, name, &inc).map(|()| true),
        Ok(Frame::Ping) => writeln!(out, "== {name}: keep-alive ping").map(|()| true),
        Ok(Frame::Pong) => writeln!(out, "== {name}: keep-alive pong").map(|()| true),
        Err(e) => writeln!(
            out,
            "== {name}: MALFORMED: {} (would answer {} {})",
            describe(&e),
            e.status,
            status_text(e.status)
        )
        .map(|()| false),
    }
}

fn run(files: &[OsString]) -> ExitCode {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut all_ok = true;
    for f in files {
        let name = f.to_string_lossy();
        let written = match read_input(f) {
            Ok(bytes) => report(&mut out, &name, &bytes).map(|ok| all_ok &= ok),
            Err(e) => {
                // Keep stdout and stderr in order.
                let flushed = out.flush();
                let _ = writeln!(io::stderr(), "sip_parse: {name}: {e}");
                all_ok = false;
                flushed
            }
        };
        if let Err(e) = written.and_then(|()| out.flush()) {
            if e.kind() != io::ErrorKind::BrokenPipe {
                let _ = writeln!(io::stderr(), "sip_parse: writing output: {e}");
            }
            return ExitCode::from(1);
        }
    }
    ExitCode::from(if all_ok { 0 } else { 1 })
}

fn main() -> ExitCode {
    match parse_args(std::env::args_os().skip(1)) {
        Args::Help => {
            let _ = io::stdout().write_all(USAGE.as_bytes());
            ExitCode::SUCCESS
        }
        Args::Bad(why) => {
            let _ = write!(io::stderr(), "sip_parse: {why}\n{USAGE}");
            ExitCode::from(2)
        }
        Args::Files(files) => run(&files),
    }
}
