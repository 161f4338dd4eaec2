//! The product catalog node: name, product count, vertical.

use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub product_count: Option<u64>,
    #[serde(default)]
    pub vertical: Option<String>,
}

pub async fn catalog(client: &GraphClient, catalog_id: &str) -> Result<Catalog, GraphError> {
    client
        .get(catalog_id, &[("fields", "id,name,product_count,vertical")])
        .await?
        .json()
}
