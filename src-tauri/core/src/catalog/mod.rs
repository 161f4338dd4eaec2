//! The product catalog: products as shops keep them, feed import, and a sync to Meta that
//! says "success" only when Meta's batch status does.

pub mod feed;
pub mod import;
/// Products as shops keep them: a module of its own, so the store can hold them without
/// depending on the sync engine that uses the store.
pub use crate::product;
pub mod sync;
mod xml;
