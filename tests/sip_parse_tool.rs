//! Runs the `sip_parse` example binary (examples/sip_parse.rs) on corpus files.
//!
//! Cargo gives integration tests no path to example binaries, so the first test to
//! need it runs `cargo build --example sip_parse` once (with the test profile, whose
//! library build `cargo test` has just made: it costs a link, well under a second
//! when fresh) and takes the binary path from cargo's JSON output.

use sipwasm::sip::message::Message;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn build_tool() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args([
            "build",
            "--quiet",
            "--profile",
            "test",
            "--example",
            "sip_parse",
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build --example sip_parse: {}", out.status));
    }
    // The compiler-artifact line of the example carries `"executable":"<path>"`.
    let json = String::from_utf8_lossy(&out.stdout);
    json.lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\"") && l.contains("sip_parse"))
        .find_map(|l| {
            let rest = l.split("\"executable\":\"").nth(1)?;
            let path = rest.get(..rest.find('"')?)?;
            Some(PathBuf::from(path.replace("\\\\", "\\")))
        })
        .ok_or_else(|| "no sip_parse executable in cargo's output".to_string())
}

fn tool() -> &'static Path {
    static TOOL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match TOOL.get_or_init(build_tool) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(tool())
        .current_dir(root())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sip_parse");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait for sip_parse");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

const VALID: &str = "bench/corpus/05-invite.sip";
/// RFC 4475 §3.1.2.8: `SIP/7.0`, 505.
const BAD_VERSION: &str = "tests/vectors/rfc4475/badvers.dat";
/// RFC 4475 §3.1.2.10: `<sip:...>` as the Request-URI, 400.
const BAD_URI: &str = "tests/vectors/rfc4475/ltgtruri.dat";

#[test]
fn valid_message_prints_normalised_form_and_base_headers() {
    let r = run(&[VALID], b"");
    assert_eq!(r.code, Some(0), "stderr: {}", r.stderr);
    assert!(
        r.stdout.starts_with(&format!(
            "== {VALID}: OK (request INVITE sip:bob@example.com, 13 headers, 2059 body bytes)\n"
        )),
        "{}",
        r.stdout
    );
    for line in [
        "top Via branch: z9hG4bK4206919",
        "From tag:       1ucm0obr3h",
        "To tag:         (none)",
        "Call-ID:        8jqa3ndcmv0uf0a2ncb4",
        "CSeq:           6612 INVITE",
    ] {
        assert!(r.stdout.contains(line), "missing {line:?} in\n{}", r.stdout);
    }
    // The message exactly as the library prints it (the file is plain text).
    let m = Message::parse(&std::fs::read(root().join(VALID)).unwrap()).unwrap();
    let printed = String::from_utf8(m.to_bytes()).unwrap();
    assert!(r.stdout.ends_with(&printed), "{}", r.stdout);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn torture_message_is_reported_malformed() {
    let r = run(&[BAD_VERSION], b"");
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stdout,
        format!(
            "== {BAD_VERSION}: MALFORMED: SIP version not supported \
             (would answer 505 Version Not Supported)\n"
        )
    );
    let r = run(&[BAD_URI], b"");
    assert_eq!(r.code, Some(1));
    assert!(
        r.stdout.starts_with(&format!("== {BAD_URI}: MALFORMED: "))
            && r.stdout.ends_with("(would answer 400 Bad Request)\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_mix_fails_but_reports_every_file() {
    let r = run(&[BAD_URI, VALID, BAD_VERSION], b"");
    assert_eq!(r.code, Some(1));
    let heads: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("== ")).collect();
    assert_eq!(heads.len(), 3, "{}", r.stdout);
    assert!(heads[0].contains("MALFORMED") && heads[2].contains("MALFORMED"));
    assert!(heads[1].starts_with(&format!("== {VALID}: OK (")));
}

#[test]
fn missing_file_fails_and_others_still_run() {
    let r = run(&["no/such/file.sip", VALID], b"");
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("no/such/file.sip"), "{}", r.stderr);
    assert!(r.stdout.starts_with(&format!("== {VALID}: OK (")));
}

#[test]
fn usage_errors_and_help() {
    let r = run(&[], b"");
    assert_eq!(r.code, Some(2));
    assert!(
        r.stdout.is_empty() && r.stderr.contains("usage:"),
        "{}",
        r.stderr
    );
    let r = run(&["--frobnicate", VALID], b"");
    assert_eq!(r.code, Some(2));
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let r = run(&["--help"], b"");
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.starts_with("usage:"), "{}", r.stdout);
}

#[test]
fn stdin_keepalives_and_binary_bodies() {
    let r = run(&["-"], b"\r\n\r\n");
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(0), "== -: keep-alive ping\n")
    );
    let r = run(&["-"], b"\r\n");
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(0), "== -: keep-alive pong\n")
    );
    // Arguments after `--` are files even when they look like options.
    let r = run(&["--", "-"], b"\r\n");
    assert_eq!(r.code, Some(0));

    let msg = b"MESSAGE sip:a@b SIP/2.0\r\nf: <sip:a@b>;tag=9\r\nl: 6\r\n\r\nA\xff\x00\x1b\xc3\xa9";
    let r = run(&["-"], msg);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(r.stdout.contains("From tag:       9\n"), "{}", r.stdout);
    // Compact names print long; the body's invalid UTF-8 and controls are escaped.
    assert!(
        r.stdout.ends_with(
            "From: <sip:a@b>;tag=9\r\nContent-Length: 6\r\n\r\nA\\xFF\\x00\\x1B\u{e9}\n"
        ),
        "{:?}",
        r.stdout
    );
}
