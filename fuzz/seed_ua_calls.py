#!/usr/bin/env python3
"""Hand-made seeds for the ua_calls target: each a call flow as that target reads
operations (fuzz_targets/ua_calls.rs, Fuzz::op). Writes fuzz/corpus/ua_calls/seed-*.
Usage (from anywhere): python3 fuzz/seed_ua_calls.py"""
import os

# Calls live at the start, oldest first: 0 bob (inbound, up), 1 carol (inbound,
# ringing), 2 dave (outbound, up), 3 erin (outbound, INVITE unanswered). Peer slots in
# the same order. The UA's latest requests at the start: 0 dave's INVITE, 1 erin's.
INTACT = 0  # mutation byte < 128: the message goes as built


def req(slot, t, *args, sdp=1):
    """A peer request: template t (0 re-INVITE, 1 ACK, 2 BYE, 3 CANCEL, 4 UPDATE,
    5 INFO dtmf, 6 INFO Record, 7 REFER, 8 REFER+Replaces, 9 NOTIFY, 10 OPTIONS,
    11 PRACK, 12 initial INVITE again, 13 INVITE+Replaces, 14 new INVITE, 15 other
    method, 16 old CSeq, 17 wrong tags). sdp: 0 SDP2, 1 none, 2 hold, 3 video, 4 SDP."""
    return bytes([0, slot, t, sdp, *args, INTACT])


def resp(ri, code_idx, tag=2, flags=0, *args):
    """A response to the UA's request ri; code_idx into the target's code table
    (3 = 200, 1 = 180, 5 = 401, 6 = 407, 12 = 486, 13 = 491)."""
    return bytes([3, ri, code_idx, tag, flags, *args, INTACT])


def api(idx, cmd, *args):
    """0 answer, 2 reject, 3 hangup, 4 terminate, 5 hold, 6 unhold, 7 renegotiate,
    8 dtmf, 9 record, 10 blind transfer, 11 attended, 12 call, 13 re_register,
    14 extra headers, 15 disconnect."""
    return bytes([5, idx, cmd, *args])


def media(idx, kind):
    """0 Sdp, 2 Applied, 4 Failed."""
    return bytes([6, idx, kind])


def secs(n):
    return bytes([7, 3, n >> 8, n & 0xFF])


SEEDS = {
    "peer-holds-bob": req(0, 0, sdp=2) + media(0, 0) + req(0, 1, 0) + secs(5),
    "byes": req(0, 2) + req(2, 2) + secs(40),
    "carol-cancels": req(1, 3) + secs(40),
    "answer-carol": api(1, 0) + media(1, 0) + req(1, 1, 0) + req(1, 2),
    "erin-answers": resp(1, 3, 2, 1 | 32, 0) + media(3, 2) + req(3, 2),
    "erin-rings-then-busy": resp(1, 1, 2, 1) + resp(1, 12, 2, 0) + secs(40),
    "erin-auth": resp(1, 6, 2, 4, 7) + resp(11, 3, 2, 1 | 32, 0),
    "bob-refers": req(0, 7, 0) + resp(11, 3, 2, 1 | 32, 0) + resp(10, 3),
    "bob-refers-replaces": req(0, 8, 2, 3) + secs(3),
    "attended-transfer": api(0, 11, 2) + resp(11, 4)
    + req(0, 9, 0, 2, 0, 0),
    "blind-transfer": api(2, 10, 0) + resp(11, 4) + req(2, 9, 1, 2, 0, 0),
    "hold-dave": api(2, 5) + media(2, 0) + resp(11, 3, 2, 32, 2) + media(2, 2),
    "hold-glare": api(0, 5) + media(0, 0) + req(0, 0, sdp=0) + resp(11, 13),
    "replaces-bob": req(0, 13, 0, 3) + api(4, 0) + media(4, 0),
    "dtmf-info-update": api(0, 8, 3, 0x31, 0x32, 0x23, 0, 16) + resp(11, 3)
    + req(0, 5, 0, 0, 160) + req(2, 4, 0, sdp=4) + req(0, 6, 0, 1),
    "session-timers": secs(4000) + secs(4000),
    "reconnect": bytes([8, 3]) + resp(11, 3, 2, 0, 0x0E, 0x10) + secs(30),
    "new-calls": req(0, 14, 0) + api(4, 0) + media(4, 0) + secs(2)
    + api(0, 12, 0, 0) + resp(11, 3, 2, 1 | 32, 0),
    "prack-options": req(1, 11, 1) + req(0, 10) + req(0, 16, 0, 1) + req(0, 17),
}

dest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ua_calls")
os.makedirs(dest, exist_ok=True)
for flags in (0, 0x13):
    for name, ops in SEEDS.items():
        with open(os.path.join(dest, f"seed-{name}-{flags:02x}"), "wb") as f:
            f.write(bytes([flags]) + ops)
print(f"{len(os.listdir(dest))} files in {dest}")
