//! The Conversions API: customer-information normalization and hashing, and (later) building,
//! validating and sending server events.

pub mod event;
pub mod normalize;
pub mod send;
