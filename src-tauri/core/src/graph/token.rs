//! `GET /debug_token`: validity, type, expiry and scopes of the account's access token.

use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError, GraphResponse};

/// The `data` object of a `debug_token` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub application: Option<String>,
    /// Unix seconds; 0 means the token never expires (gotcha 4).
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Unix seconds; 0 when not applicable.
    #[serde(default)]
    pub data_access_expires_at: Option<i64>,
    pub is_valid: bool,
    #[serde(default)]
    pub issued_at: Option<i64>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `[{scope, target_ids?}]`: targets omitted when the permission covers everything.
    #[serde(default)]
    pub granular_scopes: Vec<GranularScope>,
    #[serde(default)]
    pub user_id: Option<String>,
    /// The Page of a Page token.
    #[serde(default)]
    pub profile_id: Option<String>,
    /// Present when the token is invalid; the call itself still succeeds.
    #[serde(default)]
    pub error: Option<TokenInfoError>,
}

/// One permission and the assets it is limited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct GranularScope {
    pub scope: String,
    /// `None`: the permission covers every asset.
    #[serde(default)]
    pub target_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenInfoError {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub subcode: Option<i64>,
}

#[derive(Deserialize)]
struct Envelope {
    data: TokenInfo,
}

/// Inspects the account's token: with the app token when the app id and secret are known,
/// otherwise the token inspects itself. `input_token` travels in a batch request's body,
/// never in a URL.
pub async fn debug_token(client: &GraphClient) -> Result<(TokenInfo, GraphResponse), GraphError> {
    debug_token_of(client, client.access_token()).await
}

/// Inspects `input` (a renewed token, the Conversions API token): with the app token when
/// the client knows the app id and secret, else `input` inspects itself.
pub async fn debug_token_of(
    client: &GraphClient,
    input: &crate::secret::Secret,
) -> Result<(TokenInfo, GraphResponse), GraphError> {
    let inspector = client.app_token().unwrap_or_else(|| input.clone());
    let response = client
        .get_via_batch(
            "debug_token",
            &[("input_token", input.expose())],
            &inspector,
        )
        .await?;
    let mut envelope: Envelope = response.json()?;
    // Meta's reason for an invalid token may quote the token itself ("Malformed access token …").
    if let Some(message) = envelope
        .data
        .error
        .as_mut()
        .and_then(|e| e.message.as_mut())
    {
        *message = crate::redact::Redactor::new([input.expose()]).scrub(&client.redact(message));
    }
    Ok((envelope.data, response))
}
