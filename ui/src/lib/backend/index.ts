// The only door from components to the Rust shell: an interface, a Tauri implementation and a
// mock for UI tests. Components import `backend` from here and nothing from @tauri-apps.
import type { Account } from '../bindings/Account';
import type { AccountTiles } from '../bindings/AccountTiles';
import type { CatalogView } from '../bindings/CatalogView';
import type { ChartRequest } from '../bindings/ChartRequest';
import type { ChartView } from '../bindings/ChartView';
import type { ConnectionTest } from '../bindings/ConnectionTest';
import type { DesktopPrefs } from '../bindings/DesktopPrefs';
import type { EventInput } from '../bindings/EventInput';
import type { EventPreview } from '../bindings/EventPreview';
import type { ExportFormat } from '../bindings/ExportFormat';
import type { FieldProblem } from '../bindings/FieldProblem';
import type { FiringAlert } from '../bindings/FiringAlert';
import type { Diagnosis } from '../bindings/Diagnosis';
import type { Finding } from '../bindings/Finding';
import type { Incident } from '../bindings/Incident';
import type { IncidentQuery } from '../bindings/IncidentQuery';
import type { NewHold } from '../bindings/NewHold';
import type { ServiceUptime } from '../bindings/ServiceUptime';
import type { StoredHold } from '../bindings/StoredHold';
import type { TileStory } from '../bindings/TileStory';
import type { ImportResult } from '../bindings/ImportResult';
import type { FeedRun } from '../bindings/FeedRun';
import type { FeedSource } from '../bindings/FeedSource';
import type { IpcError } from '../bindings/IpcError';
import type { Monitoring } from '../bindings/Monitoring';
import type { WindowEvent } from '../bindings/WindowEvent';
import type { Notification } from '../bindings/Notification';
import type { Overview } from '../bindings/Overview';
import type { SecretName } from '../bindings/SecretName';
import type { Service } from '../bindings/Service';
import type { SentEventsView } from '../bindings/SentEventsView';
import type { ServiceHistory } from '../bindings/ServiceHistory';
import type { SettingsView } from '../bindings/SettingsView';
import type { StoredProduct } from '../bindings/StoredProduct';
import type { SyncProgress } from '../bindings/SyncProgress';
import type { SyncSelection } from '../bindings/SyncSelection';
import type { SyncSummary } from '../bindings/SyncSummary';
import type { TestEventResult } from '../bindings/TestEventResult';
import type { Tile } from '../bindings/Tile';

export type {
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
  IpcError,
  Monitoring,
  WindowEvent,
  Notification,
  Overview,
  SecretName,
  SentEventsView,
  Service,
  ServiceHistory,
  SettingsView,
  TestEventResult,
  Tile,
};

export type Unsubscribe = () => void;

export interface Backend {
  /** Why the app could not start (its database cannot be opened), or null when it runs. */
  startupProblem(): Promise<IpcError | null>;
  /** Quits the app. */
  quit(): Promise<void>;
  /** Every watched account's stored tiles, and whether this is the demo. */
  overview(): Promise<Overview>;
  /** Checks one account now — every service, or only `service` — through the monitor's own
   * pipeline; a service Meta throttles waits unless `anyway`. */
  checkNow(account: string, service?: Service, anyway?: boolean): Promise<AccountTiles>;
  /** One stored series as an SVG chart sized to the view. */
  chart(request: ChartRequest): Promise<ChartView>;
  /** Asks where to save the chart, writes it; the path, or null when cancelled. */
  exportChart(request: ChartRequest, format: ExportFormat): Promise<string | null>;
  /** A service's recent failures and its 24 h error rate. */
  serviceHistory(account: string, service: Service): Promise<ServiceHistory>;
  /** The account's notification history, newest first, with each channel's outcome. */
  alerts(account: string): Promise<Notification[]>;
  /** Incidents (spans DOWN or DEGRADED) matching the query, newest first. */
  incidents(query: IncidentQuery): Promise<Incident[]>;
  /** Asks where to save, writes the incidents as CSV; the path, or null when cancelled. */
  exportIncidents(query: IncidentQuery): Promise<string | null>;
  /** What each tile's stored history says: 24 h sparkline, change, error split, endpoint. */
  tileStories(account: string): Promise<TileStory[]>;
  /** Each service's uptime over 24 h/7 d/30 d/90 d, incidents, MTTR and 90-day strip. */
  uptime(account: string): Promise<ServiceUptime[]>;
  /** Rule-based findings from the last checks, each with evidence, fix and Meta's docs. */
  diagnose(account: string): Promise<Diagnosis>;
  /** The alerts firing now (one account or all), with who acknowledged them. */
  firingAlerts(account: string | null): Promise<FiringAlert[]>;
  /** Acknowledges a firing alert: no reminders until it resolves. */
  acknowledge(account: string, key: string): Promise<void>;
  /** Silences and maintenance windows not yet over. */
  holds(): Promise<StoredHold[]>;
  addHold(hold: NewHold): Promise<StoredHold>;
  /** Ends a silence or maintenance window now. */
  removeHold(id: number): Promise<void>;
  /** Configured accounts, which secrets are stored (never their values), the keychain state. */
  settings(): Promise<SettingsView>;
  /** Adds (isNew) or updates an account; the monitor then watches it. */
  /** Resolves to a note for the operator (leftover keychain entries were deleted), if any. */
  saveAccount(account: Account, isNew: boolean): Promise<string | null>;
  removeAccount(name: string): Promise<void>;
  /** Puts a secret into the OS keychain; it never comes back to the window. */
  setSecret(account: string, name: SecretName, value: string): Promise<void>;
  deleteSecret(account: string, name: SecretName): Promise<void>;
  /** Renews the account's access token now (Meta's exchange, verified, kept in the keychain);
   * the token tile after it. */
  renewToken(account: string): Promise<Tile>;
  /** Exchanges a short-lived user token for a long-lived one and keeps only that one. */
  exchangeToken(account: string, token: string): Promise<Tile>;
  /** Runs the token and graph_api probes and explains the outcome. */
  testConnection(account: string): Promise<ConnectionTest>;
  /** What a test event would send: values normalized and hashed, problems, payload. */
  previewEvent(account: string, input: EventInput): Promise<EventPreview>;
  /** Sends one Conversions API event with the test code (or live) and logs it. */
  sendTestEvent(account: string, input: EventInput, testCode: string | null, live: boolean): Promise<TestEventResult>;
  /** Events the app sent: 24 h counts by name and outcome, and the newest. */
  sentEvents(account: string): Promise<SentEventsView>;
  /** The catalog's products with their Meta state. */
  catalog(account: string): Promise<CatalogView>;
  /** Imports a feed file's text (CSV, TSV, JSON or XML, recognised from the content); bad rows come back by line. */
  importFeed(account: string, fileName: string, text: string): Promise<ImportResult>;
  /** The account's feed sources (a file or an https:// URL) with their last run. */
  feeds(account: string): Promise<FeedSource[]>;
  /** Adds a source; the core refuses what it cannot read safely (plain http, credentials). */
  addFeed(account: string, location: string, everyMinutes: number | null): Promise<FeedSource>;
  removeFeed(account: string, id: number): Promise<void>;
  /** Runs a source now: read it if it changed, import, delete or hold, sync. */
  runFeed(account: string, id: number): Promise<FeedRun>;
  /** Deletes at Meta what a run held back, when still the `expected` count the user confirmed. */
  confirmFeedDeletes(account: string, id: number, expected: number): Promise<FeedRun>;
  /** Saves a product when valid; otherwise its problems by field (nothing saved). */
  saveProduct(account: string, product: Record<string, string>, previousId: string | null): Promise<FieldProblem[]>;
  /** Sends products (or deletes) and waits for Meta's verdict, reporting progress. */
  syncProducts(
    account: string,
    selection: SyncSelection,
    onProgress: (progress: SyncProgress) => void,
  ): Promise<SyncSummary>;
  /** Stops a running sync from sending more; false when none runs. */
  cancelSync(account: string): Promise<boolean>;
  /** Close to tray, start at login. */
  preferences(): Promise<DesktopPrefs>;
  setPreferences(value: DesktopPrefs): Promise<void>;
  /** The installation's HTTPS proxy (null: the environment's), shared with the CLI. */
  proxy(): Promise<string | null>;
  setProxy(url: string | null): Promise<void>;
  /** Called with every event of the monitor (new tiles, alerts sent). */
  onEvent(listener: (event: WindowEvent) => void): Promise<Unsubscribe>;
}

/** An IPC failure as the shell reports it: branch on `code`, show `message`. */
export function isIpcError(value: unknown): value is IpcError {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

let current: Backend | undefined;

/** The backend in use: set by main.ts (Tauri) or by a test (the mock). */
export function backend(): Backend {
  if (!current) throw new Error('no backend set');
  return current;
}

/** The watched accounts' names, in the overview's order (for the views' account filters). */
export async function accountNames(): Promise<string[]> {
  return (await backend().overview()).accounts.map((a) => a.account);
}

export function setBackend(b: Backend): void {
  current = b;
}
