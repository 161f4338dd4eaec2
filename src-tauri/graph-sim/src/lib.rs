//! `meta-graph-sim`: a Graph API simulator on loopback that reproduces Meta's real formats and
//! failure modes (see `shared/reference/graph-api.md`): versioned paths, Bearer and query
//! tokens, both `appsecret_proof` forms, error bodies and statuses, rate-limit headers from
//! sliding windows that throttle at 100 %, `debug_token`, insights with string numbers,
//! paging with `next` links to itself, pixel stats, subscriptions and the catalog node.
//!
//! It shares no code with the client on purpose: the two agree only if both follow Meta.
//! A library first, so tests, benchmarks and the desktop demo start it in-process.

mod admin;
mod auth;
mod catalog;
mod data;
mod events;
mod graph;
mod reply;
mod scenario;
mod state;
mod tokens;
mod usage;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use scenario::Scenario;
pub use state::RecordedRequest;
pub use tokens::TokenKind;

/// Identifiers of the simulated business, used by demo mode and the tests.
pub const APP_ID: &str = "1234567890";
/// An obviously fake app secret: the simulator's app signs and checks proofs with it.
pub const APP_SECRET: &str = "sim-app-secret-not-real";
pub const AD_ACCOUNT: &str = "act_2369703843357278";
pub const PIXEL_ID: &str = "1202835294532393";
pub const CATALOG_ID: &str = "5551234567890";
pub const BUSINESS_ID: &str = "7770001112223";
/// An obviously fake user token the simulator accepts (any non-empty token is accepted).
pub const DEMO_TOKEN: &str = "sim-demo-token-not-real";

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub scenario: Scenario,
    /// Seeds the deterministic data (spend, events, campaign counts).
    pub seed: u64,
    /// How long "slow" endpoints of the `outage` scenario wait before answering.
    pub slow_delay: Duration,
    /// Rejects calls without `appsecret_proof`, like an app with *Require App Secret* on.
    pub require_proof: bool,
    /// App (platform) quota: calls per rolling hour before `X-App-Usage` reaches 100 %.
    pub app_quota: u32,
    /// Ads Management calls per rolling hour per ad account (development tier: 300).
    pub ads_management_quota: u32,
    /// Ads Insights calls per rolling hour per ad account (standard tier: 600).
    pub ads_insights_quota: u32,
    /// The `callback_url` of the app's webhook subscriptions.
    pub callback_url: String,
    /// A fixed expiry for the token (instead of "3 days from each call" in `token-expiring`
    /// and 45 days otherwise), for clients that run on a faster clock.
    pub token_expires_at: Option<i64>,
    /// Every answer waits a time in this range first, like a call across the internet to
    /// Meta (the demo: 60–240 ms); `None` answers at loopback speed.
    pub network_delay: Option<(Duration, Duration)>,
    /// Demo products the catalog starts with (a few pending review, a few rejected).
    pub catalog_products: usize,
    /// Catalog Batch calls per minute per catalog: `8 + 8 × log2(DA impressions + PDP
    /// visits)`, so 8 for a shop without traffic.
    pub catalog_batch_quota: u32,
    /// How long Meta takes to apply a batch (plus 50 µs per request).
    pub catalog_processing: Duration,
    /// How long a new or changed product stays `pending` review.
    pub catalog_review_delay: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            scenario: Scenario::Healthy,
            seed: 42,
            slow_delay: Duration::from_secs(30),
            require_proof: false,
            app_quota: 200,
            ads_management_quota: usage::ADS_MANAGEMENT_QUOTA,
            ads_insights_quota: usage::ADS_INSIGHTS_QUOTA,
            callback_url: "https://shop.example/meta/webhook".to_owned(),
            token_expires_at: None,
            network_delay: None,
            catalog_products: 128,
            catalog_batch_quota: 8,
            catalog_processing: Duration::from_millis(400),
            catalog_review_delay: Duration::from_secs(2),
        }
    }
}

/// A running simulator. Dropping it does not stop the server; call [`Simulator::shutdown`].
pub struct Simulator {
    addr: SocketAddr,
    state: Arc<state::SimState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Simulator {
    /// Starts on `listen` (e.g. `127.0.0.1:0`) inside the current tokio runtime.
    pub async fn start(listen: SocketAddr, config: SimConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(state::SimState::new(config, format!("http://{addr}")));
        let app = graph::router(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                eprintln!("graph simulator stopped: {e}");
            }
        });
        Ok(Self {
            addr,
            state,
            stop: Some(stop),
            task,
        })
    }

    /// Starts on `127.0.0.1:0`.
    pub async fn start_local(config: SimConfig) -> std::io::Result<Self> {
        Self::start(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: the account's graph URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn scenario(&self) -> Scenario {
        self.state.scenario()
    }

    /// Switches scenario; rate-limit windows are reset to the scenario's starting point.
    pub fn set_scenario(&self, scenario: Scenario) {
        self.state.set_scenario(scenario);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// The highest app usage (`X-App-Usage` call_count, %) answered since the scenario was
    /// last set: what a self-throttling client must keep below its pause level.
    pub fn max_app_usage_pct(&self) -> u32 {
        self.state
            .max_app_pct
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// Issues a token of `kind` valid for `lifetime` from the simulator's now (`None`: never
    /// expires) with the demo business's scopes, or `scopes` when given. The simulator then
    /// treats it as Meta would: described by `debug_token`, refused with 190/463 once
    /// expired, exchangeable at `oauth/access_token`.
    pub fn issue_token(
        &self,
        kind: TokenKind,
        lifetime: Option<Duration>,
        scopes: Option<Vec<String>>,
    ) -> String {
        let now = self.state.now().unix_timestamp();
        let lifetime = lifetime.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2));
        let scopes = scopes.unwrap_or_else(tokens::default_scopes);
        match self.state.tokens.lock() {
            Ok(mut registry) => registry.issue(kind, lifetime, scopes, now),
            Err(poisoned) => poisoned.into_inner().issue(kind, lifetime, scopes, now),
        }
    }

    /// Moves the simulator's clock forward: issued tokens age, expiring ones expire.
    pub fn advance_clock(&self, by: Duration) {
        self.state
            .advance_clock(i64::try_from(by.as_secs()).unwrap_or(i64::MAX / 2));
    }

    /// Retailer id → Meta product id of every item in the catalog (batches due applied).
    pub fn catalog_items(&self) -> Vec<(String, String)> {
        self.state
            .catalog
            .lock()
            .map(|mut c| c.ids(std::time::Instant::now()))
            .unwrap_or_default()
    }

    /// Meta's product id for a retailer id, when the item is in the catalog.
    pub fn meta_product_id(&self, retailer_id: &str) -> Option<String> {
        self.catalog_items()
            .into_iter()
            .find(|(r, _)| r == retailer_id)
            .map(|(_, id)| id)
    }

    /// Requests received by accepted `items_batch` calls, resends included.
    pub fn catalog_requests_received(&self) -> u64 {
        self.state
            .catalog
            .lock()
            .map(|c| c.requests_received)
            .unwrap_or(0)
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
