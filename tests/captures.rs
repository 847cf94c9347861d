//! End to end: each client format captured for issue 8 §2 (and each one
//! reconstructed from its source where the client is not on this machine)
//! yields the status, URL, headers and body facts the client printed.
//! Every listed fact must be on the file's first incident, with this value.

use std::path::Path;

use faultline::input::{Origin, SourceRef};
use faultline::rules::load::load;
use faultline::rules::{RuleSet, builtin_sources};

fn rules() -> RuleSet {
    let report = load(&builtin_sources());
    RuleSet::new(report.rules, report.providers)
}

/// (fixture under fixtures/, [(fact, value)])
const CASES: &[(&str, &[(&str, &str)])] = &[
    (
        "captured/python-requests/api_401_raise_for_status_only.txt",
        &[("status", "401"), ("url", "https://api.example.com/v1/me")],
    ),
    (
        "captured/python-requests/token_entra_invalid_client_no_body.txt",
        &[("status", "401"), ("endpoint", "token")],
    ),
    (
        "captured/python-requests/gateway_502_html_json_decode.txt",
        &[("exception.type", "requests.exceptions.JSONDecodeError")],
    ),
    (
        "captured/python-urllib/api_401_http_error.txt",
        &[("status", "401"), ("reason", "Unauthorized")],
    ),
    (
        "captured/python-urllib/api_429_http_debug.txt",
        &[
            ("status", "429"),
            ("header.retry-after", "3600"),
            ("method", "GET"),
        ],
    ),
    (
        "captured/python-aiohttp/api_401_client_response_error.txt",
        &[("status", "401"), ("url", "https://api.example.com/v1/me")],
    ),
    (
        "captured/python-httpx/gateway_502_http_status_error.txt",
        &[("status", "502"), ("reason", "Bad Gateway")],
    ),
    (
        "captured/python-httpx/api_429_http_status_error.txt",
        &[("status", "429"), ("url", "https://api.example.com/v1/me")],
    ),
    (
        "captured/node-global-fetch/api_401_error_with_status_and_body.txt",
        &[
            ("status", "401"),
            ("body.error", "invalid_client"),
            ("body.error_codes.0", "7000215"),
        ],
    ),
    (
        "captured/node-global-fetch/gateway_502_error_with_html.txt",
        &[
            ("status", "502"),
            ("html.title", "502 Bad Gateway"),
            ("body.format", "html"),
        ],
    ),
    // `console.error(status, body)`: the status, then util.inspect's
    // object literal (unquoted keys, single quotes) over several lines.
    (
        "captured/node-axios/genesys_400_token_auth_failed_status_obj.txt",
        &[
            ("status", "400"),
            ("body.error", "invalid_client"),
            ("body.description", "authentication failed"),
        ],
    ),
    (
        "captured/node-axios/msgraph_403_request_denied_status_obj.txt",
        &[
            ("status", "403"),
            ("body.error.code", "Authorization_RequestDenied"),
            (
                "body.error.innerError.request-id",
                "5e2b9a41-0000-4000-8000-00000000f002",
            ),
        ],
    ),
    (
        "captured/node-axios/github_401_bad_credentials_status_obj.txt",
        &[("status", "401"), ("body.message", "Bad credentials")],
    ),
    (
        "captured/node-axios/slack_200_invalid_auth_status_obj.txt",
        &[
            ("status", "200"),
            ("body.ok", "false"),
            ("body.error", "invalid_auth"),
        ],
    ),
    // `console.error(status, body)`: the status, then util.inspect's
    // object literal (unquoted keys, single quotes) over several lines.
    (
        "captured/node-global-fetch/genesys_400_token_auth_failed_status_obj.txt",
        &[
            ("status", "400"),
            ("body.error", "invalid_client"),
            ("body.description", "authentication failed"),
        ],
    ),
    (
        "captured/node-global-fetch/msgraph_403_request_denied_status_obj.txt",
        &[
            ("status", "403"),
            ("body.error.code", "Authorization_RequestDenied"),
            (
                "body.error.innerError.request-id",
                "5e2b9a41-0000-4000-8000-00000000f002",
            ),
        ],
    ),
    (
        "captured/node-global-fetch/github_401_bad_credentials_status_obj.txt",
        &[("status", "401"), ("body.message", "Bad credentials")],
    ),
    (
        "captured/node-global-fetch/slack_200_invalid_auth_status_obj.txt",
        &[
            ("status", "200"),
            ("body.ok", "false"),
            ("body.error", "invalid_auth"),
        ],
    ),
    (
        "captured/node-axios/api_403_message_only.txt",
        &[("status", "403"), ("exception.type", "AxiosError")],
    ),
    (
        "captured/curl/api_401_fail.txt",
        &[("status", "401"), ("exception.code", "22")],
    ),
    (
        "captured/curl/api_401_verbose_cookie_between_headers.txt",
        &[
            ("status", "401"),
            ("url", "https://api.example.com/v1/me"),
            // After curl's `* Added cookie` line: still the same exchange.
            ("header.set-cookie", "lb=api-2; Path=/"),
            (
                "header.www-authenticate",
                "Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"",
            ),
        ],
    ),
    (
        "captured/curl/gateway_502_plain_http_verbose.txt",
        &[
            ("url", "http://api.example.com:8080/v1/me"),
            ("status", "502"),
            ("html.h1", "502 Bad Gateway"),
        ],
    ),
    (
        "captured/java-httpclient/api_401_response_and_headers_dump.txt",
        &[
            ("status", "401"),
            ("method", "GET"),
            ("url", "https://api.example.com/v1/me"),
            (
                "header.www-authenticate",
                "Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"",
            ),
        ],
    ),
    (
        "captured/java-httpclient/err_dns_unresolved_address.txt",
        &[(
            "exception.cause.type",
            "java.nio.channels.UnresolvedAddressException",
        )],
    ),
    (
        "captured/aws-cli/s3_signature_does_not_match.txt",
        &[("exception.code", "SignatureDoesNotMatch")],
    ),
    (
        "captured/aws-cli/sts_invalid_client_token_id.txt",
        &[("exception.code", "InvalidClientTokenId")],
    ),
    (
        "captured/gh/api_user_bad_credentials.txt",
        &[("status", "401"), ("body.message", "Bad credentials")],
    ),
    (
        "captured/gcloud/projects_list_permission_denied.txt",
        &[("exception.code", "PERMISSION_DENIED")],
    ),
    (
        "captured/gcloud/crashed_ssl_untrusted_ca.txt",
        &[(
            "url",
            "https://api.example.com/v1/projects?alt=json&filter=lifecycleState%3AACTIVE&pageSize=500",
        )],
    ),
    (
        "captured/terraform/remote_state_401_color.txt",
        &[(
            "exception.message",
            "HTTP remote state endpoint requires auth",
        )],
    ),
    (
        "captured/terraform/remote_state_502.txt",
        &[
            ("method", "GET"),
            ("url", "https://api.example.com/state/network"),
        ],
    ),
    (
        "captured/browser-chromium/console_401_and_cors.txt",
        &[
            ("status", "401"),
            ("url", "http://api.example.com:8080/api/v2/users/me"),
            ("request.header.origin", "http://127.0.0.1:8080"),
        ],
    ),
    (
        "reconstructed/powershell/ps51_token_error_wrapped.txt",
        &[
            ("exception.type", "WebException"),
            ("body.error", "invalid_client"),
            (
                "body.error_uri",
                "https://login.microsoftonline.com/error?code=7000218",
            ),
        ],
    ),
    (
        "reconstructed/powershell/ps7_token_error_concise.txt",
        &[
            ("method", "POST"),
            ("body.error", "invalid_client"),
            ("body.error_codes.0", "7000215"),
        ],
    ),
    (
        "reconstructed/powershell/ps7_status_only.txt",
        &[("status", "403"), ("reason", "Forbidden")],
    ),
    (
        "reconstructed/dotnet/ensure_success_status_code_401.txt",
        &[
            ("status", "401"),
            ("exception.type", "System.Net.Http.HttpRequestException"),
        ],
    ),
    (
        "reconstructed/dotnet/response_tostring_401.txt",
        &[
            ("status", "401"),
            (
                "header.www-authenticate",
                "Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"",
            ),
        ],
    ),
    (
        "reconstructed/spring/resttemplate_401_caused_by.txt",
        &[
            ("status", "401"),
            ("body.error", "invalid_token"),
            (
                "exception.cause.type",
                "org.springframework.web.client.HttpClientErrorException$Unauthorized",
            ),
        ],
    ),
    (
        "reconstructed/spring/resttemplate_62_on_get_request.txt",
        &[
            ("status", "403"),
            ("method", "GET"),
            ("url", "https://api.example.com/v1/users"),
            ("body.error", "insufficient_scope"),
        ],
    ),
    (
        "reconstructed/okhttp/logging_interceptor_401.txt",
        &[
            ("status", "401"),
            ("url", "https://api.example.com/v1/me"),
            ("body.error", "invalid_token"),
        ],
    ),
    (
        "reconstructed/az/authorization_failed.txt",
        &[("exception.code", "AuthorizationFailed")],
    ),
    (
        "reconstructed/terraform/azurerm_backend_invalid_client.txt",
        &[("status", "401"), ("body.error", "invalid_client")],
    ),
    (
        "reconstructed/browser-devtools/console_401.txt",
        &[
            ("status", "401"),
            ("method", "GET"),
            ("url", "http://localhost:3000/users/profile"),
        ],
    ),
];

#[test]
fn every_new_client_format_yields_its_facts() {
    let rules = rules();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut wrong = Vec::new();
    for (file, expected) in CASES {
        let path = root.join(file);
        let source = SourceRef {
            name: file.to_string(),
            origin: Origin::File(path),
        };
        let analysis = faultline::analyze(&[source], &rules);
        let Some(incident) = analysis.incidents.first() else {
            wrong.push(format!("{file}: no incident"));
            continue;
        };
        for (name, value) in *expected {
            let found: Vec<String> = incident
                .facts
                .get(name)
                .iter()
                .map(|v| v.value.to_string())
                .collect();
            if !found.iter().any(|v| v == value) {
                wrong.push(format!("{file}: {name} = {found:?}, expected {value:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_manifest_row_names_a_file_and_an_expectation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for dir in ["captured", "reconstructed"] {
        let manifest = std::fs::read_to_string(root.join(dir).join("MANIFEST.tsv")).unwrap();
        let mut lines = manifest.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let expect = header.iter().position(|h| *h == "expect").unwrap();
        for line in lines {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), header.len(), "{dir}: {line}");
            assert!(
                root.join(dir).join(cols[0]).is_file(),
                "{dir}: no file {}",
                cols[0]
            );
            assert!(!cols[expect].is_empty(), "{dir}: {} has no expect", cols[0]);
        }
    }
}
