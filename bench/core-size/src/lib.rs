//! The sans-IO core alone behind a byte-buffer ABI: every command, input and output
//! of [`Ua`] reachable, each output written as one line of text (what a shell with
//! no Rust in it would exchange with the core). Built by `scripts/core-size.sh` to
//! weigh the core without the browser shell; not shipped, not a product API.
use sipwasm::sip::config::UaConfig;
use sipwasm::sip::session::{CallEvent, Hold, MediaRequest, MediaResult};
use sipwasm::sip::time::Instant;
use sipwasm::sip::ua::{Input, Output, Ua, UaEvent};
use std::cell::RefCell;
use std::fmt::Write;

thread_local! {
    static UA: RefCell<Option<Ua>> = const { RefCell::new(None) };
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

#[no_mangle]
pub extern "C" fn buf(len: usize) -> *mut u8 {
    BUF.with(|b| {
        let mut b = b.borrow_mut();
        b.resize(len, 0);
        b.as_mut_ptr()
    })
}
fn input() -> String {
    BUF.with(|b| String::from_utf8_lossy(&b.borrow()).into_owned())
}
fn output(s: String) -> usize {
    let n = s.len();
    BUF.with(|b| *b.borrow_mut() = s.into_bytes());
    n
}

#[no_mangle]
pub extern "C" fn ua_new(now: u64) -> i32 {
    let text = input();
    let mut c = UaConfig::default();
    for line in text.lines() {
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        let v = v.to_owned();
        match k {
            "server" => c.servers.push(v),
            "uri" => c.uri = v,
            "password" => c.password = Some(v),
            "ha1" => c.ha1 = Some(v),
            "realm" => c.realm = Some(v),
            "user" => c.authorization_user = Some(v),
            "display" => c.display_name = Some(v),
            "expires" => c.register_expires = v.parse().unwrap_or(600),
            "header" => c.extra_headers.push(v),
            "ua" => c.user_agent = Some(v),
            "insecure" => c.allow_insecure = true,
            "heartbeat" => c.heartbeat = true,
            "max" => c.max_calls = v.parse().unwrap_or(2),
            "nowait" => c.disable_call_waiting = true,
            "reject" => c.reject_code = v.parse().unwrap_or(486),
            _ => {}
        }
    }
    match c.validate() {
        Ok(v) => {
            let mut seed = [0u8; 32];
            for (i, b) in text.bytes().enumerate() {
                seed[i % 32] ^= b;
            }
            UA.with(|u| *u.borrow_mut() = Some(Ua::new(v, seed, Instant::from_millis(now))));
            0
        }
        Err(e) => {
            output(e.to_string());
            -1
        }
    }
}

fn with<R>(f: impl FnOnce(&mut Ua) -> R) -> Option<R> {
    UA.with(|u| u.borrow_mut().as_mut().map(f))
}

#[no_mangle]
pub extern "C" fn ua_input(kind: u32, now: u64) {
    let data = BUF.with(|b| b.borrow().clone());
    let now = Instant::from_millis(now);
    with(|ua| match kind {
        0 => ua.handle_input(now, Input::Connected),
        1 => ua.handle_input(now, Input::Received(&data)),
        2 => ua.handle_input(
            now,
            Input::Closed {
                code: 1006,
                reason: String::from_utf8_lossy(&data).into_owned(),
            },
        ),
        _ => ua.handle_input(now, Input::Timeout),
    });
}

#[no_mangle]
pub extern "C" fn ua_cmd(cmd: u32, now: u64) -> i32 {
    let text = input();
    let mut a = text.split('\n');
    let mut arg = || a.next().unwrap_or("").to_owned();
    let now = Instant::from_millis(now);
    let r = with(|ua| {
        let (x, y) = (arg(), arg());
        let r = match cmd {
            0 => {
                ua.start(now);
                Ok(())
            }
            1 => {
                ua.disconnect(now);
                Ok(())
            }
            2 => {
                ua.destroy(now);
                Ok(())
            }
            3 => {
                return ua
                    .re_register(now, &x, &y)
                    .map_err(|e| e.to_string())
                    .err()
                    .map(output)
                    .map_or(0, |_| -1)
            }
            4 => ua.call(now, &x, &[y]).map(|id| {
                output(id);
            }),
            5 => ua.answer(now, &x),
            6 => ua.reject(now, &x, 486),
            7 => ua.hangup(now, &x),
            8 => ua.terminate(now, &x, &y),
            9 => ua.hold(now, &x),
            10 => ua.unhold(now, &x),
            11 => ua.renegotiate(now, &x),
            12 => ua.dtmf_info(now, &x, &y, 100),
            13 => ua.record_info(now, &x, y == "on"),
            14 => {
                let z = arg();
                ua.transfer(now, &x, &y, if z.is_empty() { None } else { Some(&z) })
            }
            15 => {
                ua.handle_media(now, &x, MediaResult::Sdp(y));
                Ok(())
            }
            16 => {
                ua.handle_media(now, &x, MediaResult::Applied);
                Ok(())
            }
            17 => {
                ua.handle_media(now, &x, MediaResult::Failed(y));
                Ok(())
            }
            18 => {
                ua.set_re_register_times(x.parse().unwrap_or(5));
                Ok(())
            }
            19 => return ua.set_extra_headers(vec![x]).map_or(-1, |_| 0),
            _ => return ua.poll_timeout().map_or(-1, |t| t.as_millis() as i32),
        };
        match r {
            Ok(()) => 0,
            Err(e) => {
                output(e.to_string());
                e.code()
            }
        }
    });
    r.unwrap_or(-1)
}

/// Next output as a line: kind \t fields.
#[no_mangle]
pub extern "C" fn ua_poll() -> i32 {
    let Some(Some(o)) = with(|ua| ua.poll_output()) else {
        return -1;
    };
    let mut s = String::new();
    match o {
        Output::Connect { url } => {
            s.push_str("C\t");
            s.push_str(&url)
        }
        Output::Send(t) => {
            s.push_str("S\t");
            s.push_str(&t)
        }
        Output::Close => s.push('X'),
        Output::Media { call_id, request } => {
            s.push_str("M\t");
            s.push_str(&call_id);
            s.push('\t');
            match request {
                MediaRequest::CreateOffer { hold } => {
                    s.push('o');
                    s.push(match hold {
                        Hold::Off => '0',
                        Hold::SendOnly => '1',
                        Hold::Inactive => '2',
                    })
                }
                MediaRequest::CreateAnswer { offer, hold } => {
                    s.push('a');
                    s.push(if hold { '1' } else { '0' });
                    s.push_str(&offer)
                }
                MediaRequest::ApplyAnswer { answer } => {
                    s.push('p');
                    s.push_str(&answer)
                }
                MediaRequest::Rollback => s.push('r'),
                MediaRequest::Close => s.push('c'),
            }
        }
        Output::Event(e) => {
            s.push_str("E\t");
            match e {
                UaEvent::Connected => s.push('c'),
                UaEvent::Disconnected { code, reason } => {
                    let _ = write!(s, "d\t{code}\t{reason}");
                }
                UaEvent::Registered => s.push('r'),
                UaEvent::Unregistered => s.push('u'),
                UaEvent::RegistrationFailed { code, cause } => {
                    let _ = write!(s, "f\t{code}\t{cause}");
                }
                UaEvent::IsRegisteredChange(b) => {
                    let _ = write!(s, "i\t{b}");
                }
                UaEvent::Log { level, message } => {
                    let _ = write!(s, "l\t{}\t{message}", level as u8);
                }
                UaEvent::Call(c) => call_event(&mut s, c),
                _ => {}
            }
        }
    }
    output(s) as i32
}

fn call_event(s: &mut String, c: CallEvent) {
    let _ = match c {
        CallEvent::NewSession {
            call_id,
            direction,
            remote_uri,
            remote_user,
            remote_display,
        } => write!(
            s,
            "n\t{call_id}\t{}\t{remote_uri}\t{remote_user}\t{}",
            direction as u8,
            remote_display.unwrap_or_default()
        ),
        CallEvent::Incoming { call_id } => write!(s, "I\t{call_id}"),
        CallEvent::Progress { call_id, code } => write!(s, "p\t{call_id}\t{code}"),
        CallEvent::Accepted { call_id } => write!(s, "a\t{call_id}"),
        CallEvent::Confirmed { call_id } => write!(s, "C\t{call_id}"),
        CallEvent::Ended {
            call_id,
            cause,
            originator,
        } => write!(s, "e\t{call_id}\t{cause}\t{}", originator as u8),
        CallEvent::Failed {
            call_id,
            cause,
            code,
            originator,
        } => write!(s, "F\t{call_id}\t{cause}\t{code}\t{}", originator as u8),
        CallEvent::Hold {
            call_id,
            local,
            remote,
        } => write!(s, "h\t{call_id}\t{local}\t{remote}"),
        CallEvent::Video { call_id, on } => write!(s, "v\t{call_id}\t{on}"),
        CallEvent::Renegotiated {
            call_id,
            kind,
            code,
        } => write!(s, "R\t{call_id}\t{}\t{code}", kind as u8),
        CallEvent::Dtmf {
            call_id,
            digit,
            duration,
        } => write!(s, "D\t{call_id}\t{digit}\t{duration}"),
        CallEvent::Info {
            call_id,
            content_type,
            body,
            record,
        } => write!(
            s,
            "N\t{call_id}\t{content_type}\t{body}\t{}",
            record.unwrap_or_default()
        ),
        CallEvent::InfoDone {
            call_id,
            info,
            code,
        } => write!(
            s,
            "Q\t{call_id}\t{}\t{code}",
            matches!(info, sipwasm::sip::session::InfoKind::Record(_)) as u8
        ),
        CallEvent::Transfer {
            call_id,
            code,
            done,
        } => write!(s, "T\t{call_id}\t{code}\t{done}"),
        CallEvent::Referred {
            call_id,
            new_call_id,
            target,
        } => write!(s, "F\t{call_id}\t{new_call_id}\t{target}"),
        CallEvent::Replaces { call_id, replaced } => write!(s, "P\t{call_id}\t{replaced}"),
        _ => Ok(()),
    };
}
