// An in-memory backend for UI tests: canned tiles, recorded calls, events pushed by the test.
import type { Status } from '../bindings/Status';
import type { ConversionsApiDetail } from '../bindings/ConversionsApiDetail';
import type { PixelDetail } from '../bindings/PixelDetail';
import type { SentEvent } from '../bindings/SentEvent';
import type { Tile } from '../bindings/Tile';
import type { TokenDetail } from '../bindings/TokenDetail';
import type {
  Diagnosis,
  Finding,
  TileStory,
  FiringAlert,
  Incident,
  IncidentQuery,
  NewHold,
  ServiceUptime,
  StoredHold,
  Account,
  AccountTiles,
  Backend,
  CatalogView,
  FieldProblem,
  ImportResult,
  FeedRun,
  FeedSource,
  StoredProduct,
  SyncProgress,
  SyncSelection,
  SyncSummary,
  ChartRequest,
  ChartView,
  ConnectionTest,
  DesktopPrefs,
  EventInput,
  EventPreview,
  ExportFormat,
  WindowEvent,
  Notification,
  Overview,
  SecretName,
  SentEventsView,
  Service,
  ServiceHistory,
  SettingsView,
  TestEventResult,
  IpcError,
} from './index';

export function tile(service: Tile['service'], status: Status, extra: Partial<Tile> = {}): Tile {
  return {
    service,
    status,
    latency_ms: 120,
    last_check: new Date(Date.now() - 2 * 60_000).toISOString(),
    last_success: status === 'UP' || status === 'DEGRADED' ? new Date().toISOString() : null,
    message: `${service} is ${status.toLowerCase()}`,
    detail: { kind: 'none' },
    error: null,
    ...extra,
  };
}

/** A valid token's detail as `debug_token` gives it, for fixtures to adjust. */
export const tokenDetail: TokenDetail = {
  is_valid: true,
  token_type: 'SYSTEM_USER',
  expires_at: null,
  never_expires: true,
  data_access_expires_at: null,
  scopes: ['ads_read', 'catalog_management'],
  missing_scopes: [],
  missing: [],
  app_id: '1234567890',
  application: 'Shop integration',
  user_id: '61570785020842',
  issued_at: null,
  granular_scopes: [{ scope: 'ads_read', target_ids: ['2369703843357278'] }, { scope: 'catalog_management', target_ids: null }],
  data_access_ending: false,
  renewal: null,
  capi: null,
};

/** A pixel's detail with nothing but the node read, for fixtures to adjust. */
export const pixelDetail: PixelDetail = {
  pixel_name: 'Shop pixel',
  last_fired: new Date(Date.now() - 5 * 60_000).toISOString(),
  silent: false,
  silence_threshold_hours: 24,
  events_24h: null,
  events_by_name: {},
};

/** A Conversions API detail: a healthy day, for fixtures to adjust. */
export const capiDetail: ConversionsApiDetail = {
  server_1h: 40,
  server_24h: 960,
  browser_1h: 60,
  browser_24h: 1440,
  last_server_hour: new Date(Date.now() - 30 * 60_000).toISOString(),
  by_event: [],
  per_event_reported: false,
  share_pct: 40,
  share_week_ago_pct: 41,
  compare_hours: 6,
  silence_threshold_minutes: 120,
  share_drop_pct: 50,
  quality: { state: 'missing', why: 'not read' },
};

/** A never-synced product with these feed fields. */
export function product(fields: Record<string, string>): StoredProduct {
  return { fields, meta_product_id: null, catalog_id: null, last_sync: null, sync_status: null, error_details: null, review_status: null, changed: true };
}

const RANK: Record<Status, number> = { UNKNOWN: 0, UP: 1, DEGRADED: 2, DOWN: 3 };

/** An account as the core returns it; a fixture's overall is its worst measured tile. */
export function account(name: string, tiles: Tile[]): AccountTiles {
  const overall = tiles.reduce<Status>((w, t) => (RANK[t.status] > RANK[w] ? t.status : w), 'UNKNOWN');
  // The core's banner, in short: what the worst tiles say.
  const worst = [...new Set(tiles.filter((t) => t.status === overall).map((t) => t.message))];
  const banner = tiles.length === 0 ? 'waiting for the first check' : overall === 'UP' ? 'all services are up' : worst.join('; ');
  return { account: name, overall, banner, tiles };
}

/** A new account as the core's `Account::new` makes it (the real one comes from the shell). */
export function newAccount(name = ''): Account {
  return {
    name,
    graph_url: 'https://graph.facebook.com',
    api_version: 'v25.0',
    app_id: null,
    ad_account_id: null,
    pixel_id: null,
    catalog_id: null,
    business_id: null,
    test_event_code: null,
    webhook_endpoints: [],
    monitoring: {
      graph_api_minutes: 1,
      token_minutes: 360,
      ads_minutes: 15,
      pixel_minutes: 10,
      conversions_api_minutes: 10,
      webhooks_minutes: 30,
      catalog_minutes: 30,
      slow_ms: 2000,
      token_warning_days: 7,
      token_auto_renew: true,
      token_renew_days: 7,
      pixel_silence_hours: 24,
      capi_silence_minutes: 120,
      capi_share_drop_pct: 50,
      usage_warning_pct: 75,
      feed_delete_brake_pct: 10,
      notify_desktop: true,
      notify_team_webhook: true,
      findings_digest: false,
      digest_hour_utc: 8,
      hash_external_id: true,
    },
  };
}

export class MockBackend implements Backend {
  calls: string[] = [];
  private listeners: ((e: WindowEvent) => void)[] = [];

  /** What `startupProblem` answers (null: the app started). */
  problem: IpcError | null = null;

  constructor(public state: Overview) {}

  async startupProblem(): Promise<IpcError | null> {
    this.calls.push('startupProblem');
    return this.problem;
  }

  async quit(): Promise<void> {
    this.calls.push('quit');
  }

  async overview(): Promise<Overview> {
    this.calls.push('overview');
    return structuredClone(this.state);
  }

  async checkNow(name: string, service?: Service): Promise<AccountTiles> {
    this.calls.push(service ? `checkNow:${name}:${service}` : `checkNow:${name}`);
    const found = this.state.accounts.find((a) => a.account === name);
    if (!found) throw { code: 'no_such_account', message: name };
    return structuredClone(found);
  }

  history: ServiceHistory = { failures: [], runs_24h: 0, failed_24h: 0 };

  async chart(request: ChartRequest): Promise<ChartView> {
    this.calls.push(`chart:${request.metric}:${request.window}`);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${request.width}" height="${request.height}"><polyline points="0,10 5,20 10,15"/></svg>`;
    return { svg, points: 3, summary: null };
  }

  /** Events "sent" through the mock, newest last (the mock keeps only what the real log keeps). */
  sent: { name: string; eventId: string; testCode: string | null }[] = [];
  /** The answer the next send gets: Meta's counts, or a refusal in words. */
  sendAnswer: { error: string | null } = { error: null };

  async previewEvent(account: string, input: EventInput): Promise<EventPreview> {
    this.calls.push(`preview:${account}`);
    // A stand-in for the core's rules: lowercased and trimmed, "hashed" to a fixed-width token.
    const fields = Object.entries(input.user_data)
      .flatMap(([key, v]) => (Array.isArray(v) ? v : [v]).map((one): [string, string] => [key, one]))
      .filter(([, v]) => v.trim())
      .map(([key, raw]) => {
        const normalized = raw.trim().toLowerCase();
        const bad = key === 'em' && !/.+@.+\..+/.test(normalized);
        return bad
          ? { key, normalized: null, sent: null, problem: 'not an e-mail address' }
          : { key, normalized, sent: `hash(${normalized})`, problem: null };
      });
    const problems = fields.filter((f) => f.problem).map((f) => ({ field: `user_data.${f.key}`, reason: f.problem ?? '' }));
    if (!input.event_name.trim()) problems.push({ field: 'event_name', reason: 'required' });
    const payload = problems.length ? null : JSON.stringify({ data: [{ event_name: input.event_name, user_data: Object.fromEntries(fields.map((f) => [f.key, [f.sent]])) }] }, null, 2);
    return { event_id: input.event_id ?? `evt-${this.sent.length + 1}`, fields, problems, payload };
  }

  /** Every event the form sent, as it was asked for. */
  sentInputs: EventInput[] = [];

  async sendTestEvent(account: string, input: EventInput, testCode: string | null, live: boolean): Promise<TestEventResult> {
    const eventId = input.event_id ?? `evt-${this.sent.length + 1}`;
    this.calls.push(`send:${account}:${input.event_name}:${eventId}:${live ? 'live' : testCode ?? 'account-code'}`);
    const code = live ? null : testCode ?? 'TEST-ACCOUNT';
    this.sent.push({ name: input.event_name, eventId, testCode: code });
    this.sentInputs.push(structuredClone(input));
    const payload = JSON.stringify({ data: [{ event_name: input.event_name, event_id: eventId }], test_event_code: code });
    return this.sendAnswer.error
      ? { event_id: eventId, test_event_code: code, received: null, error: this.sendAnswer.error, payload }
      : { event_id: eventId, test_event_code: code, received: { events_received: 1, messages: [], fbtrace_id: 'AbCdTrace' }, error: null, payload };
  }

  /** The event log `sentEvents` returns (newest first). */
  sentLog: SentEvent[] = [];

  async sentEvents(account: string): Promise<SentEventsView> {
    this.calls.push(`sentEvents:${account}`);
    const counts = new Map<string, number>();
    for (const e of this.sent) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
    return {
      counts_24h: [...counts].map(([event_name, count]) => ({ event_name, outcome: 'received', test: true, count })),
      recent: structuredClone(this.sentLog),
    };
  }

  /** What the save dialog answers: a path, or null for "Cancel". */
  exportPath: string | null = '/home/operator/chart.png';

  async exportChart(request: ChartRequest, format: ExportFormat): Promise<string | null> {
    this.calls.push(`export:${request.metric}:${request.window}:${format}:${request.width}x${request.height}:${request.dark}`);
    return this.exportPath;
  }

  async serviceHistory(account: string, service: Service): Promise<ServiceHistory> {
    this.calls.push(`history:${account}:${service}`);
    return structuredClone(this.history);
  }

  notifications: Notification[] = [];
  /** Every account as the form sent it. */
  saved: Account[] = [];
  settingsView: SettingsView = {
    demo: false,
    accounts: [],
    keychain: { available: true, problem: null },
    new_account: newAccount(),
    log_folder: '/home/operator/.local/share/com.metamonitor.desktop/logs',
  };
  /** Secrets as the keychain would hold them: the mock never returns them either. */
  secrets = new Map<string, string>();
  connection: ConnectionTest = { ok: true, tiles: [], explanation: 'Connected.' };

  prefs: DesktopPrefs = { close_to_tray: true, start_at_login: false };

  async preferences(): Promise<DesktopPrefs> {
    return { ...this.prefs };
  }

  async setPreferences(value: DesktopPrefs): Promise<void> {
    this.calls.push(`setPreferences:${value.close_to_tray}:${value.start_at_login}`);
    this.prefs = { ...value };
  }

  proxyUrl: string | null = null;

  async proxy(): Promise<string | null> {
    return this.proxyUrl;
  }

  async setProxy(url: string | null): Promise<void> {
    this.calls.push(`setProxy:${url}`);
    if (url && !/^https?:\/\/[^/@]+\/?$/.test(url.trim()))
      throw { code: 'invalid_input', message: 'the proxy must be an http:// or https:// URL with a host' };
    this.proxyUrl = url?.trim() || null;
  }

  async settings(): Promise<SettingsView> {
    this.calls.push('settings');
    const view = structuredClone(this.settingsView);
    for (const a of view.accounts)
      for (const s of a.secrets) s.stored = this.secrets.has(`${a.account.name}/${s.name}`);
    return view;
  }

  /** A note the next save returns (what the core says about leftover keychain entries). */
  saveNote: string | null = null;

  async saveAccount(account: Account, isNew: boolean): Promise<string | null> {
    this.calls.push(`saveAccount:${account.name}:${isNew}`);
    this.saved.push(structuredClone(account));
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(account.name))
      throw { code: 'invalid_input', message: `account name must be 1–64 letters, digits, '-', '_' or '.' (got "${account.name}")` };
    const names: SecretName[] = ['access-token', 'app-secret', 'team-webhook', 'verify-token', 'capi-token'];
    const rest = this.settingsView.accounts.filter((a) => a.account.name !== account.name);
    this.settingsView.accounts = [
      ...rest,
      { account, secrets: names.map((name) => ({ name, stored: false })), warning: null },
    ];
    const note = this.saveNote;
    this.saveNote = null;
    return note;
  }

  async removeAccount(name: string): Promise<void> {
    this.calls.push(`removeAccount:${name}`);
    this.settingsView.accounts = this.settingsView.accounts.filter((a) => a.account.name !== name);
  }

  async setSecret(account: string, name: SecretName, value: string): Promise<void> {
    this.calls.push(`setSecret:${account}:${name}`);
    this.secrets.set(`${account}/${name}`, value);
  }

  async deleteSecret(account: string, name: SecretName): Promise<void> {
    this.calls.push(`deleteSecret:${account}:${name}`);
    this.secrets.delete(`${account}/${name}`);
  }

  /** The token tile a renewal or an exchange returns, or the error it rejects with. */
  tokenAnswer: Tile | IpcError = tile('token', 'UP', {
    message: 'valid until 2027-02-01T00:00:00Z',
    detail: { kind: 'token', ...tokenDetail },
  });

  private async answerToken(call: string): Promise<Tile> {
    this.calls.push(call);
    const answer = structuredClone(this.tokenAnswer);
    if ('code' in answer) throw answer;
    return answer;
  }

  async renewToken(account: string): Promise<Tile> {
    return this.answerToken(`renewToken:${account}`);
  }

  async exchangeToken(account: string, token: string): Promise<Tile> {
    this.secrets.set(`${account}/access-token`, `long-lived-for-${token.length}`);
    return this.answerToken(`exchangeToken:${account}`);
  }

  async testConnection(account: string): Promise<ConnectionTest> {
    this.calls.push(`testConnection:${account}`);
    return structuredClone(this.connection);
  }

  stories: TileStory[] = [];

  async tileStories(account: string): Promise<TileStory[]> {
    this.calls.push(`stories:${account}`);
    return structuredClone(this.stories);
  }

  findings: Finding[] = [];

  async diagnose(account: string): Promise<Diagnosis> {
    this.calls.push(`diagnose:${account}`);
    return { account, at: new Date().toISOString(), findings: structuredClone(this.findings) };
  }

  incidentRows: Incident[] = [];
  uptimeRows: ServiceUptime[] = [];
  firing: FiringAlert[] = [];
  storedHolds: StoredHold[] = [];

  async incidents(query: IncidentQuery): Promise<Incident[]> {
    this.calls.push(`incidents:${query.account ?? 'all'}:${query.service ?? 'any'}:${query.worst ?? 'any'}:${query.hours ?? 720}`);
    return structuredClone(
      this.incidentRows.filter(
        (i) =>
          (!query.account || i.account === query.account) &&
          (!query.service || i.service === query.service) &&
          (!query.worst || i.worst === query.worst),
      ),
    );
  }

  async exportIncidents(query: IncidentQuery): Promise<string | null> {
    this.calls.push(`exportIncidents:${query.account ?? 'all'}`);
    return `/home/operator/incidents-${query.account ?? 'all'}.csv`;
  }

  async uptime(account: string): Promise<ServiceUptime[]> {
    this.calls.push(`uptime:${account}`);
    return structuredClone(this.uptimeRows);
  }

  async firingAlerts(account: string | null): Promise<FiringAlert[]> {
    this.calls.push(`firing:${account ?? 'all'}`);
    return structuredClone(this.firing.filter((a) => !account || a.account === account));
  }

  async acknowledge(account: string, key: string): Promise<void> {
    this.calls.push(`ack:${account}:${key}`);
    const found = this.firing.find((a) => a.account === account && a.key === key);
    if (!found) throw { code: 'not_found', message: `no alert "${key}" is firing` };
    found.acknowledged_by = 'operator';
    found.acknowledged_at = new Date().toISOString();
  }

  async holds(): Promise<StoredHold[]> {
    this.calls.push('holds');
    return structuredClone(this.storedHolds);
  }

  async addHold(hold: NewHold): Promise<StoredHold> {
    this.calls.push(`addHold:${hold.kind}:${hold.account ?? 'all'}:${hold.service ?? 'all'}:${hold.window.kind}`);
    const stored: StoredHold = {
      id: this.storedHolds.length + 1,
      account: hold.account,
      hold: { kind: hold.kind, service: hold.service, window: hold.window, reason: hold.reason, by: 'operator', created: new Date().toISOString() },
    };
    this.storedHolds.push(stored);
    return structuredClone(stored);
  }

  async removeHold(id: number): Promise<void> {
    this.calls.push(`removeHold:${id}`);
    this.storedHolds = this.storedHolds.filter((h) => h.id !== id);
  }

  async alerts(account: string): Promise<Notification[]> {
    this.calls.push(`alerts:${account}`);
    return structuredClone(this.notifications);
  }

  /** The catalog's products as the shell would list them. */
  products: StoredProduct[] = [];
  /** Progress the next sync reports before it ends. */
  syncSteps: SyncProgress[] = [];
  /** Holds the next sync open until the test resolves it. */
  syncGate: Promise<void> | null = null;
  syncing = false;

  async catalog(account: string): Promise<CatalogView> {
    this.calls.push(`catalog:${account}`);
    const count = (s: StoredProduct['sync_status']) => this.products.filter((p) => p.sync_status === s).length;
    return {
      catalog_id: '5551234567890',
      counts: {
        total: this.products.length,
        never: count(null),
        success: count('success'),
        error: count('error'),
        pending: count('pending'),
        deleted: count('deleted'),
        changed: this.products.filter((p) => p.changed).length,
      },
      products: structuredClone(this.products),
      syncing: this.syncing,
    };
  }

  /** A stand-in for the core's import: comma-separated, header row, no quoting. */
  async importFeed(account: string, fileName: string, text: string): Promise<ImportResult> {
    this.calls.push(`importFeed:${account}:${fileName}`);
    const [header = '', ...rows] = text.trim().split('\n');
    const names = header.split(',');
    const rejected: ImportResult['rejected'] = [];
    let added = 0;
    rows.forEach((row, i) => {
      const fields = Object.fromEntries(row.split(',').map((v, k) => [names[k] ?? '', v]));
      if (!fields.title) {
        rejected.push({ line: i + 2, id: fields.id ?? null, problems: [{ field: 'title', message: 'is required' }] });
        return;
      }
      added += 1;
      this.products.push(product(fields));
    });
    return { counts: { added, updated: 0, unchanged: 0 }, rejected };
  }

  /** The feed sources, and the run the next `runFeed` gives (its time is stamped then). */
  feedSources: FeedSource[] = [];
  nextFeedRun: Omit<FeedRun, 'at'> = {
    duration_ms: 1200,
    trigger: 'manual',
    outcome: 'synced',
    rows: 1000,
    changed: 10,
    refused: 0,
    deleted: 0,
    held: 0,
    calls: 2,
    message: null,
  };

  async feeds(account: string): Promise<FeedSource[]> {
    this.calls.push(`feeds:${account}`);
    return structuredClone(this.feedSources);
  }

  async addFeed(account: string, location: string, everyMinutes: number | null): Promise<FeedSource> {
    this.calls.push(`addFeed:${account}:${location}:${everyMinutes ?? ''}`);
    if (location.startsWith('http://')) throw { code: 'invalid_input', message: `"${location}": a feed URL is https://` };
    const source: FeedSource = {
      id: this.feedSources.length + 1,
      shown: location.replace(/\?.*$/, '?…'),
      is_url: location.includes('://'),
      format: null,
      every_minutes: everyMinutes ?? 60,
      held_deletes: 0,
      last_run: null,
    };
    this.feedSources.push(source);
    return structuredClone(source);
  }

  async removeFeed(account: string, id: number): Promise<void> {
    this.calls.push(`removeFeed:${account}:${id}`);
    this.feedSources = this.feedSources.filter((s) => s.id !== id);
  }

  async runFeed(account: string, id: number): Promise<FeedRun> {
    this.calls.push(`runFeed:${account}:${id}`);
    const run: FeedRun = { ...this.nextFeedRun, at: new Date().toISOString() };
    const source = this.feedSources.find((s) => s.id === id);
    if (!source) throw { code: 'not_found', message: `${account} has no feed ${id}` };
    source.last_run = run;
    source.held_deletes = run.held;
    return structuredClone(run);
  }

  async confirmFeedDeletes(account: string, id: number, expected: number): Promise<FeedRun> {
    this.calls.push(`confirmFeedDeletes:${account}:${id}:${expected}`);
    const source = this.feedSources.find((s) => s.id === id);
    if (!source?.held_deletes) throw { code: 'invalid_input', message: 'no deletes are waiting for a confirmation' };
    if (source.held_deletes !== expected) throw { code: 'invalid_input', message: 'the held deletes changed since they were shown' };
    const run: FeedRun = {
      ...this.nextFeedRun,
      at: new Date().toISOString(),
      trigger: 'confirmed deletes',
      outcome: 'synced',
      rows: 0,
      changed: 0,
      deleted: source.held_deletes,
      held: 0,
    };
    source.held_deletes = 0;
    source.last_run = run;
    return structuredClone(run);
  }

  async saveProduct(account: string, fields: Record<string, string>, previousId: string | null): Promise<FieldProblem[]> {
    this.calls.push(`saveProduct:${account}:${fields.id ?? ''}:${previousId ?? ''}`);
    const problems = ['id', 'title', 'price']
      .filter((f) => !fields[f]?.trim())
      .map((field) => ({ field, message: 'is required' }));
    if (fields.price && !/^\d+(\.\d{1,2})? [A-Z]{3}$/.test(fields.price))
      problems.push({ field: 'price', message: `"${fields.price}" is not a price like "12.34 USD"` });
    if (problems.length) return problems;
    this.products = this.products.filter((p) => p.fields.id !== (previousId ?? fields.id));
    this.products.push(product({ ...fields })); // a plain copy, as IPC would make
    return [];
  }

  async syncProducts(account: string, selection: SyncSelection, onProgress: (p: SyncProgress) => void): Promise<SyncSummary> {
    const ids =
      selection.kind === 'changed'
        ? this.products.filter((p) => p.changed).map((p) => p.fields.id ?? '')
        : selection.kind === 'queued'
          ? this.products.filter((p) => p.sync_status === 'pending').map((p) => p.fields.id ?? '')
          : selection.kind === 'all'
            ? this.products.filter((p) => p.sync_status !== 'deleted').map((p) => p.fields.id ?? '')
            : selection.ids;
    this.calls.push(`sync:${account}:${selection.kind}:${ids.join(',')}`);
    this.syncing = true;
    for (const step of this.syncSteps) onProgress(step);
    if (this.syncGate) await this.syncGate;
    this.syncing = false;
    const summary: SyncSummary = { succeeded: 0, failed: 0, deleted: 0, invalid: 0, pending: 0, batch_calls: 1, status_polls: 1, read_back_calls: 0, throttle_pauses: 0, paused_ms: 0, cancelled: false, requeued: 0 };
    for (const p of this.products.filter((p) => ids.includes(p.fields.id ?? ''))) {
      p.last_sync = new Date().toISOString();
      if (selection.kind === 'delete') {
        p.sync_status = 'deleted';
        p.meta_product_id = null;
        summary.deleted += 1;
      } else if (p.fields.image_link?.endsWith('.jpg')) {
        p.sync_status = 'success';
        p.meta_product_id = `70000${p.fields.id}`;
        p.changed = false;
        summary.succeeded += 1;
      } else {
        p.sync_status = 'error';
        p.error_details = { errors: [{ message: 'Image download failed' }] };
        summary.failed += 1;
      }
    }
    return summary;
  }

  async cancelSync(account: string): Promise<boolean> {
    this.calls.push(`cancelSync:${account}`);
    return this.syncing;
  }

  async onEvent(listener: (e: WindowEvent) => void) {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Delivers an event as the shell would. */
  push(event: WindowEvent): void {
    this.listeners.forEach((l) => l(event));
  }
}
