// Words for numbers and times, so tiles read the same everywhere.
import type { Service } from './bindings/Service';
import type { Status } from './bindings/Status';
import type { Tile } from './bindings/Tile';

export const SERVICE_TITLES: Record<Service, string> = {
  token: 'Access token',
  graph_api: 'Graph API',
  rate_limits: 'Rate limits',
  ads: 'Ads',
  pixel: 'Pixel',
  webhooks: 'Webhooks',
  catalog: 'Catalog',
};

export const STATUS_WORDS: Record<Status, string> = {
  UP: 'Up',
  DEGRADED: 'Degraded',
  DOWN: 'Down',
  UNKNOWN: 'Unknown',
};

/** "just now", "2 min ago", "3 h ago", "2 d ago". */
export function ago(iso: string | null, now: number = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return 'unknown';
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

/** "in 3 d", "in 5 h", "expired". */
export function until(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (Number.isNaN(seconds)) return 'unknown';
  if (seconds <= 0) return 'expired';
  const hours = seconds / 3600;
  if (hours < 48) return `in ${Math.max(1, Math.round(hours))} h`;
  return `in ${Math.round(hours / 24)} d`;
}

function num(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** The one or two numbers an operator looks for on each tile. */
export function keyMetrics(tile: Tile, now: number = Date.now()): string[] {
  const m = tile.metrics;
  const out: string[] = [];
  switch (tile.service) {
    case 'token':
      if (typeof m.expires_at === 'string') out.push(`expires ${until(m.expires_at, now)}`);
      else if (m.is_valid === true) out.push('never expires');
      break;
    case 'graph_api':
      if (tile.latency_ms !== null) out.push(`${tile.latency_ms} ms`);
      break;
    case 'rate_limits': {
      const max = num(m.max_pct);
      if (max !== undefined) out.push(`peak usage ${Math.round(max)} %`);
      const calls = num(m.calls_per_hour);
      if (calls !== undefined) out.push(`${calls} calls/h by Meta Monitor`);
      break;
    }
    case 'ads': {
      const spend = num(m.spend_24h);
      const currency = typeof m.currency === 'string' ? m.currency : '';
      if (spend !== undefined) out.push(`${spend.toFixed(2)} ${currency} today`.trim());
      const roas = num(m.roas_7d);
      if (roas !== undefined) out.push(`ROAS ${roas.toFixed(2)} (7 d)`);
      break;
    }
    case 'pixel': {
      const events = num(m.events_24h);
      if (events !== undefined) out.push(`${events.toLocaleString('en')} events in 24 h`);
      if (typeof m.last_fired_time === 'string')
        out.push(`last fired ${ago(m.last_fired_time.replace(/\+0000$/, 'Z'), now)}`);
      break;
    }
    case 'webhooks': {
      const active = num(m.active);
      const inactive = num(m.inactive);
      if (active !== undefined) out.push(`${active} active`);
      if (inactive) out.push(`${inactive} inactive`);
      break;
    }
    case 'catalog': {
      const count = num(m.product_count);
      if (count !== undefined) out.push(`${count.toLocaleString('en')} products`);
      const failed = num(m.sync_failed);
      const pending = num(m.sync_pending);
      if (failed) out.push(`${failed} refused by Meta`);
      if (pending) out.push(`${pending} pending`);
      const rejected = num(m.review_rejected);
      if (rejected) out.push(`${rejected} rejected in review`);
      break;
    }
  }
  return out;
}

const RANK: Record<Status, number> = { UNKNOWN: 0, UP: 1, DEGRADED: 2, DOWN: 3 };

/** The worst measured status; UNKNOWN only when nothing was measured (as the core rules). */
export function worst(statuses: Status[]): Status {
  return statuses.reduce<Status>((w, s) => (RANK[s] > RANK[w] ? s : w), 'UNKNOWN');
}
