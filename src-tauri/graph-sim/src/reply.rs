//! Response builders in Meta's formats: JSON bodies, the `error` object, HTML error pages,
//! truncated bodies and dropped connections.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

/// Response headers being accumulated for one request.
#[derive(Default)]
pub struct Extra {
    pub headers: Vec<(&'static str, String)>,
}

impl Extra {
    pub fn add(&mut self, name: &'static str, value: String) {
        self.headers.push((name, value));
    }
}

fn build(
    status: StatusCode,
    content_type: &str,
    body: Body,
    version: &str,
    trace: &str,
    extra: &Extra,
) -> Response {
    let mut headers = HeaderMap::new();
    let mut put = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    };
    put(header::CONTENT_TYPE.as_str(), content_type);
    put("facebook-api-version", version);
    put("x-fb-trace-id", trace);
    put("x-fb-rev", "1023456789");
    put("access-control-allow-origin", "*");
    for (name, value) in &extra.headers {
        put(name, value);
    }
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

pub fn json(
    status: StatusCode,
    value: &Value,
    version: &str,
    trace: &str,
    extra: &Extra,
) -> Response {
    build(
        status,
        "application/json; charset=UTF-8",
        Body::from(value.to_string()),
        version,
        trace,
        extra,
    )
}

/// A Graph error: `{"error": {...}}` with `fbtrace_id`, and `WWW-Authenticate` for OAuth errors.
pub struct GraphError<'a> {
    pub status: StatusCode,
    pub code: i64,
    pub subcode: Option<i64>,
    pub kind: &'a str,
    pub message: String,
    pub is_transient: bool,
}

pub fn error(e: GraphError<'_>, version: &str, trace: &str, extra: &mut Extra) -> Response {
    let mut body = json!({
        "message": e.message,
        "type": e.kind,
        "code": e.code,
        "is_transient": e.is_transient,
        "fbtrace_id": trace,
    });
    if let Some(sub) = e.subcode {
        body["error_subcode"] = json!(sub);
    }
    if e.code == 190 || e.code == 104 {
        let reason = if e.code == 190 {
            "invalid_token"
        } else {
            "invalid_request"
        };
        let text = e.message.replace('"', "'");
        extra.add(
            "www-authenticate",
            format!("OAuth \"Facebook Platform\" \"{reason}\" \"{text}\""),
        );
    }
    json(e.status, &json!({ "error": body }), version, trace, extra)
}

/// A Conversions API refusal: code 100 with Meta's `error_user_title` / `error_user_msg`.
pub fn capi_error(
    r: crate::events::Rejection,
    version: &str,
    trace: &str,
    extra: &mut Extra,
) -> Response {
    let mut body = json!({
        "message": r.message,
        "type": "OAuthException",
        "code": 100,
        "is_transient": false,
        "fbtrace_id": trace,
    });
    if let Some(sub) = r.subcode {
        body["error_subcode"] = json!(sub);
    }
    if let Some(title) = r.user_title {
        body["error_user_title"] = json!(title);
    }
    if let Some(msg) = r.user_msg {
        body["error_user_msg"] = json!(msg);
    }
    json(
        StatusCode::BAD_REQUEST,
        &json!({ "error": body }),
        version,
        trace,
        extra,
    )
}

/// An HTML error page, as a load balancer in front of Graph serves during an outage.
pub fn html_page(status: StatusCode, version: &str, trace: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><title>Error</title></head><body>\
         <h1>Sorry, something went wrong.</h1><p>We're working on it and we'll get it fixed as soon as \
         we can.</p><p>{} {}</p></body></html>",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    build(
        status,
        "text/html; charset=utf-8",
        Body::from(page),
        version,
        trace,
        &Extra::default(),
    )
}

/// A 200 whose JSON body stops halfway.
pub fn truncated(value: &Value, version: &str, trace: &str, extra: &Extra) -> Response {
    let text = value.to_string();
    let cut = text.len() / 2;
    let partial = text.get(..cut).unwrap_or("{").to_owned();
    build(
        StatusCode::OK,
        "application/json; charset=UTF-8",
        Body::from(partial),
        version,
        trace,
        extra,
    )
}

/// Headers and part of the body, then the connection is dropped mid-response.
pub fn dropped(value: &Value, version: &str, trace: &str, extra: &Extra) -> Response {
    let text = value.to_string();
    let first = Bytes::from(text.get(..text.len() / 3).unwrap_or("{").to_owned());
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(first),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated drop",
        )),
    ];
    let body = Body::from_stream(futures::stream::iter(chunks));
    let mut response = build(
        StatusCode::OK,
        "application/json; charset=UTF-8",
        body,
        version,
        trace,
        extra,
    );
    // A length longer than what is sent makes the drop visible even to lenient clients.
    if let Ok(v) = HeaderValue::from_str(&text.len().to_string()) {
        response.headers_mut().insert(header::CONTENT_LENGTH, v);
    }
    response
}
