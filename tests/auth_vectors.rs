//! Digest authentication vectors and Authenticator behaviour.
//!
//! Published vectors: RFC 2617 §3.5, RFC 7616 §3.9.1, and a real SIP REGISTER
//! (`/work/shared/bench-corpus/03-register-auth.sip`, sent by JsSIP 3.10.1).
//! Other expected values were computed independently with Python's hashlib,
//! straight from the RFC 2617 §3.2.2 / RFC 7616 §3.4 formulas:
//!
//! ```text
//! H   = hashlib.md5 or hashlib.sha256, hexdigest()
//! HA1 = H("user:realm:pass");  -sess: HA1 = H(f"{HA1}:{nonce}:{cnonce}")
//! HA2 = H("METHOD:uri")        auth-int: HA2 = H(f"METHOD:uri:{H(body)}")
//! qop:    response = H(f"{HA1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{HA2}")
//! no qop: response = H(f"{HA1}:{nonce}:{HA2}")
//! ```

use sipwasm::sip::auth::*;

// --- RFC 2617 §3.5 ---------------------------------------------------------

#[test]
fn rfc2617_worked_example() {
    let challenge = Challenge::parse(
        r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
    )
    .unwrap();
    let creds = Credentials::Password {
        username: "Mufasa".into(),
        password: "Circle Of Life".into(),
    };
    let auth = digest_response(
        &challenge,
        &creds,
        "GET",
        "/dir/index.html",
        b"",
        "0a4f113b",
        1,
    )
    .unwrap();
    assert_eq!(auth.response, "6629fae49393a05397450978507c4ef1");
    assert_eq!(auth.qop, Some(Qop::Auth), "auth preferred over auth-int");
    assert_eq!(
        auth.to_header_value(),
        r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001"#
    );
}

// --- RFC 7616 §3.9.1 -------------------------------------------------------

const RFC7616_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
const RFC7616_OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";

fn rfc7616(algorithm: &str) -> Authorization {
    let challenge = Challenge::parse(&format!(
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}""#
    ))
    .unwrap();
    let creds = Credentials::Password {
        username: "Mufasa".into(),
        password: "Circle of Life".into(),
    };
    digest_response(
        &challenge,
        &creds,
        "GET",
        "/dir/index.html",
        b"",
        RFC7616_CNONCE,
        1,
    )
    .unwrap()
}

#[test]
fn rfc7616_md5() {
    let auth = rfc7616("MD5");
    assert_eq!(auth.response, "8ca523f5e9506fed4657c9700eebdbec");
    assert_eq!(
        auth.to_header_value(),
        format!(
            r#"Digest username="Mufasa", realm="http-auth@example.org", nonce="{RFC7616_NONCE}", uri="/dir/index.html", response="8ca523f5e9506fed4657c9700eebdbec", algorithm=MD5, cnonce="{RFC7616_CNONCE}", opaque="{RFC7616_OPAQUE}", qop=auth, nc=00000001"#
        )
    );
}

#[test]
fn rfc7616_sha256() {
    let auth = rfc7616("SHA-256");
    assert_eq!(
        auth.response,
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    assert_eq!(auth.algorithm, Algorithm::Sha256);
    assert!(auth.to_header_value().contains(", algorithm=SHA-256, "));
}

// --- Real SIP REGISTER (bench-corpus/03-register-auth.sip) -----------------

const SIP_NONCE: &str = "ZdXgrGXV33H8c3+mQ2Z6Rk1Nd6rH0N0a";
const SIP_CNONCE: &str = "k0t2n6f9l1qs";
/// hashlib.md5(b"alice:example.com:wonderland-1865").hexdigest()
const ALICE_HA1_MD5: &str = "b2c4541860b7331d018b3ab63e37d3ac";
/// hashlib.sha256(b"alice:example.com:wonderland-1865").hexdigest()
const ALICE_HA1_SHA256: &str = "d343dfb90d926e0c6fca8a1a4fe0b2a1c10f8ea1dbb6f8d2880ed73a09bc7eea";
/// An SDP body for the auth-int vectors (exact bytes hashed by hashlib).
const SDP: &[u8] = b"v=0\r\no=alice 2890844526 2890844526 IN IP4 host.example.com\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n";

fn alice() -> Credentials {
    Credentials::Password {
        username: "alice".into(),
        password: "wonderland-1865".into(),
    }
}

fn alice_ha1(realm: Option<&str>, ha1: &str) -> Credentials {
    Credentials::Ha1 {
        username: "alice".into(),
        realm: realm.map(str::to_string),
        ha1: ha1.into(),
    }
}

fn sip_challenge(extra: &str) -> Challenge {
    Challenge::parse(&format!(
        r#"Digest realm="example.com", nonce="{SIP_NONCE}"{extra}"#
    ))
    .unwrap()
}

const SIP_HEADER: &str = r#"Digest username="alice", realm="example.com", nonce="ZdXgrGXV33H8c3+mQ2Z6Rk1Nd6rH0N0a", uri="sip:example.com", response="b8e42fe3222403839bd5877eb39ef6cc", algorithm=MD5, cnonce="k0t2n6f9l1qs", qop=auth, nc=00000001"#;

#[test]
fn sip_register_vector() {
    let c = sip_challenge(r#", algorithm=MD5, qop="auth""#);
    let auth = digest_response(
        &c,
        &alice(),
        "REGISTER",
        "sip:example.com",
        b"",
        SIP_CNONCE,
        1,
    )
    .unwrap();
    assert_eq!(auth.response, "b8e42fe3222403839bd5877eb39ef6cc");
    assert_eq!(auth.to_header_value(), SIP_HEADER);
}

#[test]
fn sip_register_vector_with_precomputed_ha1() {
    let c = sip_challenge(r#", qop="auth""#);
    for creds in [
        alice_ha1(Some("example.com"), ALICE_HA1_MD5),
        alice_ha1(None, ALICE_HA1_MD5),
        alice_ha1(None, &ALICE_HA1_MD5.to_uppercase()),
    ] {
        let auth = digest_response(
            &c,
            &creds,
            "REGISTER",
            "sip:example.com",
            b"",
            SIP_CNONCE,
            1,
        )
        .unwrap();
        assert_eq!(auth.response, "b8e42fe3222403839bd5877eb39ef6cc");
    }
}

#[test]
fn precomputed_ha1_rules() {
    let md5 = sip_challenge(r#", qop="auth""#);
    let sha = sip_challenge(r#", qop="auth", algorithm=SHA-256"#);
    let go = |c: &Challenge, creds: &Credentials| {
        digest_response(c, creds, "REGISTER", "sip:example.com", b"", SIP_CNONCE, 1)
    };
    assert_eq!(
        go(&md5, &alice_ha1(Some("other.org"), ALICE_HA1_MD5)),
        Err(AuthError::RealmMismatch {
            expected: "other.org".into(),
            got: "example.com".into()
        })
    );
    // 64 hex digits = SHA-256 HA1: answers SHA-256, not MD5.
    // Expected: response formula above with SHA-256, nc=1, qop=auth.
    let r = go(&sha, &alice_ha1(None, ALICE_HA1_SHA256)).unwrap();
    assert_eq!(
        r.response,
        "f36c42289a58af89ee579999c1238932d9932138b6f8998f506a11c834d30532"
    );
    assert_eq!(go(&sha, &alice()).unwrap().response, r.response);
    assert_eq!(
        go(&md5, &alice_ha1(None, ALICE_HA1_SHA256)),
        Err(AuthError::Ha1AlgorithmMismatch(Algorithm::Md5))
    );
    assert_eq!(
        go(&sha, &alice_ha1(None, ALICE_HA1_MD5)),
        Err(AuthError::Ha1AlgorithmMismatch(Algorithm::Sha256))
    );
    assert_eq!(
        go(&md5, &alice_ha1(None, "xyz")),
        Err(AuthError::InvalidHa1)
    );
    assert_eq!(
        go(&md5, &alice_ha1(None, &"g".repeat(32))),
        Err(AuthError::InvalidHa1)
    );
}

// --- -sess, auth-int, RFC 2069, SHA-256-sess (hashlib-computed) ------------

/// Answers `INVITE sip:bob@example.com` with the SDP body, nc=1.
fn invite(algorithm: &str, qop: Option<&str>) -> Authorization {
    let qop = qop.map_or(String::new(), |q| format!(r#", qop="{q}""#));
    let c = sip_challenge(&format!(", algorithm={algorithm}{qop}"));
    digest_response(
        &c,
        &alice(),
        "INVITE",
        "sip:bob@example.com",
        SDP,
        SIP_CNONCE,
        1,
    )
    .unwrap()
}

#[test]
fn md5_variants() {
    assert_eq!(
        invite("MD5", Some("auth")).response,
        "f2e0cd695480520dc274552fd379f457"
    );
    assert_eq!(
        invite("MD5", Some("auth-int")).response,
        "96a747bf4730f6666645d650be25982b"
    );
    assert_eq!(
        invite("MD5-sess", Some("auth")).response,
        "930196e37247c09406cd6b3293612dcb"
    );
    assert_eq!(
        invite("MD5-sess", Some("auth-int")).response,
        "0124a44a9ddac3b798b1c81fce4d0ba6"
    );
}

#[test]
fn sha256_variants() {
    assert_eq!(
        invite("SHA-256", Some("auth")).response,
        "7428b7c6a1c517035b97fc2760471efe398e96fd791d00e9f986fa09668ee17b"
    );
    assert_eq!(
        invite("SHA-256", Some("auth-int")).response,
        "7d225b16d011ccd82389df9ef4400c55a863724b6aff254dedc6b2e46434b75e"
    );
    assert_eq!(
        invite("SHA-256-sess", Some("auth")).response,
        "f27a9f770520e80b25f2da57243244f41eb4105117ab67682a5dbec5afc35e00"
    );
    assert_eq!(
        invite("SHA-256-sess", Some("auth-int")).response,
        "eb171e3efacdb68ca797f23fc71f158f20ce953971e39c7fbddc7215114f9663"
    );
}

#[test]
fn auth_int_only_when_auth_not_offered() {
    let a = invite("MD5", Some("auth-int,auth"));
    assert_eq!(a.qop, Some(Qop::Auth));
    let a = invite("MD5", Some("auth-int"));
    assert_eq!(a.qop, Some(Qop::AuthInt));
    assert!(a.to_header_value().ends_with(", qop=auth-int, nc=00000001"));
    // Empty body, auth-int: HA2 = H("REGISTER:sip:example.com:" + md5(b"")).
    let c = sip_challenge(r#", qop="auth-int""#);
    let a = digest_response(
        &c,
        &alice(),
        "REGISTER",
        "sip:example.com",
        b"",
        SIP_CNONCE,
        1,
    )
    .unwrap();
    assert_eq!(a.response, "a0c867ac7a56580c63cdd001e4c8ab1f");
}

#[test]
fn rfc2069_form_without_qop() {
    let a = invite("MD5", None);
    assert_eq!(a.response, "0be52e77fc8def2a378009a02bf4d924");
    assert_eq!((a.qop, a.nc, a.cnonce.as_deref()), (None, None, None));
    assert_eq!(
        a.to_header_value(),
        r#"Digest username="alice", realm="example.com", nonce="ZdXgrGXV33H8c3+mQ2Z6Rk1Nd6rH0N0a", uri="sip:bob@example.com", response="0be52e77fc8def2a378009a02bf4d924", algorithm=MD5"#
    );
    assert_eq!(
        invite("SHA-256", None).response,
        "7dedc405aacc1ec407c5f76a890ae32ae7c91c2242abd10bf1a8caeda89e4c1b"
    );
}

#[test]
fn input_errors() {
    let c = sip_challenge(r#", algorithm=MD5-sess"#);
    let go = |c: &Challenge, method: &str, uri: &str, cnonce: &str, nc: u32| {
        digest_response(c, &alice(), method, uri, b"", cnonce, nc)
    };
    assert_eq!(
        go(&c, "REGISTER", "sip:example.com", "x", 1),
        Err(AuthError::SessionWithoutQop)
    );
    let c = sip_challenge(r#", qop="auth-conf""#);
    assert_eq!(
        go(&c, "REGISTER", "sip:example.com", "x", 1),
        Err(AuthError::UnsupportedQop)
    );
    let c = sip_challenge(r#", qop="auth""#);
    assert_eq!(
        go(&c, "REGISTER", "sip:example.com", "", 1),
        Err(AuthError::InvalidInput("cnonce"))
    );
    assert_eq!(
        go(&c, "REGISTER", "sip:example.com", "x", 0),
        Err(AuthError::InvalidInput("nc"))
    );
    assert_eq!(
        go(&c, "REGISTER", "sip:example.com\r\nX: y", "x", 1),
        Err(AuthError::InvalidInput("uri"))
    );
    assert_eq!(
        go(&c, "REG ISTER", "sip:example.com", "x", 1),
        Err(AuthError::InvalidInput("method"))
    );
}

#[test]
fn nc_is_eight_lowercase_hex_digits() {
    let c = sip_challenge(r#", qop="auth""#);
    let a = digest_response(
        &c,
        &alice(),
        "REGISTER",
        "sip:example.com",
        b"",
        SIP_CNONCE,
        0x1a,
    )
    .unwrap();
    assert!(a.to_header_value().ends_with("nc=0000001a"));
    assert_eq!(a.response, "d8bd3b7dc1199a9f25b341e5366a39ee");
}

// --- Authenticator ---------------------------------------------------------

fn fixed(value: &'static str) -> impl FnMut() -> String {
    move || value.to_string()
}

const SIP_401: &str = r#"Digest realm="example.com", nonce="ZdXgrGXV33H8c3+mQ2Z6Rk1Nd6rH0N0a", qop="auth", algorithm=MD5"#;

fn register(
    auth: &mut Authenticator,
    status: u16,
    values: &[(ChallengeKind, &str)],
) -> AuthDecision {
    auth.handle_challenges(
        status,
        values,
        "REGISTER",
        "sip:example.com",
        b"",
        &mut fixed(SIP_CNONCE),
    )
}

fn retry(decision: AuthDecision) -> Vec<(ChallengeKind, String)> {
    match decision {
        AuthDecision::Retry(headers) => headers,
        AuthDecision::Fail(f) => panic!("expected Retry, got Fail({f:?})"),
    }
}

fn fail(decision: AuthDecision) -> AuthFailure {
    match decision {
        AuthDecision::Fail(f) => f,
        AuthDecision::Retry(h) => panic!("expected Fail, got Retry({h:?})"),
    }
}

fn param<'a>(header: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=");
    let rest = &header[header.find(&key).unwrap() + key.len()..];
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    &rest[..rest.find([',', '"']).unwrap_or(rest.len())]
}

#[test]
fn authenticator_answers_the_real_register() {
    let mut auth = Authenticator::new(alice());
    let headers = retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    assert_eq!(headers, vec![(ChallengeKind::Www, SIP_HEADER.to_string())]);
    assert_eq!(ChallengeKind::Www.authorization_header(), "Authorization");
}

#[test]
fn rejected_again_without_stale_is_wrong_credentials() {
    let mut auth = Authenticator::new(alice());
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    let again = r#"Digest realm="example.com", nonce="bmV3LW5vbmNlLTI=", qop="auth""#;
    assert_eq!(
        fail(register(&mut auth, 401, &[(ChallengeKind::Www, again)])),
        AuthFailure::WrongCredentials {
            realm: "example.com".into()
        }
    );
}

#[test]
fn stale_is_retried_once_then_fails() {
    let mut auth = Authenticator::new(alice());
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    let stale = r#"Digest realm="example.com", nonce="bmV3LW5vbmNlLTI=", qop="auth", stale=TRUE"#;
    let headers = auth.handle_challenges(
        401,
        &[(ChallengeKind::Www, stale)],
        "REGISTER",
        "sip:example.com",
        b"",
        &mut fixed("c2"),
    );
    let headers = retry(headers);
    assert_eq!(headers.len(), 1);
    // New nonce: nc back to 1. hashlib value for nonce bmV3LW5vbmNlLTI=, cnonce c2.
    assert_eq!(param(&headers[0].1, "nc"), "00000001");
    assert_eq!(
        param(&headers[0].1, "response"),
        "8d015571e4134e1e3d0cd9d0e39a6e28"
    );
    let stale2 = r#"Digest realm="example.com", nonce="third", qop="auth", stale=true"#;
    assert_eq!(
        fail(register(&mut auth, 401, &[(ChallengeKind::Www, stale2)])),
        AuthFailure::RepeatedStale {
            realm: "example.com".into()
        }
    );
}

#[test]
fn stale_then_plain_rejection_is_wrong_credentials() {
    let mut auth = Authenticator::new(alice());
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    let stale = r#"Digest realm="example.com", nonce="n2", qop="auth", stale=true"#;
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, stale)]));
    let plain = r#"Digest realm="example.com", nonce="n3", qop="auth""#;
    assert!(matches!(
        fail(register(&mut auth, 401, &[(ChallengeKind::Www, plain)])),
        AuthFailure::WrongCredentials { .. }
    ));
}

#[test]
fn proxy_challenge_gets_proxy_authorization() {
    let mut auth = Authenticator::new(alice());
    let value = r#"Digest realm="proxy.example.net", nonce="pnonce", qop="auth""#;
    let headers = auth.handle_challenges(
        407,
        &[(ChallengeKind::Proxy, value)],
        "INVITE",
        "sip:bob@example.com",
        SDP,
        &mut fixed("c2"),
    );
    let headers = retry(headers);
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].0, ChallengeKind::Proxy);
    assert_eq!(headers[0].0.authorization_header(), "Proxy-Authorization");
    assert_eq!(
        param(&headers[0].1, "response"),
        "a05f60ea7a6d6b342a87ef372181018b"
    );
}

#[test]
fn same_realm_two_algorithms_one_answer() {
    let sha = r#"Digest realm="example.com", nonce="ZdXgrGXV33H8c3+mQ2Z6Rk1Nd6rH0N0a", qop="auth", algorithm=SHA-256"#;
    // RFC 8760 §2.3/§2.4: server lists its preferred first; client uses the topmost supported.
    let mut auth = Authenticator::new(alice());
    let headers = retry(register(
        &mut auth,
        401,
        &[(ChallengeKind::Www, sha), (ChallengeKind::Www, SIP_401)],
    ));
    assert_eq!(headers.len(), 1);
    assert_eq!(param(&headers[0].1, "algorithm"), "SHA-256");
    assert_eq!(
        param(&headers[0].1, "response"),
        "f36c42289a58af89ee579999c1238932d9932138b6f8998f506a11c834d30532"
    );

    // MD5 on top: ServerOrder honours it...
    let md5_first = [(ChallengeKind::Www, SIP_401), (ChallengeKind::Www, sha)];
    let mut auth = Authenticator::new(alice());
    let headers = retry(register(&mut auth, 401, &md5_first));
    assert_eq!(headers, vec![(ChallengeKind::Www, SIP_HEADER.to_string())]);
    // ...the Strongest local policy still picks SHA-256.
    let mut auth = Authenticator::new(alice());
    auth.set_algorithm_policy(AlgorithmPolicy::Strongest);
    let headers = retry(register(&mut auth, 401, &md5_first));
    assert_eq!(headers.len(), 1);
    assert_eq!(param(&headers[0].1, "algorithm"), "SHA-256");

    // Both in one header value, SHA-512-256 (unsupported) on top: skipped.
    let mut auth = Authenticator::new(alice());
    let one_value = format!(
        r#"Digest realm="example.com", nonce="x", algorithm=SHA-512-256, qop="auth", {SIP_401}"#
    );
    let headers = retry(register(
        &mut auth,
        401,
        &[(ChallengeKind::Www, &one_value)],
    ));
    assert_eq!(headers, vec![(ChallengeKind::Www, SIP_HEADER.to_string())]);
}

#[test]
fn md5_ha1_picks_md5_even_below_sha256() {
    let sha = r#"Digest realm="example.com", nonce="other", qop="auth", algorithm=SHA-256"#;
    let mut auth = Authenticator::new(alice_ha1(Some("example.com"), ALICE_HA1_MD5));
    let headers = retry(register(
        &mut auth,
        401,
        &[(ChallengeKind::Www, sha), (ChallengeKind::Www, SIP_401)],
    ));
    assert_eq!(headers, vec![(ChallengeKind::Www, SIP_HEADER.to_string())]);
}

#[test]
fn two_realms_two_answers() {
    let mut auth = Authenticator::new(alice());
    let a = r#"Digest realm="a.example", nonce="na", qop="auth""#;
    let b = r#"Digest realm="b.example", nonce="nb", qop="auth", algorithm=SHA-256"#;
    let p = r#"Digest realm="proxy.example.net", nonce="pnonce", qop="auth""#;
    let headers = retry(register(
        &mut auth,
        401,
        &[
            (ChallengeKind::Www, a),
            (ChallengeKind::Www, b),
            (ChallengeKind::Proxy, p),
        ],
    ));
    let realms: Vec<_> = headers
        .iter()
        .map(|(k, h)| (*k, param(h, "realm").to_string()))
        .collect();
    assert_eq!(
        realms,
        vec![
            (ChallengeKind::Www, "a.example".to_string()),
            (ChallengeKind::Www, "b.example".to_string()),
            (ChallengeKind::Proxy, "proxy.example.net".to_string()),
        ]
    );
}

#[test]
fn later_proxy_challenge_resends_cached_www_credentials() {
    let mut auth = Authenticator::new(alice());
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    let p = r#"Digest realm="proxy.example.net", nonce="pnonce", qop="auth""#;
    let headers = retry(register(&mut auth, 407, &[(ChallengeKind::Proxy, p)]));
    assert_eq!(headers.len(), 2);
    assert_eq!(headers[0].0, ChallengeKind::Www);
    assert_eq!(param(&headers[0].1, "nc"), "00000002");
    assert_eq!(
        param(&headers[0].1, "response"),
        "ba247d6d3d27eb833eae3fac397c3fde"
    );
    assert_eq!(headers[1].0, ChallengeKind::Proxy);
    assert_eq!(param(&headers[1].1, "nc"), "00000001");
}

#[test]
fn unsupported_only_is_no_supported_challenge() {
    for values in [
        vec![(ChallengeKind::Www, r#"Basic realm="example.com""#)],
        vec![(
            ChallengeKind::Www,
            r#"Bearer realm="example.com", scope="x""#,
        )],
        vec![(
            ChallengeKind::Www,
            r#"Digest realm="example.com", nonce="n", algorithm=SHA-512-256, qop="auth""#,
        )],
        vec![
            (ChallengeKind::Www, r#"Basic realm="example.com""#),
            (
                ChallengeKind::Www,
                r#"Digest realm="example.com", nonce="n", algorithm=SHA-512-256"#,
            ),
        ],
        vec![(
            ChallengeKind::Www,
            r#"Digest realm="example.com", nonce="n", qop="auth-conf""#,
        )],
    ] {
        let mut auth = Authenticator::new(alice());
        assert_eq!(
            fail(register(&mut auth, 401, &values)),
            AuthFailure::NoSupportedChallenge,
            "{values:?}"
        );
    }
}

#[test]
fn ha1_for_another_realm_fails() {
    let mut auth = Authenticator::new(alice_ha1(Some("elsewhere.org"), ALICE_HA1_MD5));
    assert_eq!(
        fail(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)])),
        AuthFailure::RealmMismatch {
            expected: "elsewhere.org".into(),
            got: "example.com".into()
        }
    );
}

#[test]
fn nc_increments_with_authorize_and_resets_with_new_nonce() {
    let mut auth = Authenticator::new(alice());
    assert!(auth
        .authorize("REGISTER", "sip:example.com", b"", &mut fixed(SIP_CNONCE))
        .is_empty());
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    // Refreshes reuse the nonce; hashlib values with nc=2 and nc=3.
    for (nc, response) in [
        ("00000002", "ba247d6d3d27eb833eae3fac397c3fde"),
        ("00000003", "f64a3aed6774425aaf223e26e4e75555"),
    ] {
        let headers = auth.authorize("REGISTER", "sip:example.com", b"", &mut fixed(SIP_CNONCE));
        assert_eq!(headers.len(), 1);
        assert_eq!(param(&headers[0].1, "nc"), nc);
        assert_eq!(param(&headers[0].1, "response"), response);
    }
    // Nonce expired: stale → new nonce, nc restarts at 1.
    let stale = r#"Digest realm="example.com", nonce="bmV3LW5vbmNlLTI=", qop="auth", stale=true"#;
    let headers = retry(auth.handle_challenges(
        401,
        &[(ChallengeKind::Www, stale)],
        "REGISTER",
        "sip:example.com",
        b"",
        &mut fixed("c2"),
    ));
    assert_eq!(param(&headers[0].1, "nc"), "00000001");
    assert_eq!(
        param(&headers[0].1, "response"),
        "8d015571e4134e1e3d0cd9d0e39a6e28"
    );
    let headers = auth.authorize("REGISTER", "sip:example.com", b"", &mut fixed("c3"));
    assert_eq!(param(&headers[0].1, "nc"), "00000002");
}

#[test]
fn refused_preemptive_answer_is_answered_once_more() {
    let mut auth = Authenticator::new(alice());
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    auth.authorize("REGISTER", "sip:example.com", b"", &mut fixed(SIP_CNONCE));
    // Server forgot the nonce and does not say stale: answer the new one...
    let fresh = r#"Digest realm="example.com", nonce="bmV3LW5vbmNlLTI=", qop="auth""#;
    let headers = retry(auth.handle_challenges(
        401,
        &[(ChallengeKind::Www, fresh)],
        "REGISTER",
        "sip:example.com",
        b"",
        &mut fixed("c2"),
    ));
    assert_eq!(
        param(&headers[0].1, "response"),
        "8d015571e4134e1e3d0cd9d0e39a6e28"
    );
    // ...but a rejection of that fresh answer is final.
    assert!(matches!(
        fail(register(&mut auth, 401, &[(ChallengeKind::Www, fresh)])),
        AuthFailure::WrongCredentials { .. }
    ));
}

#[test]
fn sess_keeps_its_session_cnonce_across_refreshes() {
    let mut auth = Authenticator::new(alice());
    let sess = r#"Digest realm="example.com", nonce="ZdXgrGXV33H8c3+mQ2Z6Rk1Nd6rH0N0a", qop="auth", algorithm=MD5-sess"#;
    let headers = retry(register(&mut auth, 401, &[(ChallengeKind::Www, sess)]));
    assert_eq!(
        param(&headers[0].1, "response"),
        "8c40c24d183639227322c368119a9da3"
    );
    let mut never = || -> String { panic!("-sess must reuse the session cnonce") };
    let headers = auth.authorize("REGISTER", "sip:example.com", b"", &mut never);
    assert_eq!(param(&headers[0].1, "cnonce"), SIP_CNONCE);
    assert_eq!(
        param(&headers[0].1, "response"),
        "80dcdfd2685187e4fdee01c50bd2e259"
    );
}

#[test]
fn reset_and_set_credentials_forget_everything() {
    let mut auth = Authenticator::new(alice());
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    auth.reset();
    assert!(auth
        .authorize("REGISTER", "sip:example.com", b"", &mut fixed("c"))
        .is_empty());
    // After reset the same challenge is a first challenge again, not a rejection.
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    auth.set_credentials(alice_ha1(None, ALICE_HA1_MD5));
    let headers = retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    assert_eq!(headers, vec![(ChallengeKind::Www, SIP_HEADER.to_string())]);
}

#[test]
fn malformed_challenges_fail_without_panicking() {
    let huge_nonce = format!(
        r#"Digest realm="example.com", nonce="{}""#,
        "n".repeat(1 << 20)
    );
    let huge_garbage = "\"\\,=".repeat(100_000);
    let cases: Vec<&str> = vec![
        r#"Digest realm="example.com, nonce="n""#,
        r#"Digest realm="example.com", qop="auth""#,
        "\u{0}\u{7f}\u{fffd}\u{1b}[31m",
        "",
        "   ",
        &huge_nonce,
        &huge_garbage,
        "Digest realm=\"example.com\", nonce=\"n\r\nVia: evil\"",
    ];
    for value in cases {
        let mut auth = Authenticator::new(alice());
        let failure = fail(register(&mut auth, 401, &[(ChallengeKind::Www, value)]));
        assert!(
            matches!(failure, AuthFailure::Malformed(_)),
            "{:?} -> {failure:?}",
            value.get(..40)
        );
        assert!(Challenge::parse(value).is_err());
        assert!(parse_challenges(value).iter().all(Result::is_err));
    }
    let mut auth = Authenticator::new(alice());
    assert_eq!(
        fail(register(&mut auth, 401, &[])),
        AuthFailure::Malformed(AuthError::Empty)
    );
    assert_eq!(
        fail(register(&mut auth, 200, &[(ChallengeKind::Www, SIP_401)])),
        AuthFailure::NotAChallenge(200)
    );
}

#[test]
fn malformed_next_to_a_good_challenge_is_skipped() {
    let mut auth = Authenticator::new(alice());
    let headers = retry(register(
        &mut auth,
        401,
        &[
            (
                ChallengeKind::Www,
                r#"Digest realm="x", nonce="unterminated"#,
            ),
            (ChallengeKind::Www, SIP_401),
        ],
    ));
    assert_eq!(headers, vec![(ChallengeKind::Www, SIP_HEADER.to_string())]);
}

#[test]
fn pseudo_random_bytes_never_panic() {
    // Deterministic xorshift; builds values from a challenge-flavoured alphabet.
    let alphabet: Vec<char> =
        "Digest realm=\"\\, nonce qop auth-int SHA-256-sess stale true \t\r\n\u{0}\u{e9}=\"\""
            .chars()
            .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3000 {
        let mut s = String::new();
        let len = (state % 80) as usize;
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            s.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        let _ = Challenge::parse(&s);
        let _ = parse_challenges(&s);
        let mut auth = Authenticator::new(alice());
        let _ = register(&mut auth, 401, &[(ChallengeKind::Www, &s)]);
        let _ = auth.authorize("REGISTER", "sip:example.com", b"", &mut fixed("c"));
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    }
}

#[test]
fn debug_never_shows_secrets() {
    let creds = alice();
    let ha1 = alice_ha1(Some("example.com"), ALICE_HA1_MD5);
    let mut auth = Authenticator::new(creds.clone());
    retry(register(&mut auth, 401, &[(ChallengeKind::Www, SIP_401)]));
    let dbg = format!("{creds:?} {ha1:?} {auth:?} {auth:#?}");
    assert!(!dbg.contains("wonderland-1865"), "{dbg}");
    assert!(!dbg.contains(ALICE_HA1_MD5), "{dbg}");
    assert!(dbg.contains("<redacted>"));
    assert!(dbg.contains("alice"));
}

#[test]
fn errors_display() {
    assert_eq!(AuthError::MissingNonce.to_string(), "missing nonce");
    assert_eq!(
        AuthFailure::WrongCredentials {
            realm: "example.com".into()
        }
        .to_string(),
        "credentials rejected by realm \"example.com\""
    );
}
