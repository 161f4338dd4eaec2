//! The simulator's shared state: scenario, request log, rate-limit windows.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};

use serde::Serialize;

use crate::SimConfig;
use crate::scenario::Scenario;
use crate::usage::Windows;

/// One request as the simulator received it, for tests to inspect.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, exactly as sent.
    pub query: String,
    /// `Bearer`, `OAuth` or `None`: how the token arrived in the `Authorization` header.
    pub auth_scheme: Option<String>,
    /// Whether a token arrived in the header (its value is not recorded).
    pub header_token: bool,
    pub body: String,
    pub user_agent: Option<String>,
}

pub struct SimState {
    pub config: SimConfig,
    pub base_url: String,
    scenario: Mutex<Scenario>,
    requests: Mutex<Vec<RecordedRequest>>,
    pub windows: Mutex<Windows>,
    trace: AtomicU64,
    /// The highest `X-App-Usage` call_count answered since the scenario was set.
    pub max_app_pct: AtomicU32,
    /// Conversions API events received.
    pub events: Mutex<crate::events::Log>,
    pub catalog: Mutex<crate::catalog::Catalog>,
    /// Tokens the simulator issued, with their lifetimes.
    pub tokens: Mutex<crate::tokens::Registry>,
    /// Seconds added to the wall clock: tests move the simulator's time forward.
    clock_offset: AtomicI64,
}

impl SimState {
    pub fn new(config: SimConfig, base_url: String) -> Self {
        let scenario = config.scenario;
        let state = Self {
            base_url,
            scenario: Mutex::new(scenario),
            requests: Mutex::new(Vec::new()),
            windows: Mutex::new(Windows::default()),
            trace: AtomicU64::new(1),
            max_app_pct: AtomicU32::new(0),
            events: Mutex::new(crate::events::Log::default()),
            catalog: Mutex::new(crate::catalog::Catalog::new(
                config.seed,
                config.catalog_products,
                config.catalog_processing,
                config.catalog_review_delay,
            )),
            tokens: Mutex::default(),
            clock_offset: AtomicI64::new(0),
            config,
        };
        state.set_scenario(scenario);
        state
    }

    pub fn scenario(&self) -> Scenario {
        self.scenario
            .lock()
            .map(|s| *s)
            .unwrap_or(Scenario::Healthy)
    }

    pub fn set_scenario(&self, scenario: Scenario) {
        if let Ok(mut s) = self.scenario.lock() {
            *s = scenario;
        }
        if let Ok(mut w) = self.windows.lock() {
            *w = Windows::for_scenario(scenario, &self.config);
        }
        self.max_app_pct.store(0, Ordering::Relaxed);
    }

    /// The simulator's time: the wall clock plus what tests advanced it by.
    pub fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
            + time::Duration::seconds(self.clock_offset.load(Ordering::Relaxed))
    }

    pub fn advance_clock(&self, seconds: i64) {
        self.clock_offset.fetch_add(seconds, Ordering::Relaxed);
    }

    pub fn record(&self, request: RecordedRequest) {
        if let Ok(mut r) = self.requests.lock() {
            r.push(request);
        }
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn clear_requests(&self) {
        if let Ok(mut r) = self.requests.lock() {
            r.clear();
        }
    }

    /// A fresh `fbtrace_id`-looking string (Meta's are ~11–27 url-safe characters).
    pub fn next_trace(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        let mut n = self
            .trace
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut out = String::from("A");
        for _ in 0..22 {
            out.push(char::from(ALPHABET[(n % 64) as usize]));
            n /= 64;
            if n == 0 {
                n = 0x0005_DEEC_E66D;
            }
        }
        out
    }
}
