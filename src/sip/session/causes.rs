//! Why a call failed or ended: JsSIP's cause strings (`JsSIP.C.causes`), so apps
//! written for JsSIP-based SDKs compare against the same values, and its
//! status-to-cause table (`JsSIP.C.SIP_ERROR_CAUSES`).

/// The WebSocket dropped.
pub const CONNECTION_ERROR: &str = "Connection Error";
/// No final response in time (Timer B/F, RFC 3261 §17.1), or the session expired
/// without a refresh (RFC 4028 §10).
pub const REQUEST_TIMEOUT: &str = "Request Timeout";
/// A failure status with no more specific cause.
pub const SIP_FAILURE_CODE: &str = "SIP Failure Code";
/// Something went wrong inside the SDK.
pub const INTERNAL_ERROR: &str = "Internal Error";
/// 486, 600.
pub const BUSY: &str = "Busy";
/// 403, 603.
pub const REJECTED: &str = "Rejected";
/// 3xx (redirections are not followed).
pub const REDIRECTED: &str = "Redirected";
/// 480, 410, 408, 430.
pub const UNAVAILABLE: &str = "Unavailable";
/// 404, 604.
pub const NOT_FOUND: &str = "Not Found";
/// 484, 424.
pub const ADDRESS_INCOMPLETE: &str = "Address Incomplete";
/// 488, 606.
pub const INCOMPATIBLE_SDP: &str = "Incompatible SDP";
/// An offer or answer that should have been there was not (RFC 3264 §4).
pub const MISSING_SDP: &str = "Missing SDP";
/// 401, 407 that could not be answered.
pub const AUTHENTICATION_ERROR: &str = "Authentication Error";
/// A BYE ended the call (JsSIP names it `BYE`).
pub const BYE: &str = "Terminated";
/// The media layer failed.
pub const WEBRTC_ERROR: &str = "WebRTC Error";
/// The INVITE was cancelled (by us, or by the caller).
pub const CANCELED: &str = "Canceled";
/// Nobody answered within the no-answer timeout.
pub const NO_ANSWER: &str = "No Answer";
/// The ACK for our 2xx never came (RFC 3261 §13.3.1.4).
pub const NO_ACK: &str = "No ACK";
/// The peer no longer knows the dialog (408/481 to an in-dialog request, §12.2.1.2).
pub const DIALOG_ERROR: &str = "Dialog Error";
/// The user refused microphone/camera access (the shell reports it).
pub const USER_DENIED_MEDIA_ACCESS: &str = "User Denied Media Access";
/// Our transfer (REFER) succeeded: the peer now talks to the transfer target.
pub const TRANSFERRED: &str = "Transferred";
/// An INVITE with Replaces (RFC 3891) took the call over.
pub const REPLACED: &str = "Replaced";
/// The peer's session description could not be used.
pub const BAD_MEDIA_DESCRIPTION: &str = "Bad Media Description";

/// The cause of a failure status (JsSIP's table; 487 is [`CANCELED`] rather than
/// JsSIP's generic cause, since a 487 we did not ask for means the caller side
/// cancelled, e.g. another device answered).
pub fn for_status(code: u16) -> &'static str {
    match code {
        300..=399 => REDIRECTED,
        486 | 600 => BUSY,
        403 | 603 => REJECTED,
        404 | 604 => NOT_FOUND,
        480 | 410 | 408 | 430 => UNAVAILABLE,
        484 | 424 => ADDRESS_INCOMPLETE,
        488 | 606 => INCOMPATIBLE_SDP,
        401 | 407 => AUTHENTICATION_ERROR,
        487 => CANCELED,
        _ => SIP_FAILURE_CODE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(for_status(486), "Busy");
        assert_eq!(for_status(603), "Rejected");
        assert_eq!(for_status(408), "Unavailable");
        assert_eq!(for_status(302), "Redirected");
        assert_eq!(for_status(500), "SIP Failure Code");
        assert_eq!(for_status(487), "Canceled");
    }
}
