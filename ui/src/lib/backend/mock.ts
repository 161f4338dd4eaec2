// An in-memory backend for UI tests: canned tiles, recorded calls, events pushed by the test.
import type { Status } from '../bindings/Status';
import type { Tile } from '../bindings/Tile';
import type {
  AccountTiles,
  Backend,
  ChartRequest,
  ChartView,
  MonitorEvent,
  Notification,
  Overview,
  Service,
  ServiceHistory,
} from './index';

export function tile(service: Tile['service'], status: Status, extra: Partial<Tile> = {}): Tile {
  return {
    service,
    status,
    latency_ms: 120,
    last_check: new Date(Date.now() - 2 * 60_000).toISOString(),
    last_success: status === 'UP' || status === 'DEGRADED' ? new Date().toISOString() : null,
    message: `${service} is ${status.toLowerCase()}`,
    metrics: {},
    ...extra,
  };
}

export function account(name: string, tiles: Tile[]): AccountTiles {
  const rank: Record<Status, number> = { UNKNOWN: 0, UP: 1, DEGRADED: 2, DOWN: 3 };
  const overall = tiles.reduce<Status>(
    (worst, t) => (rank[t.status] > rank[worst] ? t.status : worst),
    'UNKNOWN',
  );
  return { account: name, overall, tiles };
}

export class MockBackend implements Backend {
  calls: string[] = [];
  private listeners: ((e: MonitorEvent) => void)[] = [];

  constructor(public state: Overview) {}

  async overview(): Promise<Overview> {
    this.calls.push('overview');
    return structuredClone(this.state);
  }

  async checkNow(name: string): Promise<AccountTiles> {
    this.calls.push(`checkNow:${name}`);
    const found = this.state.accounts.find((a) => a.account === name);
    if (!found) throw { code: 'NoSuchAccount', message: name };
    return structuredClone(found);
  }

  history: ServiceHistory = { failures: [], runs_24h: 0, failed_24h: 0 };

  async chart(request: ChartRequest): Promise<ChartView> {
    this.calls.push(`chart:${request.metric}:${request.window}`);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${request.width}" height="${request.height}"><polyline points="0,10 5,20 10,15"/></svg>`;
    return { svg, points: 3, summary: null };
  }

  async serviceHistory(account: string, service: Service): Promise<ServiceHistory> {
    this.calls.push(`history:${account}:${service}`);
    return structuredClone(this.history);
  }

  notifications: Notification[] = [];

  async alerts(account: string): Promise<Notification[]> {
    this.calls.push(`alerts:${account}`);
    return structuredClone(this.notifications);
  }

  async onEvent(listener: (e: MonitorEvent) => void) {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Delivers an event as the shell would. */
  push(event: MonitorEvent): void {
    this.listeners.forEach((l) => l(event));
  }
}
