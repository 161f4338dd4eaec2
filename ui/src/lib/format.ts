// Words for numbers and times, so tiles read the same everywhere.
import type { Service } from './bindings/Service';
import type { Status } from './bindings/Status';
import type { Detail } from './bindings/Detail';
import type { Tile } from './bindings/Tile';
import type { AccountTiles } from './bindings/AccountTiles';
import type { StoredHold } from './bindings/StoredHold';

export const SERVICE_TITLES: Record<Service, string> = {
  token: 'Access token',
  graph_api: 'Graph API',
  rate_limits: 'Rate limits',
  ads: 'Ads',
  pixel: 'Pixel',
  conversions_api: 'Server events (Conversions API)',
  webhooks: 'Webhooks',
  catalog: 'Catalog',
};

/** The services in the core's order (`Service::ALL`). */
export const SERVICES: Service[] = ['token', 'graph_api', 'rate_limits', 'ads', 'pixel', 'conversions_api', 'webhooks', 'catalog'];

/** Column headings of the accounts grid. */
export const SERVICE_SHORT: Record<Service, string> = {
  token: 'Token',
  graph_api: 'Graph',
  rate_limits: 'Rate',
  ads: 'Ads',
  pixel: 'Pixel',
  conversions_api: 'CAPI',
  webhooks: 'Hooks',
  catalog: 'Catalog',
};

/** Where an operator looks first, as the core's `worst_first`: DOWN, DEGRADED, an account
 * with a service not measured, UP; by name within each. */
export function worstFirst(accounts: AccountTiles[]): AccountTiles[] {
  const rank = (a: AccountTiles) => {
    const order: Record<Status, number> = { DOWN: 0, DEGRADED: 1, UNKNOWN: 2, UP: 3 };
    const unmeasured = a.tiles.some((t) => t.status === 'UNKNOWN');
    return a.overall === 'UP' && unmeasured ? order.UNKNOWN : order[a.overall];
  };
  return [...accounts].sort((a, b) => rank(a) - rank(b) || a.account.localeCompare(b.account));
}

/** The silence or maintenance window in force over `account`'s `service`, if any (the core
 * sends only those in force). */
export function holdOf(holds: StoredHold[], account: string, service: Service): StoredHold | undefined {
  return holds.find((h) => (h.account === null || h.account === account) && (h.hold.service === null || h.hold.service === service));
}

/** Seconds as the two largest units: "3 d 4 h", "2 h 5 min", "4 min". */
export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

/** A time of day on this machine's clock, "14:05". */
export function clock(ms: number): string {
  const t = new Date(ms);
  return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
}

/** A change in percent as "+12 %" / "−4 %" (a real minus sign). */
export function change(pct: number): string {
  const rounded = Math.round(pct);
  if (rounded === 0) return '±0 %';
  return rounded > 0 ? `+${rounded} %` : `−${Math.abs(rounded)} %`;
}

/** A percentage with two decimals, or "—" when nothing was measured. */
export function percent(value: number | null): string {
  return value === null ? '—' : `${value.toFixed(2)} %`;
}

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

/** The tile's detail when it is of `kind` (a probe that measured nothing has `none`). */
export function detailOf<K extends Detail['kind']>(tile: Tile, kind: K): Extract<Detail, { kind: K }> | null {
  return tile.detail.kind === kind ? (tile.detail as Extract<Detail, { kind: K }>) : null;
}

/** A value or "—" when it was not measured. */
export function shown(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

/** The one or two numbers an operator looks for on each tile. */
export function keyMetrics(tile: Tile, now: number = Date.now()): string[] {
  const out: string[] = [];
  const d = tile.detail;
  switch (d.kind) {
    case 'token':
      if (d.expires_at) out.push(`expires ${until(d.expires_at, now)}`);
      else if (d.is_valid && d.never_expires) out.push('never expires');
      if (d.capi) {
        const capi = d.capi.expires_at ? `expires ${until(d.capi.expires_at, now)}` : d.capi.status === 'UP' ? 'valid' : d.capi.status;
        out.push(`CAPI token ${capi}`);
      }
      break;
    case 'graph_api':
      if (tile.latency_ms !== null) out.push(`${tile.latency_ms} ms`);
      break;
    case 'rate_limits':
      if (d.max_pct !== null) {
        const left = `${Math.max(0, Math.round(100 - d.max_pct))} % left`;
        const regains = d.regain_seconds ? Date.parse(tile.last_check) + d.regain_seconds * 1000 : null;
        out.push(regains && regains > now ? `${left} · regains ${clock(regains)}` : left);
      }
      if (d.calls_per_hour !== null) out.push(`${d.calls_per_hour} calls/h by Meta Monitor`);
      break;
    case 'ads':
      if (d.insights) {
        out.push(`${Number(d.insights.spend_24h).toFixed(2)} ${d.currency ?? ''} today`.trim());
        if (d.insights.roas_7d !== null) out.push(`ROAS ${Number(d.insights.roas_7d).toFixed(2)} (7 d)`);
      }
      break;
    case 'pixel':
      if (d.events_24h !== null) out.push(`${d.events_24h.toLocaleString('en')} events in 24 h`);
      if (d.last_fired) out.push(`last fired ${ago(d.last_fired, now)}`);
      break;
    case 'conversions_api':
      out.push(`${d.server_1h.toLocaleString('en')} server events in 1 h`);
      if (d.share_pct !== null) out.push(`${Math.round(d.share_pct)} % from the server`);
      break;
    case 'webhooks': {
      const inactive = d.subscriptions.filter((s) => !s.active).length;
      out.push(`${d.subscriptions.length - inactive} active`);
      if (inactive) out.push(`${inactive} inactive`);
      break;
    }
    case 'catalog':
      if (d.product_count !== null) out.push(`${d.product_count.toLocaleString('en')} products`);
      if (d.sync?.failed) out.push(`${d.sync.failed} refused by Meta`);
      if (d.sync?.pending) out.push(`${d.sync.pending} pending`);
      if (d.review?.rejected) out.push(`${d.review.rejected} rejected in review`);
      break;
    case 'none':
      // The latency is all there is (the probe measured nothing else).
      if (tile.service === 'graph_api' && tile.latency_ms !== null) out.push(`${tile.latency_ms} ms`);
      break;
  }
  return out;
}
