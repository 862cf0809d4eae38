//! Configuration validation: every rule, every error naming its field.

mod common;

use common::ua::*;
use common::*;
use sipwasm::sip::config::{ConfigError, UaConfig};

fn err(f: impl FnOnce(&mut UaConfig)) -> ConfigError {
    let mut c = config();
    f(&mut c);
    match c.validate() {
        Ok(_) => panic!("accepted: {c:?}"),
        Err(e) => e,
    }
}

fn ok(f: impl FnOnce(&mut UaConfig)) {
    let mut c = config();
    f(&mut c);
    if let Err(e) = c.validate() {
        panic!("refused {c:?}: {e}");
    }
}

#[test]
fn defaults() {
    let d = UaConfig::default();
    assert_eq!(d.register_expires, 600);
    assert_eq!(d.re_register_times, 5);
    assert_eq!(d.keepalive_interval_secs, 30);
    assert!(!d.allow_insecure && !d.heartbeat);
    assert_eq!(d.validate().unwrap_err().field, "servers");
    ok(|_| {});
}

#[test]
fn servers() {
    assert_eq!(err(|c| c.servers.clear()).field, "servers");
    for bad in [
        "http://pbx.example.com",
        "pbx.example.com",
        "wss://",
        "wss:///path",
        "wss://a b.example",
        "wss://pbx.example.com:0/ws",
        "wss://pbx.example.com:99999",
        "wss://user@pbx.example.com",
        "wss://pbx.example.com/ws#frag",
        "wss://[::1",
        "wss://pbx.example.com/\u{7f}",
        // ws:// to a non-loopback host without allow_insecure
        "ws://pbx.example.com/ws",
        "ws://192.168.1.10:8080",
        "ws://localhost.example.com",
    ] {
        let e = err(|c| c.servers = vec![bad.into()]);
        assert_eq!(e.field, "servers", "{bad}");
        assert!(e.to_string().starts_with("servers: "), "{e}");
    }
    for good in [
        "wss://pbx.example.com:8089/ws",
        "WSS://PBX.example.com/ws?x=1",
        "wss://[2001:db8::1]:443/ws",
        "ws://127.0.0.1:5066/ws",
        "ws://127.9.9.9",
        "ws://[::1]:8080",
        "ws://localhost:8080/ws",
        "  wss://trimmed.example.com  ",
    ] {
        ok(|c| c.servers = vec![good.into()]);
    }
    ok(|c| {
        c.servers = vec!["ws://pbx.example.com/ws".into()];
        c.allow_insecure = true;
    });
    let e = err(|c| c.servers = vec!["wss://ok.example.com".into(), "ftp://x".into()]);
    assert!(e.message.contains("ftp://x"), "{e}");
    assert!(err(|c| c.servers = vec!["wss://a.example".into(); 17])
        .message
        .contains("16"));
}

#[test]
fn uri() {
    for bad in [
        "",
        "alice@example.com",
        "tel:+15551234",
        "sip:example.com",
        "sip:alice:pw@example.com",
        "sip:alice@example.com?subject=x",
        "sip:al ice@example.com",
        "http://example.com",
    ] {
        assert_eq!(err(|c| c.uri = bad.into()).field, "uri", "{bad:?}");
    }
    ok(|c| c.uri = "sips:alice@example.com:5061".into());
    ok(|c| c.uri = " sip:%61lice@example.com ".into());
}

#[test]
fn credentials() {
    let e = err(|c| c.password = None);
    assert_eq!(e.field, "password");
    assert_eq!(err(|c| c.password = Some("".into())).field, "password");
    assert_eq!(err(|c| c.password = Some("a\nb".into())).field, "password");
    ok(|c| {
        c.password = None;
        c.ha1 = Some("0123456789ABCDEF0123456789abcdef".into());
        c.realm = Some("example.com".into());
    });
    ok(|c| {
        c.password = None;
        c.ha1 = Some("ab".repeat(32));
    });
    for bad in [
        "xyz",
        "0123456789abcdef0123456789abcde",
        "g123456789abcdef0123456789abcdef",
    ] {
        let e = err(|c| {
            c.password = None;
            c.ha1 = Some(bad.into());
        });
        assert_eq!(e.field, "ha1", "{bad}");
    }
    assert_eq!(err(|c| c.realm = Some("a\r\nb".into())).field, "realm");
    assert_eq!(
        err(|c| c.authorization_user = Some("bob\n".into())).field,
        "authorization_user"
    );
    assert_eq!(
        err(|c| c.display_name = Some("Al\r\nice".into())).field,
        "display_name"
    );
    assert_eq!(
        err(|c| c.display_name = Some("x".repeat(300))).field,
        "display_name"
    );
    ok(|c| c.display_name = Some("Ålice \"the\" Admin".into()));
}

#[test]
fn numbers() {
    for bad in [0, 1, 59, u32::MAX] {
        let e = err(|c| c.register_expires = bad);
        assert_eq!(e.field, "register_expires");
        assert!(e.message.contains("60"), "{e}");
    }
    ok(|c| c.register_expires = 60);
    ok(|c| c.register_expires = i32::MAX as u32);
    assert_eq!(
        err(|c| c.re_register_times = 1001).field,
        "re_register_times"
    );
    ok(|c| c.re_register_times = 0);
    for bad in [1, 9, 3601] {
        assert_eq!(
            err(|c| c.keepalive_interval_secs = bad).field,
            "keepalive_interval_secs"
        );
    }
    ok(|c| c.keepalive_interval_secs = 0);
    ok(|c| c.keepalive_interval_secs = 10);
}

#[test]
fn extra_headers() {
    for bad in [
        "NoColon",
        ": no name",
        "Bad Name: x",
        "X-Evil: a\r\nVia: SIP/2.0/WS evil",
        "X-Nul: a\0b",
        "X-Ctl: a\u{7}b",
        "Via: SIP/2.0/WSS x",
        "v: compact via",
        "call-id: x",
        "i: x",
        "CSeq: 1 REGISTER",
        "Max-Forwards: 1",
        "Content-Length: 5",
        "Contact: <sip:x@y>",
        "From: <sip:x@y>",
        "To: <sip:x@y>",
        "Authorization: Digest x",
    ] {
        let e = err(|c| c.extra_headers = vec![bad.into()]);
        assert_eq!(e.field, "extra_headers", "{bad:?}");
    }
    ok(|c| {
        c.extra_headers = vec![
            "X-Tenant: blue".into(),
            "P-Preferred-Identity: <sip:a@b>".into(),
        ]
    });
    assert_eq!(
        err(|c| c.extra_headers = vec!["X-A: b".into(); 33]).field,
        "extra_headers"
    );
    // set_extra_headers applies the same rules and changes nothing on error.
    let mut h = ua();
    let e = h
        .act(|d, _| d.cmd(|ua| ua.set_extra_headers(vec!["Via: x".into()])))
        .unwrap_err();
    assert_eq!(e.field, "extra_headers");
    h.act(|d, _| d.cmd(|ua| ua.set_extra_headers(vec!["X-Later: 1".into()])))
        .unwrap();
    h.start_and_connect();
    assert_eq!(header(&h.one_sent(), "X-Later"), "1");
}

#[test]
fn user_agent_and_instance_id() {
    assert_eq!(
        err(|c| c.user_agent = Some("UA\n1".into())).field,
        "user_agent"
    );
    for bad in [
        "urn:uuid:zzz",
        "uuid:00000000-0000-4000-8000-000000000000",
        "urn:uuid:00000000000040008000000000000000xxxx",
    ] {
        assert_eq!(
            err(|c| c.instance_id = Some(bad.into())).field,
            "instance_id",
            "{bad}"
        );
    }
    let id = "urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6";
    let mut cfg = config();
    cfg.instance_id = Some(id.into());
    let mut h = ua_with(cfg, 2);
    assert_eq!(h.core.ua.instance_id(), id.to_ascii_lowercase());
    h.start_and_connect();
    assert!(header(&h.one_sent(), "Contact")
        .contains(&format!("+sip.instance=\"<{}>\"", id.to_ascii_lowercase())));
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let mut c = config();
    c.password = Some("hunter2".into());
    c.ha1 = Some("0123456789abcdef0123456789abcdef".into());
    let valid = c.validate().unwrap();
    let text = format!("{c:?} {valid:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("0123456789abcdef"),
        "{text}"
    );
}
