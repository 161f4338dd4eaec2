// The soak page (scripts/soak-webkit.sh): loads that the web process sees over hours, run in
// minutes, to find what WebKitGTK keeps. `?mode=`:
//   app        the real window against the mock backend, time sped up `?speed=` times (600:
//              ten minutes of tiles a second): statuses, messages and metrics change, a new
//              latency every check, the "checked … ago" clock ticking;
//   unique     20 short texts replaced ten times a second, each one never shown before;
//   recurring  the same, drawn from 50 texts that come back.
import { mount } from 'svelte';

import App from './App.svelte';
import './app.css';
import { setBackend } from './lib/backend';
import { MockBackend, account, pixelDetail, tile, tokenDetail } from './lib/backend/mock';
import type { Status } from './lib/bindings/Status';

const params = new URLSearchParams(location.search);
const mode = params.get('mode') ?? 'app';
const speed = Number(params.get('speed') ?? '600');
const target = document.getElementById('app');

/** Sped-up time for the window: Date.now and setInterval (its 15 s clock) run `speed` times faster. */
function speedUpTime() {
  const realNow = Date.now.bind(Date);
  const realSetInterval = window.setInterval.bind(window);
  const start = realNow();
  Date.now = () => start + (realNow() - start) * speed;
  window.setInterval = ((handler: TimerHandler, ms?: number) =>
    realSetInterval(handler, (ms ?? 0) / speed)) as typeof window.setInterval;
  return realSetInterval;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
const STATUSES: readonly Status[] = ['UP', 'DEGRADED', 'DOWN', 'UNKNOWN'];
const WORDS = ['throttled', 'access', 'returns', 'in', 'about', 'min', 'responding', 'silent'];

/** The demo's seven tiles after one (sped-up) minute: some checked now, with new values. */
function tiles(lastCheck: Map<string, string>) {
  const now = new Date(Date.now()).toISOString();
  const checked = (service: string) => {
    if (service === 'graph_api' || service === 'rate_limits' || Math.random() < 0.1) lastCheck.set(service, now);
    return lastCheck.get(service) ?? now;
  };
  const message = () => Array.from({ length: 2 + Math.floor(Math.random() * 12) }, () => pick(WORDS)).join(' ');
  const base = [
    tile('token', 'DEGRADED', {
      detail: { kind: 'token', ...tokenDetail, never_expires: false, expires_at: new Date(Date.now() + 3 * 86_400_000).toISOString() },
    }),
    tile('graph_api', 'UP'),
    tile('rate_limits', 'UP', {
      detail: {
        kind: 'rate_limits',
        max_pct: Math.random() * 100,
        counters: { 'app.call_count': Math.random() * 100 },
        calls_this_check: 12,
        regain_seconds: null,
        calls_per_hour: Math.floor(Math.random() * 120),
        paused: [],
      },
    }),
    tile('ads', 'UP', {
      detail: {
        kind: 'ads',
        account_name: 'Demo Shop Ads',
        account_status: 'ACTIVE',
        currency: 'EUR',
        insights: {
          spend_24h: (Math.random() * 100).toFixed(2),
          spend_7d: '700.00',
          spend_30d: '3000.00',
          conversions_24h: '12',
          conversion_action_type: 'omni_purchase',
          roas_7d: (Math.random() * 6).toFixed(2),
          timezone: 'Europe/Berlin',
          purchases_7d: '84',
          purchase_value_7d: '2940.00',
          aov_7d: '35.00',
          cost_per_purchase_7d: '8.33',
          attribution: "each ad set's attribution setting (default 7-day click, 1-day view)",
          cpc_7d: '0.47',
          ctr_7d: '1.6',
          active_campaigns: 3,
        },
      },
    }),
    tile('pixel', 'DEGRADED', { detail: { kind: 'pixel', ...pixelDetail, events_24h: 0, last_fired: '2026-11-21T10:00:00Z' } }),
    tile('webhooks', 'UP', {
      detail: {
        kind: 'webhooks',
        subscriptions: [{ object: 'page', callback_url: 'https://shop.example/hook', fields: ['feed'], active: true }],
        endpoints: [],
      },
    }),
    tile('catalog', 'UP', {
      detail: {
        kind: 'catalog',
        name: 'Demo Shop Catalog',
        product_count: 128 + Math.floor(Math.random() * 10),
        vertical: 'commerce',
        review: null,
        sync: null,
      },
    }),
  ];
  return base.map((t) => ({
    ...t,
    status: Math.random() < 0.2 ? pick(STATUSES) : t.status,
    message: message(),
    latency_ms: 60 + Math.floor(Math.random() * 900),
    last_check: checked(t.service),
  }));
}

if (mode === 'app' && target) {
  const realSetInterval = speedUpTime();
  const lastCheck = new Map<string, string>();
  const mock = new MockBackend({ demo: true, accounts: [account('demo', tiles(lastCheck))], holds: [] });
  setBackend(mock);
  mount(App, { target });
  realSetInterval(() => {
    mock.state.accounts = [account('demo', tiles(lastCheck))];
    mock.calls.length = 0;
    mock.push({ kind: 'tiles_changed', account: 'demo' });
  }, 60_000 / speed);
} else if ((mode === 'unique' || mode === 'recurring') && target) {
  const lines = Array.from({ length: 20 }, () => target.appendChild(document.createElement('p')));
  const text = () => `${Math.floor(Math.random() * (mode === 'unique' ? 1e9 : 50))} ms`;
  window.setInterval(() => lines.forEach((line) => (line.textContent = text())), 100);
}
