//! The product catalog: products as shops keep them, feed import, and a sync to Meta that
//! says "success" only when Meta's batch status does.

pub mod import;
pub mod product;
pub mod sync;
