//! libFuzzer target: `parse_frame` never panics, and an accepted message round-trips:
//! `parse(print(m)) == m` (message and base headers) and
//! `print(parse(print(m))) == print(m)`. Same property as tests/fuzz_parse.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipwasm::sip::message::{parse_frame, Frame, Incoming};

fuzz_target!(|data: &[u8]| {
    let inc = match parse_frame(data) {
        Ok(Frame::Message(inc)) => inc,
        Ok(Frame::Ping | Frame::Pong) => {
            assert!(data.iter().all(|&c| c == b'\r' || c == b'\n'));
            return;
        }
        Err(e) => {
            assert!([400, 505, 513].contains(&e.status), "{e}");
            return;
        }
    };
    let printed = inc.msg.to_bytes();
    // Printing can lengthen a message past the frame limit (compact header names print
    // long, LF becomes CRLF): the round trip uses the unbounded parser.
    let again = match Incoming::parse(&printed) {
        Ok(again) => again,
        other => panic!(
            "printed form does not parse back: {other:?}\nprinted: b\"{}\"",
            printed.escape_ascii()
        ),
    };
    assert_eq!(again.msg, inc.msg, "parse(print(m)) != m");
    assert_eq!(
        again.base, inc.base,
        "base headers differ after the round trip"
    );
    assert!(
        again.msg.to_bytes() == printed,
        "print(parse(print(m))) != print(m)\nprinted: b\"{}\"",
        printed.escape_ascii()
    );
});
