//! `GET /me?fields=id,name`: the cheapest liveness check of the Graph API and the token.

use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError, GraphResponse};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

pub async fn me(client: &GraphClient) -> Result<(Me, GraphResponse), GraphError> {
    let response = client.get("me", &[("fields", "id,name")]).await?;
    Ok((response.json()?, response))
}
