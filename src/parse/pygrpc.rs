//! A failed gRPC call as Python's grpcio prints it: the repr of its
//! `RpcError` (`_InactiveRpcError`, `_MultiThreadedRendezvous`), also
//! inside the wrappers that google-cloud, google-ads and firebase-admin
//! raise, and in logged exceptions:
//!
//! ```text
//! grpc._channel._InactiveRpcError: <_InactiveRpcError of RPC that terminated with:
//!         status = StatusCode.PERMISSION_DENIED
//!         details = "Permission denied on resource project acme-prod."
//!         debug_error_string = "…"
//! >
//! ```
//!
//! The `status` line names one of gRPC's canonical codes, and `details` is
//! the server's message (grpcio's `_channel.py` formats both). The line
//! with the exception's name says nothing that fails by itself.

use std::sync::OnceLock;

use super::lean::Regex;
use super::signal::grpc_canonical_status;
use super::{Ctx, EventKind, LineParser, Lines, Value};

pub struct PythonGrpcStatus;

fn status_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[ \t]*status = StatusCode\.(?P<code>[A-Z][A-Z_]*)[ \t]*\r?$")
            .expect("grpc status regex")
    })
}

fn details_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"^[ \t]*details = "(?P<details>.*)"[ \t]*\r?$"#).expect("grpc details regex")
    })
}

impl LineParser for PythonGrpcStatus {
    fn triggers(&self) -> &'static [&'static str] {
        &["StatusCode."]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let code = status_re().captures(line)?.name("code")?;
        let details = (i + 1 < lines.len())
            .then(|| details_re().captures(lines.line(i + 1)))
            .flatten()
            .and_then(|c| c.name("details"));
        // `OK` is no failure; an unknown name is not gRPC's.
        let status = grpc_canonical_status(code.as_str())?;
        let mut fields = vec![lines.str_field("exception.code", code.as_str())];
        // grpcio's own UNAVAILABLE for a channel it could not open (`failed
        // to connect to all addresses`, `DNS resolution failed`): no server
        // answered, so no HTTP status; the details say what failed.
        let unreached = code.as_str() == "UNAVAILABLE"
            && details.is_some_and(|d| {
                d.as_str().contains("failed to connect")
                    || d.as_str().contains("DNS resolution failed")
            });
        if !unreached {
            fields.push(lines.field("status", Value::Num(status), code.as_str()));
        }
        let mut taken = 1;
        if let Some(d) = details {
            fields.push(lines.str_field("exception.message", d.as_str()));
            taken = 2;
        }
        ctx.emit(EventKind::Exception, lines.span_of(line.trim_end()), fields);
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::field_value as get;

    const DENIED: &str = "grpc._channel._InactiveRpcError: <_InactiveRpcError of RPC that terminated with:\n\tstatus = StatusCode.PERMISSION_DENIED\n\tdetails = \"Permission denied on resource project acme-prod.\"\n\tdebug_error_string = \"{\"created\":\"@1588431508.906067585\",\"grpc_status\":7}\"\n>\n";

    #[test]
    fn status_and_details_of_an_rpc_error() {
        assert_eq!(
            get(DENIED, "exception.code").as_deref(),
            Some("PERMISSION_DENIED")
        );
        assert_eq!(get(DENIED, "status").as_deref(), Some("403"));
        assert_eq!(
            get(DENIED, "exception.message").as_deref(),
            Some("Permission denied on resource project acme-prod.")
        );
    }

    #[test]
    fn a_channel_that_never_connected_has_no_status() {
        let t = "grpc._channel._InactiveRpcError: <_InactiveRpcError of RPC that terminated with:\n        status = StatusCode.UNAVAILABLE\n        details = \"failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.7:50051: Failed to connect to remote host: Connection refused\"\n";
        assert_eq!(get(t, "exception.code").as_deref(), Some("UNAVAILABLE"));
        assert!(get(t, "status").is_none());
        let t = "    status = StatusCode.UNAVAILABLE\n    details = \"The service is currently unavailable.\"\n";
        assert_eq!(get(t, "status").as_deref(), Some("503"));
    }

    #[test]
    fn ok_and_other_names_are_not_failures() {
        assert!(
            get(
                "\tstatus = StatusCode.OK\n\tdetails = \"\"\n",
                "exception.code"
            )
            .is_none()
        );
        assert!(get("status = StatusCode.SUCCESS_ISH\n", "exception.code").is_none());
        assert!(get("if status = StatusCode.NOT_FOUND:\n", "exception.code").is_none());
    }
}
