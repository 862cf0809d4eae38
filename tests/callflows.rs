//! The RFC example call flows (tests/vectors/callflows/, from RFC 3665, 3515, 3327,
//! 4916 and 5626) parse, and every message round-trips: `parse(print(m)) == m`.

use sipwasm::sip::message::*;
use std::path::{Path, PathBuf};

/// Reads the YAML list of block scalars (`- |+` then lines indented by two spaces)
/// and returns each message with CRLF line ends.
fn messages(path: &Path) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: Vec<String> = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.split('\n') {
        if line.starts_with("- |") {
            out.extend(cur.take());
            cur = Some(String::new());
        } else if let Some(c) = cur.as_mut() {
            if let Some(l) = line.strip_prefix("  ") {
                c.push_str(l);
                c.push_str("\r\n");
            } else if line.trim().is_empty() {
                c.push_str("\r\n");
            } else if !line.starts_with('#') {
                panic!("{}: unexpected line {line:?}", path.display());
            }
        }
    }
    out.extend(cur);
    out.into_iter()
        .map(|m| {
            // The scalar keeps the file's trailing blank lines; the message ends with its
            // body (or with the empty line when there is none).
            let head_end = m.find("\r\n\r\n").map_or(m.len(), |i| i + 4);
            let (head, body) = m.split_at(head_end);
            let body = body.trim_end_matches("\r\n");
            let body = if body.is_empty() {
                String::new()
            } else {
                format!("{body}\r\n")
            };
            format!("{head}{body}").into_bytes()
        })
        .collect()
}

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/callflows");
    let mut v = Vec::new();
    for d in std::fs::read_dir(root).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

#[test]
fn every_example_message_parses_and_round_trips() {
    let mut total = 0;
    let mut failures = Vec::new();
    for f in files() {
        for (i, raw) in messages(&f).iter().enumerate() {
            total += 1;
            match parse_frame(raw) {
                Ok(Frame::Message(m)) => {
                    let printed = m.msg.to_bytes();
                    let again = parse_frame(&printed);
                    match again {
                        Ok(Frame::Message(m2)) => {
                            assert_eq!(m2.msg, m.msg, "{} #{i}", f.display());
                            assert_eq!(m2.base, m.base, "{} #{i}", f.display());
                            assert_eq!(m2.msg.to_bytes(), printed, "{} #{i}", f.display());
                        }
                        other => failures.push(format!("{} #{i}: reprint {other:?}", f.display())),
                    }
                    // The examples abbreviate (RFC 5626 §9 omits Via), but all have a CSeq.
                    assert!(m.base.cseq.is_some(), "{} #{i}: no CSeq", f.display());
                }
                Ok(other) => failures.push(format!("{} #{i}: {other:?}", f.display())),
                Err(e) => failures.push(format!(
                    "{} #{i}: {e}\n{}",
                    f.display(),
                    String::from_utf8_lossy(raw)
                )),
            }
        }
    }
    assert!(total > 200, "only {total} messages found");
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn typed_headers_of_the_examples_parse() {
    // Every header the UA reads typed parses wherever the examples use it.
    for f in files() {
        for raw in messages(&f) {
            let Ok(Frame::Message(m)) = parse_frame(&raw) else {
                continue;
            };
            // RFC 3515 §4.1 writes placeholders such as "(whatever URI)".
            let placeholder = |v: &str| {
                ["(whatever URI)", "(some different URI)", "(depends on"]
                    .iter()
                    .any(|p| v.contains(p))
            };
            if m.msg.headers.iter().any(|h| placeholder(h.value)) {
                continue;
            }
            let h = &m.msg.headers;
            for name in [
                HeaderName::Route,
                HeaderName::RecordRoute,
                HeaderName::ReferTo,
                HeaderName::ReferredBy,
                HeaderName::Path,
            ] {
                h.typed_list::<NameAddrHeader>(name.clone())
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
            for name in [
                HeaderName::Supported,
                HeaderName::Require,
                HeaderName::Unsupported,
            ] {
                h.typed_list::<Token>(name)
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
            h.typed_list::<Method>(HeaderName::Allow)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            for name in [HeaderName::Event, HeaderName::SubscriptionState] {
                if let Some(r) = h.typed::<TokenParams>(name) {
                    r.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                }
            }
            if let Some(r) = h.typed::<MediaType>(HeaderName::ContentType) {
                r.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
        }
    }
}
