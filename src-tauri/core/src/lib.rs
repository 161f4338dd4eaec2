//! Meta Monitor's engine: the Graph API client, the probes that turn responses into status
//! tiles, the SQLite store and the keychain. No Tauri and no simulator in here, so the desktop
//! shell, the CLI and the tests all drive the same code.

pub mod account;
pub mod alert;
pub mod app;
pub mod capi;
pub mod catalog;
pub mod chart;
pub mod check;
pub mod clock;
pub mod demo;
pub mod diagnose;
pub mod env_account;
pub mod events;
pub mod graph;
pub mod incident;
pub mod monitor;
pub mod notify;
pub mod probe;
pub mod product;
pub mod redact;
pub mod schedule;
pub mod secret;
pub mod secrets;
pub mod sketch;
pub mod store;
pub mod tile;
pub mod token;
pub mod webhook_endpoint;

pub use account::Account;
pub use secret::Secret;
pub use tile::{Service, Status, Tile};
