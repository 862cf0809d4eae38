//! Registration against a scripted registrar (RFC 3261 §10, RFC 5626 §4.2,
//! RFC 7118 §5): the REGISTER itself, digest, 403, 423, granted expiry and refresh.

mod common;

use common::ua::*;
use common::*;
use sipwasm::sip::auth::{digest_response, Challenge, Credentials};
use sipwasm::sip::message::{Contact, Message, NameAddrHeader, TypedHeader, Via};
use sipwasm::sip::ua::LogLevel;
use std::time::Duration;

const WWW: &str =
    r#"WWW-Authenticate: Digest realm="example.com", nonce="n0nce1", qop="auth", algorithm=MD5"#;

fn challenge(req: &Message, www: &str) -> String {
    response_to(req, 401, "Unauthorized", &[www.to_owned()])
}

/// Checks the Authorization of `req` against a response computed independently from
/// the challenge, the password and the cnonce/nc the UA chose; returns (nc, response).
fn check_digest(req: &Message, www: &str, username: &str, password: &str) -> (String, String) {
    let auth = header(req, "Authorization");
    let p = digest_params(&auth);
    let ch = Challenge::parse(www.trim_start_matches("WWW-Authenticate:").trim()).unwrap();
    let nc = u32::from_str_radix(&p["nc"], 16).unwrap();
    let creds = Credentials::Password {
        username: username.into(),
        password: password.into(),
    };
    let expected =
        digest_response(&ch, &creds, "REGISTER", &p["uri"], b"", &p["cnonce"], nc).unwrap();
    assert_eq!(p["uri"], "sip:example.com");
    assert_eq!(p["username"], username);
    assert_eq!(p["response"], expected.response, "{auth}");
    (p["nc"].clone(), p["response"].clone())
}

#[test]
fn register_carries_every_header() {
    let mut cfg = config();
    cfg.extra_headers = vec!["X-Tenant: blue".into()];
    cfg.user_agent = Some("Phone/1.0".into());
    let mut h = ua_with(cfg, 3);
    h.act(|d, now| d.cmd(|ua| ua.start(now)));
    assert_eq!(h.outs(), [format!("Connect {EDGE1}")]);
    h.connected();
    assert_eq!(h.outs(), ["Connected", "Send REGISTER"]);
    let reg = h.one_sent();

    assert_eq!(
        reg.to_string().lines().next(),
        Some("REGISTER sip:example.com SIP/2.0")
    );
    let via = Via::parse(&header(&reg, "Via")).unwrap();
    assert_eq!(via.transport, "WSS");
    assert!(
        via.host().ends_with(".invalid") && via.host().len() > 10,
        "{via}"
    );
    assert!(via.is_rfc3261_branch() && via.branch().unwrap().len() > 10);
    assert_eq!(via.port, None);
    assert_eq!(header(&reg, "Max-Forwards"), "70");
    assert_eq!(header(&reg, "To"), "<sip:alice@example.com>");
    let from = NameAddrHeader::parse(&header(&reg, "From")).unwrap();
    assert_eq!(from.addr.display.as_deref(), Some("Alice"));
    assert_eq!(from.uri().to_string(), "sip:alice@example.com");
    assert!(from.tag().is_some_and(|t| t.len() >= 8));
    assert!(header(&reg, "Call-ID").len() >= 16);
    assert_eq!(header(&reg, "CSeq"), "1 REGISTER");

    // Contact: RFC 5626 §4.2.1 reg-id and +sip.instance; RFC 7118 §5.2 .invalid host.
    let Contact::Addr(c) = Contact::parse(&header(&reg, "Contact")).unwrap() else {
        panic!("star contact")
    };
    let uri = c.uri().as_sip().unwrap();
    assert_eq!(uri.host(), via.host(), "Contact host is the Via host");
    assert!(uri.user().is_some_and(|u| u.len() == 8));
    assert_eq!(uri.params().get("transport"), Some(Some("ws")));
    assert_eq!(
        uri.params().get("ob"),
        None,
        "no ob in a REGISTER Contact (RFC 5626 §4.3)"
    );
    assert_eq!(c.params.get("reg-id"), Some(Some("1")));
    let instance = c.params.get_unquoted("+sip.instance").unwrap();
    assert!(
        instance.starts_with("<urn:uuid:") && instance.ends_with('>'),
        "{instance}"
    );
    assert_eq!(instance.trim_matches(['<', '>']), h.core.ua.instance_id());
    assert_eq!(c.params.get("expires"), Some(Some("600")));

    assert_eq!(header(&reg, "Expires"), "600");
    let supported = header(&reg, "Supported");
    for tag in ["outbound", "path", "gruu"] {
        assert!(supported.split(", ").any(|s| s == tag), "{supported}");
    }
    assert!(header(&reg, "Allow").contains("INVITE"));
    assert_eq!(header(&reg, "User-Agent"), "Phone/1.0");
    assert_eq!(header(&reg, "X-Tenant"), "blue");
    assert_eq!(header(&reg, "Content-Length"), "0");
    assert!(header_values(&reg, "Authorization").is_empty());
    assert!(!h.core.ua.is_registered());

    h.peer(&ok_register(&reg, 600));
    assert_eq!(h.outs(), ["Registered", "IsRegisteredChange(true)"]);
    assert!(h.core.ua.is_registered() && h.core.ua.is_connected());

    // Refresh exactly at max(600/2, 600 - 32) = 568 s: same Call-ID, CSeq+1, new branch.
    h.advance_to(ms(568_000 - 1));
    assert!(h.take_sent().is_empty());
    h.advance_to(ms(568_000));
    let refresh = h.one_sent();
    assert_eq!(h.sent.last().unwrap().0, ms(568_000));
    assert_eq!(header(&refresh, "Call-ID"), header(&reg, "Call-ID"));
    assert_eq!(header(&refresh, "CSeq"), "2 REGISTER");
    assert_eq!(header(&refresh, "Contact"), header(&reg, "Contact"));
    assert_eq!(h.outs(), ["Send REGISTER"]);
    let via2 = Via::parse(&header(&refresh, "Via")).unwrap();
    assert_eq!(via2.host(), via.host());
    assert_ne!(via2.branch(), via.branch());
    h.peer(&ok_register(&refresh, 600));
    assert_eq!(h.outs(), Vec::<String>::new(), "no Registered on refresh");
    assert!(h.core.ua.is_registered());
}

#[test]
fn ws_server_gets_ws_via() {
    let mut cfg = config();
    cfg.servers = vec!["ws://127.0.0.1:8080/ws".into()];
    let mut h = ua_with(cfg, 4);
    h.start_and_connect();
    let via = Via::parse(&header(&h.one_sent(), "Via")).unwrap();
    assert_eq!(via.transport, "WS");
}

#[test]
fn digest_challenge_is_answered_and_refresh_reuses_the_nonce() {
    let mut h = ua();
    h.start_and_connect();
    let reg1 = h.one_sent();
    h.peer(&challenge(&reg1, WWW));
    let reg2 = h.one_sent();
    assert_eq!(header(&reg2, "CSeq"), "2 REGISTER");
    assert_eq!(header(&reg2, "Call-ID"), header(&reg1, "Call-ID"));
    let (nc, response) = check_digest(&reg2, WWW, "alice", "secret");
    assert_eq!(nc, "00000001");
    h.outs();
    h.peer(&ok_register(&reg2, 600));
    assert_eq!(h.outs(), ["Registered", "IsRegisteredChange(true)"]);

    // The refresh is authorized pre-emptively with the cached nonce and nc = 2.
    h.advance_to(ms(568_000));
    let reg3 = h.one_sent();
    assert_eq!(header(&reg3, "CSeq"), "3 REGISTER");
    let (nc, _) = check_digest(&reg3, WWW, "alice", "secret");
    assert_eq!(nc, "00000002");
    assert_eq!(
        digest_params(&header(&reg3, "Authorization"))["nonce"],
        "n0nce1"
    );

    // Traces never show the digest response.
    let all: String = h.logs(LogLevel::Debug).join("\n");
    assert!(all.contains("REGISTER sip:example.com"));
    assert!(!all.contains(&response), "digest response leaked into logs");
    assert!(!all.contains("secret"));
}

#[test]
fn proxy_challenge_and_ha1_login() {
    let mut cfg = config();
    cfg.password = None;
    // HA1 = MD5("alice:example.com:secret")
    cfg.ha1 = Some(md5_hex("alice:example.com:secret"));
    cfg.realm = Some("example.com".into());
    let mut h = ua_with(cfg, 5);
    h.start_and_connect();
    let reg1 = h.one_sent();
    let proxy = r#"Proxy-Authenticate: Digest realm="example.com", nonce="pn", qop="auth""#;
    h.peer(&response_to(
        &reg1,
        407,
        "Proxy Authentication Required",
        &[proxy.into()],
    ));
    let reg2 = h.one_sent();
    let p = digest_params(&header(&reg2, "Proxy-Authorization"));
    let ch = Challenge::parse(proxy.trim_start_matches("Proxy-Authenticate:").trim()).unwrap();
    let creds = Credentials::Password {
        username: "alice".into(),
        password: "secret".into(),
    };
    let nc = u32::from_str_radix(&p["nc"], 16).unwrap();
    let want = digest_response(
        &ch,
        &creds,
        "REGISTER",
        "sip:example.com",
        b"",
        &p["cnonce"],
        nc,
    )
    .unwrap();
    assert_eq!(p["response"], want.response);
    h.peer(&ok_register(&reg2, 600));
    assert!(h.core.ua.is_registered());
}

/// HA1 vectors computed with `echo -n user:realm:password | md5sum`.
fn md5_hex(s: &str) -> String {
    match s {
        "alice:example.com:secret" => "b1726872c344b6dc8365b774f8fd6412".to_owned(),
        _ => unreachable!("no vector for {s}"),
    }
}

#[test]
fn wrong_password_fails_once_and_stops() {
    let mut h = ua();
    h.start_and_connect();
    let reg1 = h.one_sent();
    h.peer(&challenge(&reg1, WWW));
    let reg2 = h.one_sent();
    h.take_briefs();
    // Same nonce, not stale: the credentials are wrong.
    h.peer(&challenge(&reg2, WWW));
    assert_eq!(
        h.outs(),
        [r#"RegistrationFailed { code: 401, cause: "Authentication Error" }"#]
    );
    h.advance(Duration::ZERO); // Timer K (0 s over WS) ends the transaction
    assert_eq!(h.core.ua.poll_timeout(), None, "no retry scheduled");
    h.advance(Duration::from_secs(3600));
    assert!(h.take_sent().is_empty());
    assert_eq!(h.outs(), Vec::<String>::new());
    assert!(!h.core.ua.is_registered());
}

#[test]
fn forbidden_is_not_retried_until_new_credentials() {
    let mut h = ua();
    h.start_and_connect();
    let reg1 = h.one_sent();
    h.outs();
    h.peer(&response_to(&reg1, 403, "Forbidden", &[]));
    assert_eq!(
        h.outs(),
        [r#"RegistrationFailed { code: 403, cause: "Rejected" }"#]
    );
    h.advance(Duration::from_secs(600));
    assert!(h.take_sent().is_empty());

    // A reconnect does not retry refused credentials either.
    h.closed(1006);
    h.advance(Duration::from_secs(5));
    h.connected();
    assert!(
        h.take_sent().is_empty(),
        "refused credentials are not retried"
    );

    // New credentials: REGISTER at once, same Call-ID, next CSeq.
    let ha1 = "0123456789abcdef0123456789abcdef";
    let r = h.act(|d, now| d.cmd(|ua| ua.re_register(now, "alice2", ha1)));
    assert!(r.is_ok());
    let reg2 = h.one_sent();
    assert_eq!(header(&reg2, "Call-ID"), header(&reg1, "Call-ID"));
    assert_eq!(header(&reg2, "CSeq"), "2 REGISTER");
    h.peer(&challenge(&reg2, WWW));
    let reg3 = h.one_sent();
    assert_eq!(
        digest_params(&header(&reg3, "Authorization"))["username"],
        "alice2"
    );
    h.peer(&ok_register(&reg3, 600));
    assert!(h.core.ua.is_registered());

    // Bad arguments are refused with the field named, and change nothing.
    let e = h
        .act(|d, now| d.cmd(|ua| ua.re_register(now, "alice", "xyz")))
        .unwrap_err();
    assert_eq!(e.field, "ha1");
    let e = h
        .act(|d, now| d.cmd(|ua| ua.re_register(now, " ", ha1)))
        .unwrap_err();
    assert_eq!(e.field, "authorization_user");
    assert!(h.take_sent().is_empty());
}

#[test]
fn interval_too_brief_retries_with_min_expires() {
    let mut h = ua();
    h.start_and_connect();
    let reg1 = h.one_sent();
    h.peer(&response_to(
        &reg1,
        423,
        "Interval Too Brief",
        &["Min-Expires: 1800".into()],
    ));
    let reg2 = h.one_sent();
    assert_eq!(h.sent.last().unwrap().0, h.now, "retried at once");
    assert_eq!(header(&reg2, "CSeq"), "2 REGISTER");
    assert_eq!(header(&reg2, "Expires"), "1800");
    assert!(header(&reg2, "Contact").ends_with(";expires=1800"));
    assert_eq!(
        h.outs(),
        [
            &format!("Connect {EDGE1}"),
            "Connected",
            "Send REGISTER",
            "Send REGISTER"
        ]
    );
    h.peer(&ok_register(&reg2, 1800));
    assert!(h.core.ua.is_registered());
    h.advance_to(ms(1_768_000 - 1));
    assert!(h.take_sent().is_empty());
    h.advance_to(ms(1_768_000));
    assert_eq!(header(&h.one_sent(), "Expires"), "1800");

    // A 423 without a usable Min-Expires is an ordinary failure.
    let mut h = ua();
    h.start_and_connect();
    let reg = h.one_sent();
    h.take_briefs();
    h.peer(&response_to(&reg, 423, "Interval Too Brief", &[]));
    assert_eq!(
        h.outs(),
        [r#"RegistrationFailed { code: 423, cause: "Interval Too Brief" }"#]
    );
}

#[test]
fn granted_expiry_comes_from_our_contact_then_the_expires_header() {
    // Our Contact says 120 while another device's says 3600: refresh at 88 s.
    let mut h = ua();
    h.start_and_connect();
    let reg = h.one_sent();
    let other = r#"Contact: <sip:bob@198.51.100.7;transport=ws>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";reg-id=1;expires=3600"#;
    let ours = format!("Contact: {}", contact_with_expires(&reg, 120));
    h.peer(&response_to(
        &reg,
        200,
        "OK",
        &[other.into(), ours, "Expires: 900".into()],
    ));
    h.advance_to(ms(88_000 - 1));
    assert!(h.take_sent().is_empty());
    h.advance_to(ms(88_000));
    assert_eq!(h.take_sent().len(), 1);

    // No Contact in the 2xx: the Expires header decides (300 → 268 s).
    let mut h = ua();
    h.start_and_connect();
    let reg = h.one_sent();
    h.peer(&response_to(&reg, 200, "OK", &["Expires: 300".into()]));
    assert!(h.core.ua.is_registered());
    h.advance_to(ms(268_000 - 1));
    assert!(h.take_sent().is_empty());
    h.advance_to(ms(268_000));
    assert_eq!(h.take_sent().len(), 1);
}

#[test]
fn failed_refresh_keeps_the_binding_until_it_expires() {
    let mut h = ua();
    h.register_ok(120);
    h.take_briefs();
    // Refresh at 88 s gets 500 with Retry-After 60: the binding (until 120 s) holds.
    h.advance_to(ms(88_000));
    let r = h.one_sent();
    h.peer(&response_to(
        &r,
        500,
        "Server Error",
        &["Retry-After: 60".into()],
    ));
    assert_eq!(
        h.outs(),
        [
            "Send REGISTER",
            r#"RegistrationFailed { code: 500, cause: "SIP Failure Code" }"#
        ]
    );
    assert!(h.core.ua.is_registered());
    h.advance_to(ms(120_000));
    assert_eq!(h.outs(), ["Unregistered", "IsRegisteredChange(false)"]);
    assert!(!h.core.ua.is_registered());
    // The retry honours Retry-After: 88 s + 60 s.
    h.advance_to(ms(148_000 - 1));
    assert!(h.take_sent().is_empty());
    h.advance_to(ms(148_000));
    let r = h.one_sent();
    h.peer(&ok_register(&r, 120));
    assert_eq!(
        h.outs(),
        ["Send REGISTER", "Registered", "IsRegisteredChange(true)"]
    );
}

#[test]
fn the_log_level_drops_lines_before_they_are_built() {
    // Default: every level, SIP traces included.
    let mut h = ua();
    h.register_ok(600);
    assert!(h
        .logs(LogLevel::Debug)
        .iter()
        .any(|l| l.starts_with("send:")));

    // Warn and above only: no traces, no state changes.
    let mut h = ua();
    h.core.ua.set_log_level(Some(LogLevel::Warn));
    h.register_ok(600);
    assert!(
        h.logs(LogLevel::Debug).is_empty(),
        "{:?}",
        h.logs(LogLevel::Debug)
    );

    // Off: nothing, and the registration is the same.
    let mut h = ua();
    h.core.ua.set_log_level(None);
    let reg = h.register_ok(600);
    assert_eq!(header(&reg, "CSeq"), "1 REGISTER");
    assert!(h.logs(LogLevel::Debug).is_empty());
}
