//! `GET /{app_id}/subscriptions` with the app token: what Meta will deliver, and where.

use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub object: String,
    #[serde(default)]
    pub callback_url: Option<String>,
    pub active: bool,
    #[serde(default)]
    pub fields: Vec<SubscribedField>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscribedField {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
}

pub async fn subscriptions(
    client: &GraphClient,
    app_id: &str,
) -> Result<Vec<Subscription>, GraphError> {
    let token = client.app_token().ok_or_else(|| {
        GraphError::NotConfigured("reading subscriptions needs the app id and app secret".into())
    })?;
    let path = format!("{app_id}/subscriptions");
    let (subs, _) = client
        .get_pages::<Subscription>(&path, &[], &token, 10)
        .await?;
    Ok(subs)
}
