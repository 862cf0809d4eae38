//! RFC 4475 torture messages (copied byte-for-byte into tests/vectors/rfc4475/), each
//! with the verdict listed in tests/vectors/README.md. Valid messages are parsed with
//! their values checked; invalid ones are rejected with the status a request gets;
//! tolerated ones never crash and give sensible values when accepted; the semantic
//! cases (§3.2–3.4) parse, and their form checks (RFC 3261 §8.2) give the listed answer.

use sipwasm::sip::message::*;

fn load(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/vectors/rfc4475/{name}.dat",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Parses a message that must be accepted, and checks that it round-trips.
fn ok(name: &str) -> Incoming {
    match parse_frame(&load(name)) {
        Ok(Frame::Message(m)) => {
            let printed = m.msg.to_bytes();
            let again = Message::parse(&printed)
                .unwrap_or_else(|e| panic!("{name}: printed form does not parse: {e}"));
            assert_eq!(again, m.msg, "{name}: parse(print(m)) != m");
            *m
        }
        Ok(other) => panic!("{name}: parsed as {other:?}"),
        Err(e) => panic!("{name}: rejected: {e}"),
    }
}

fn rejected(name: &str) -> ParseError {
    match parse_frame(&load(name)) {
        Err(e) => e,
        Ok(_) => panic!("{name}: must be rejected"),
    }
}

fn sip(u: &Uri) -> &SipUri {
    u.as_sip().expect("a SIP URI")
}

fn ruri(m: &Incoming) -> &Uri {
    match &m.msg.start {
        StartLine::Request(r) => &r.uri,
        StartLine::Response(_) => panic!("not a request"),
    }
}

// ---- §3.1.1 valid messages --------------------------------------------------

#[test]
fn wsinv_short_tortuous_invite() {
    let m = ok("wsinv");
    let b = &m.base;
    assert_eq!(m.msg.method(), Some(&Method::Invite));
    assert_eq!(ruri(&m).param("unknownparam"), Some(None));
    let to = b.to.as_ref().unwrap();
    assert_eq!(to.uri().to_string(), "sip:vivekg@chair-dnrc.example.com");
    assert_eq!(to.tag(), Some("1918181833n"));
    let from = b.from.as_ref().unwrap();
    assert_eq!(from.addr.display.as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(b.max_forwards, Some(68));
    assert_eq!(b.call_id.as_deref(), Some("wsinv.ndaksdj@192.0.2.1"));
    assert_eq!(b.content_length, Some(150));
    let cseq = b.cseq.as_ref().unwrap();
    assert_eq!((cseq.seq, &cseq.method), (9, &Method::Invite));
    // three Vias: one folded over lines, then two in a compact `v:` list
    assert_eq!(b.vias.len(), 3);
    assert_eq!(
        (b.vias[0].transport.as_ref(), b.vias[0].host()),
        ("UDP", "192.0.2.2")
    );
    assert_eq!(b.vias[0].branch(), Some("390skdjuw"));
    assert_eq!(
        (b.vias[1].transport.as_ref(), b.vias[1].host()),
        ("TCP", "spindle.example.com")
    );
    assert_eq!(b.vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(b.vias[2].host(), "192.168.255.111");
    assert_eq!(b.vias[2].branch(), Some("z9hG4bK30239"));
    // folded unknown header keeps its text with the fold as one space
    let h = &m.msg.headers;
    assert_eq!(
        h.get(&HeaderName::from_wire("newfangledheader")),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(
        h.get(&HeaderName::from_wire("UnknownHeaderWithUnusualValue")),
        Some(";;,,;;,;")
    );
    assert_eq!(h.get(&HeaderName::Subject), Some(""));
    let routes: Vec<NameAddrHeader> = h.typed_list(HeaderName::Route).unwrap();
    assert_eq!(routes[0].uri().param("unknownwith"), Some(Some("value")));
    let c = &b.contacts[0].addr().unwrap();
    assert_eq!(c.addr.display.as_deref(), Some("Quoted string \"\""));
    assert_eq!(c.params.get("newparam"), Some(Some("newvalue")));
    assert_eq!(c.params.get("secondparam"), Some(None));
    assert_eq!(c.params.get("q"), Some(Some("0.33")));
    assert_eq!(m.msg.body.len(), 150);
    assert!(m.check_request().is_ok());
}

#[test]
fn intmeth_unknown_method() {
    let m = ok("intmeth");
    assert_eq!(
        m.msg.method().unwrap().as_str(),
        "!interesting-Method0123456789_*+`.%indeed'~"
    );
    let u = sip(ruri(&m));
    assert_eq!(
        u.user(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        u.password(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(u.host(), "example.com");
    let to = m.base.to.as_ref().unwrap();
    assert_eq!(
        to.addr.display.as_deref(),
        Some("BEL:\x07 NUL:\x00 DEL:\x7f")
    );
    let from = m.base.from.as_ref().unwrap();
    assert_eq!(
        from.addr.display.as_deref(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(
        from.params.get_unquoted("fromParam''~+*_!.-%").as_deref(),
        Some("работающий")
    );
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        m.base.cseq.as_ref().unwrap().method,
        *m.msg.method().unwrap()
    );
    assert_eq!(m.base.vias[0].branch(), Some("z9hG4bK-.!%66*_+`'~"));
}

#[test]
fn esc01_escaped_uris() {
    let m = ok("esc01");
    let u = sip(ruri(&m));
    assert_eq!(u.user_unescaped().as_deref(), Some("sips:user@example.com"));
    assert_eq!(u.host(), "example.net");
    let to = m.base.to.as_ref().unwrap();
    assert_eq!(sip(to.uri()).user_unescaped().as_deref(), Some("user"));
    let from = m.base.from.as_ref().unwrap();
    assert_eq!(
        sip(from.uri()).user_unescaped().as_deref(),
        Some("I have spaces")
    );
    let c = m.base.contacts[0].addr().unwrap();
    assert_eq!(sip(c.uri()).user_unescaped().as_deref(), Some("caller"));
    assert_eq!(c.uri().param("%6C%72"), Some(None));
    assert_eq!(c.uri().param("n%61me"), Some(Some("v%61lue%25%34%31")));
    assert_eq!(
        m.msg.headers.get(&HeaderName::ContentType),
        Some("application/sdp")
    );
}

#[test]
fn escnull_escaped_nul() {
    let m = ok("escnull");
    let to = m.base.to.as_ref().unwrap();
    assert_eq!(
        sip(to.uri()).user_unescaped().as_deref(),
        Some("null-\0-null")
    );
    assert_eq!(m.base.contacts.len(), 2);
    let c2 = m.base.contacts[1].addr().unwrap();
    assert_eq!(sip(c2.uri()).user_unescaped().as_deref(), Some("\0\0"));
    assert_eq!(m.base.content_length, Some(0));
}

#[test]
fn esc02_escaped_method() {
    let m = ok("esc02");
    assert_eq!(m.msg.method().unwrap().as_str(), "RE%47IST%45R");
    assert_ne!(
        m.msg.method(),
        Some(&Method::Register),
        "escapes are not decoded in methods"
    );
    assert_eq!(
        m.base.to.as_ref().unwrap().addr.display.as_deref(),
        Some("%Z%45")
    );
    assert_eq!(m.base.vias[0].branch(), Some("z9hG4bK209%fzsnel234"));
    // `C%6Fntact` is an unknown header, not a Contact
    assert_eq!(m.base.contacts.len(), 2);
    assert_eq!(
        m.msg.headers.get(&HeaderName::from_wire("C%6Fntact")),
        Some("<sip:alias2@host2.example.com>")
    );
}

#[test]
fn lwsdisp_no_lws_before_laquot() {
    let m = ok("lwsdisp");
    let from = m.base.from.as_ref().unwrap();
    assert_eq!(from.addr.display.as_deref(), Some("caller"));
    assert_eq!(from.uri().to_string(), "sip:caller@example.com");
    assert_eq!(from.tag(), Some("323"));
}

#[test]
fn longreq_long_values() {
    let m = ok("longreq");
    let b = &m.base;
    assert_eq!(b.vias.len(), 34, "every Via, in any case and compact form");
    assert_eq!(b.vias[0].host(), "sip33.example.com");
    assert_eq!(b.vias[33].host(), "host.example.com");
    assert_eq!(b.vias[33].received(), Some("192.0.2.5"));
    let to = b.to.as_ref().unwrap();
    assert!(to
        .addr
        .display
        .as_deref()
        .unwrap()
        .starts_with("I have a user name of extreme"));
    assert_eq!(sip(to.uri()).port, Some(6000));
    assert!(to.tag().is_none());
    let from = b.from.as_ref().unwrap();
    assert!(from.tag().unwrap().len() > 50);
    assert!(sip(from.uri())
        .user()
        .unwrap()
        .starts_with("amazinglylongcallername"));
    assert!(b
        .call_id
        .as_deref()
        .unwrap()
        .starts_with("longreq.onereallyreally"));
    assert_eq!(b.cseq.as_ref().unwrap().seq, 3882340);
    let unknown = m
        .msg
        .headers
        .iter()
        .find(|h| h.name.as_str().starts_with("Unknown-LongLong"))
        .expect("the long unknown header");
    assert!(unknown.value.len() > 100);
    assert_eq!(b.content_length, Some(m.msg.body.len() as u32));
}

#[test]
fn dblreq_uses_content_length() {
    let m = ok("dblreq");
    assert_eq!(m.msg.method(), Some(&Method::Register));
    assert_eq!(m.base.content_length, Some(0));
    assert!(m.msg.body.is_empty(), "the second message is not the body");
    assert_eq!(
        m.base.call_id.as_deref(),
        Some("dblreq.0ha0isndaksdj99sdfafnl3lk233412")
    );
    // addr-spec Contact without angle brackets
    assert_eq!(
        m.base.contacts[0].addr().unwrap().uri().to_string(),
        "sip:j.user@host.example.com"
    );
}

#[test]
fn semiuri_semicolon_in_user_part() {
    let m = ok("semiuri");
    let u = sip(ruri(&m));
    assert_eq!(u.user(), Some("user;par=u%40example.net"));
    assert_eq!(u.host(), "example.com");
    assert!(u.params().is_empty());
    let accept: Vec<MediaType> = m.msg.headers.typed_list(HeaderName::Accept).unwrap();
    assert_eq!(accept.len(), 6);
    assert!(accept[5].matches("message", "sipfrag"));
}

#[test]
fn transports_unknown_transport() {
    let m = ok("transports");
    let t: Vec<&str> = m.base.vias.iter().map(|v| v.transport.as_ref()).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    assert_eq!(
        m.base.call_id.as_deref(),
        Some("transports.kijh4akdnaqjkwendsasfdj")
    );
}

#[test]
fn mpart01_multipart_body() {
    let m = ok("mpart01");
    let ct: MediaType = m
        .msg
        .headers
        .typed(HeaderName::ContentType)
        .unwrap()
        .unwrap();
    assert!(ct.matches("multipart", "mixed"));
    assert_eq!(ct.params.get("boundary"), Some(Some("7a9cbec02ceef655")));
    assert_eq!(m.msg.body.len() as u32, m.base.content_length.unwrap());
    assert!(m.msg.body.windows(18).any(|w| w == b"--7a9cbec02ceef655"));
    assert!(
        std::str::from_utf8(&m.msg.body).is_err(),
        "binary body kept as bytes"
    );
}

#[test]
fn unreason_unusual_reason_phrase() {
    let m = ok("unreason");
    match &m.msg.start {
        StartLine::Response(s) => {
            assert_eq!(s.code, 200);
            assert_eq!(s.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
        }
        _ => panic!("a response"),
    }
}

#[test]
fn noreason_empty_reason_phrase() {
    let m = ok("noreason");
    match &m.msg.start {
        StartLine::Response(s) => assert_eq!((s.code, s.reason.as_str()), (100, "")),
        _ => panic!("a response"),
    }
    assert_eq!(m.base.to.as_ref().unwrap().tag(), Some("902jndnke3"));
}

// ---- §3.1.2 invalid messages ------------------------------------------------

#[test]
fn invalid_messages_are_rejected() {
    for (name, status, header) in [
        ("badinv01", 400, Some(HeaderName::Via)),
        ("clerr", 400, Some(HeaderName::ContentLength)),
        ("ncl", 400, Some(HeaderName::ContentLength)),
        ("scalar02", 400, None),
        ("scalarlg", 400, Some(HeaderName::CSeq)),
        ("quotbal", 400, Some(HeaderName::To)),
        ("ltgtruri", 400, None),
        ("lwsruri", 400, None),
        ("baddn", 400, Some(HeaderName::From)),
        ("badvers", 505, None),
        ("mismatch01", 400, Some(HeaderName::CSeq)),
        ("mismatch02", 400, Some(HeaderName::CSeq)),
        ("bigcode", 400, None),
    ] {
        let e = rejected(name);
        assert_eq!(e.status, status, "{name}: {e}");
        if header.is_some() {
            assert_eq!(e.header, header, "{name}: {e}");
        }
    }
}

#[test]
fn scalar02_rejected_for_a_scalar() {
    let e = rejected("scalar02");
    assert!(
        matches!(
            e.header,
            Some(
                HeaderName::CSeq
                    | HeaderName::MaxForwards
                    | HeaderName::Expires
                    | HeaderName::Contact
            )
        ),
        "{e}"
    );
}

// ---- §3.1.2 tolerated messages ------------------------------------------------

#[test]
fn lwsstart_and_trws_tolerated() {
    let m = ok("lwsstart");
    assert_eq!(ruri(&m).to_string(), "sip:user@example.com");
    let m = ok("trws");
    assert_eq!(ruri(&m).to_string(), "sip:remote-target@example.com");
    assert_eq!(m.msg.method(), Some(&Method::Options));
}

#[test]
fn escruri_escaped_headers_in_ruri() {
    let m = ok("escruri");
    let u = sip(ruri(&m));
    assert_eq!(u.host(), "example.com");
    assert_eq!(
        u.header_pairs().collect::<Vec<_>>(),
        [("Route", "%3Csip:example.com%3E")]
    );
}

#[test]
fn baddate_kept_raw() {
    let m = ok("baddate");
    assert_eq!(
        m.msg.headers.get(&HeaderName::Date),
        Some("Fri, 01 Jan 2010 16:00:00 EST")
    );
}

#[test]
fn regbadct_and_badaspec_never_crash_and_are_sensible() {
    // regbadct: an addr-spec Contact with URI headers outside <>.
    if let Ok(Frame::Message(m)) = parse_frame(&load("regbadct")) {
        let c = m.base.contacts[0].addr().unwrap();
        assert_eq!(c.uri().host(), Some("example.com"));
        assert_eq!(sip(c.uri()).user(), Some("user"));
    }
    // badaspec: spaces inside <...>; if accepted, the To URI must be the right one.
    match parse_frame(&load("badaspec")) {
        Ok(Frame::Message(m)) => {
            assert_eq!(
                m.base.to.as_ref().unwrap().uri().to_string(),
                "sip:t.watson@example.org"
            )
        }
        Ok(other) => panic!("badaspec parsed as {other:?}"),
        Err(e) => assert_eq!(e.status, 400),
    }
}

// ---- §3.2–3.4 semantic cases: the parsing half ------------------------------

#[test]
fn badbranch_is_a_valid_request() {
    let m = ok("badbranch");
    assert_eq!(m.base.vias[0].branch(), Some("z9hG4bK"));
    assert!(m.check_request().is_ok());
}

#[test]
fn insuf_missing_headers_get_400() {
    let m = ok("insuf");
    assert!(m.base.call_id.is_none() && m.base.from.is_none() && m.base.to.is_none());
    assert_eq!(m.check_request().unwrap_err().status, 400);
}

#[test]
fn unknown_and_novel_schemes_parse() {
    let m = ok("unkscm");
    assert!(
        matches!(ruri(&m), Uri::Other { scheme, rest } if scheme == "nobodyKnowsThisScheme" && rest == "totallyopaquecontent")
    );
    let m = ok("novelsc");
    assert_eq!(ruri(&m).scheme(), "soap.beep");
    let m = ok("unksm2");
    assert_eq!(m.base.to.as_ref().unwrap().uri().scheme(), "isbn");
    assert_eq!(
        m.base.from.as_ref().unwrap().uri().to_string(),
        "http://www.example.com"
    );
    assert_eq!(m.base.contacts[0].addr().unwrap().uri().scheme(), "name");
    assert!(m.check_request().is_ok());
}

#[test]
fn bext01_require_values() {
    let m = ok("bext01");
    let req: Vec<Token> = m.msg.headers.typed_list(HeaderName::Require).unwrap();
    assert_eq!(
        req,
        [
            Token("nothingSupportsThis".into()),
            Token("nothingSupportsThisEither".into())
        ]
    );
    let preq: Vec<Token> = m.msg.headers.typed_list(HeaderName::ProxyRequire).unwrap();
    assert_eq!(preq.len(), 2);
}

#[test]
fn invut_and_sdp01_content_types() {
    let m = ok("invut");
    let ct: MediaType = m
        .msg
        .headers
        .typed(HeaderName::ContentType)
        .unwrap()
        .unwrap();
    assert!(ct.matches("application", "unknownformat"));
    let m = ok("sdp01");
    let accept: Vec<MediaType> = m.msg.headers.typed_list(HeaderName::Accept).unwrap();
    assert!(!accept.iter().any(|a| a.matches("application", "sdp")));
}

#[test]
fn register_requests_parse() {
    let m = ok("regaut01");
    assert!(m
        .msg
        .headers
        .get(&HeaderName::Authorization)
        .unwrap()
        .starts_with("NoOneKnowsThisScheme"));
    let m = ok("cparam01");
    let c = m.base.contacts[0].addr().unwrap();
    assert!(
        c.uri().param("unknownparam").is_none(),
        "addr-spec: the parameter is the header's"
    );
    assert_eq!(c.params.get("unknownparam"), Some(None));
    let m = ok("cparam02");
    let c = m.base.contacts[0].addr().unwrap();
    assert_eq!(c.uri().param("unknownparam"), Some(None));
    assert!(c.params.is_empty());
    let m = ok("regescrt");
    let c = m.base.contacts[0].addr().unwrap();
    assert_eq!(
        sip(c.uri()).header_pairs().next(),
        Some(("Route", "%3Csip:sip.example.com%3E"))
    );
}

#[test]
fn multi01_and_mcl01_repeated_single_headers_get_400() {
    let m = ok("multi01");
    let e = m.check_request().unwrap_err();
    assert_eq!(e.status, 400);
    let m = ok("mcl01");
    assert_eq!(
        m.check_request().unwrap_err().header,
        Some(HeaderName::ContentLength)
    );
}

#[test]
fn bcast_response_parses() {
    let m = ok("bcast");
    assert_eq!(m.msg.status(), Some(200));
    assert_eq!(m.base.vias[1].host(), "255.255.255.255");
}

#[test]
fn zeromf_max_forwards_zero() {
    let m = ok("zeromf");
    assert_eq!(m.base.max_forwards, Some(0));
    assert!(m.check_request().is_ok());
}

#[test]
fn inv2543_rfc2543_syntax_accepted() {
    let m = ok("inv2543");
    assert!(m.base.vias[0].branch().is_none());
    assert_eq!(m.base.content_length, None);
    assert!(m.msg.body.starts_with(b"v=0"));
    // an addr-spec: `;user=phone` belongs to the header, not the URI (RFC 3261 §20.10)
    assert_eq!(
        m.base.to.as_ref().unwrap().params.get("user"),
        Some(Some("phone"))
    );
    assert!(m.check_request().is_ok());
}

/// The verdict of every torture message (tests/vectors/README.md).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    /// §3.1.1: must parse.
    Valid,
    /// §3.1.2: must be rejected.
    Invalid,
    /// §3.1.2: either, but never a crash.
    Tolerated,
    /// §3.2–3.4: parses; the UA answers it.
    Semantic,
}

const VERDICTS: [(&str, Verdict); 49] = {
    use Verdict::*;
    [
        ("wsinv", Valid),
        ("intmeth", Valid),
        ("esc01", Valid),
        ("escnull", Valid),
        ("esc02", Valid),
        ("lwsdisp", Valid),
        ("longreq", Valid),
        ("dblreq", Valid),
        ("semiuri", Valid),
        ("transports", Valid),
        ("mpart01", Valid),
        ("unreason", Valid),
        ("noreason", Valid),
        ("badinv01", Invalid),
        ("clerr", Invalid),
        ("ncl", Invalid),
        ("scalar02", Invalid),
        ("scalarlg", Invalid),
        ("quotbal", Invalid),
        ("ltgtruri", Invalid),
        ("lwsruri", Invalid),
        ("baddn", Invalid),
        ("badvers", Invalid),
        ("mismatch01", Invalid),
        ("mismatch02", Invalid),
        ("bigcode", Invalid),
        ("lwsstart", Tolerated),
        ("trws", Tolerated),
        ("escruri", Tolerated),
        ("baddate", Tolerated),
        ("regbadct", Tolerated),
        ("badaspec", Tolerated),
        ("badbranch", Semantic),
        ("insuf", Semantic),
        ("unkscm", Semantic),
        ("novelsc", Semantic),
        ("unksm2", Semantic),
        ("bext01", Semantic),
        ("invut", Semantic),
        ("regaut01", Semantic),
        ("cparam01", Semantic),
        ("cparam02", Semantic),
        ("regescrt", Semantic),
        ("multi01", Semantic),
        ("mcl01", Semantic),
        ("bcast", Semantic),
        ("zeromf", Semantic),
        ("sdp01", Semantic),
        ("inv2543", Semantic),
    ]
};

#[test]
fn every_vector_file_gets_its_verdict() {
    let dir = format!("{}/tests/vectors/rfc4475", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "dat").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    files.sort();
    let mut listed: Vec<String> = VERDICTS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "every file has exactly one verdict");
    for (name, verdict) in VERDICTS {
        match (verdict, parse_frame(&load(name))) {
            (Verdict::Invalid, Ok(_)) => panic!("{name} must be rejected"),
            (Verdict::Valid | Verdict::Semantic, Err(e)) => panic!("{name} must parse: {e}"),
            (_, Ok(Frame::Message(m))) => {
                // whatever is accepted round-trips
                assert_eq!(Message::parse(&m.msg.to_bytes()).unwrap(), m.msg, "{name}");
            }
            (_, Ok(other)) => panic!("{name}: {other:?}"),
            (_, Err(_)) => {}
        }
    }
}
