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

/// How many of the catalog's items Meta's review approved, holds pending and rejected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReviewCounts {
    pub approved: u64,
    pub pending: u64,
    pub rejected: u64,
}

/// Three counting calls (`summary=total_count` with a `review_status` filter, one item each).
pub async fn review_counts(
    client: &GraphClient,
    catalog_id: &str,
) -> Result<ReviewCounts, GraphError> {
    #[derive(Deserialize)]
    struct Summary {
        total_count: u64,
    }
    #[derive(Deserialize)]
    struct Counted {
        summary: Summary,
    }
    let path = format!("{catalog_id}/products");
    let mut counts = ReviewCounts::default();
    for (status, slot) in [
        ("approved", &mut counts.approved),
        ("pending", &mut counts.pending),
        ("rejected", &mut counts.rejected),
    ] {
        let filter = format!(r#"{{"review_status":{{"eq":"{status}"}}}}"#);
        let counted: Counted = client
            .get(
                &path,
                &[
                    ("fields", "id"),
                    ("limit", "1"),
                    ("summary", "total_count"),
                    ("filter", filter.as_str()),
                ],
            )
            .await?
            .json()?;
        *slot = counted.summary.total_count;
    }
    Ok(counts)
}
