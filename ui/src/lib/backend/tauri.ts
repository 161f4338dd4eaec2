// The Tauri implementation of the backend: commands by name, events by channel.
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';

import type {
  Diagnosis,
  TileStory,
  FiringAlert,
  Incident,
  ServiceUptime,
  StoredHold,
  AccountTiles,
  Backend,
  CatalogView,
  FieldProblem,
  ImportResult,
  FeedRun,
  FeedSource,
  SyncProgress,
  SyncSummary,
  ChartView,
  ConnectionTest,
  DesktopPrefs,
  EventPreview,
  WindowEvent,
  Notification,
  Overview,
  SentEventsView,
  ServiceHistory,
  SettingsView,
  TestEventResult,
  Tile,
  Unsubscribe,
  IpcError,
} from './index';

const CHANNELS = [
  'monitor://tiles-changed',
  'monitor://alert-sent',
  'monitor://reloaded',
  'monitor://problem',
] as const;

export const tauriBackend: Backend = {
  startupProblem: () => invoke<IpcError | null>('startup_problem'),
  quit: () => invoke<void>('quit'),
  overview: () => invoke<Overview>('overview'),
  checkNow: (account, service, anyway) =>
    invoke<AccountTiles>('check_now', { account, service: service ?? null, anyway: anyway ?? null }),
  chart: (request) => invoke<ChartView>('chart', { request }),
  exportChart: (request, format) => invoke<string | null>('export_chart', { request, format }),
  alerts: (account) => invoke<Notification[]>('alerts', { account }),
  incidents: (query) => invoke<Incident[]>('incidents', { query }),
  exportIncidents: (query) => invoke<string | null>('export_incidents', { query }),
  uptime: (account) => invoke<ServiceUptime[]>('uptime', { account }),
  diagnose: (account) => invoke<Diagnosis>('diagnose', { account }),
  tileStories: (account) => invoke<TileStory[]>('tile_stories', { account }),
  firingAlerts: (account) => invoke<FiringAlert[]>('firing_alerts', { account }),
  acknowledge: (account, key) => invoke<void>('acknowledge', { account, key }),
  holds: () => invoke<StoredHold[]>('holds'),
  addHold: (hold) => invoke<StoredHold>('add_hold', { hold }),
  removeHold: (id) => invoke<void>('remove_hold', { id }),
  settings: () => invoke<SettingsView>('settings'),
  preferences: () => invoke<DesktopPrefs>('preferences'),
  setPreferences: (value) => invoke<void>('set_preferences', { value }),
  proxy: () => invoke<string | null>('proxy'),
  setProxy: (url) => invoke<void>('set_proxy', { url }),
  saveAccount: (account, isNew) => invoke<string | null>('save_account', { account, isNew }),
  removeAccount: (name) => invoke<void>('remove_account', { name }),
  setSecret: (account, name, value) => invoke<void>('set_secret', { account, name, value }),
  deleteSecret: (account, name) => invoke<void>('delete_secret', { account, name }),
  testConnection: (account) => invoke<ConnectionTest>('test_connection', { account }),
  renewToken: (account) => invoke<Tile>('renew_token', { account }),
  exchangeToken: (account, token) => invoke<Tile>('exchange_token', { account, token }),
  previewEvent: (account, input) => invoke<EventPreview>('preview_event', { account, input }),
  sendTestEvent: (account, input, testCode, live) =>
    invoke<TestEventResult>('send_test_event', { account, input, testCode, live }),
  sentEvents: (account) => invoke<SentEventsView>('sent_events', { account }),
  serviceHistory: (account, service) =>
    invoke<ServiceHistory>('service_history', { account, service }),
  catalog: (account) => invoke<CatalogView>('catalog', { account }),
  importFeed: (account, fileName, text) => invoke<ImportResult>('import_feed', { account, fileName, text }),
  feeds: (account) => invoke<FeedSource[]>('feeds', { account }),
  addFeed: (account, location, everyMinutes) => invoke<FeedSource>('add_feed', { account, location, everyMinutes }),
  removeFeed: (account, id) => invoke<void>('remove_feed', { account, id }),
  runFeed: (account, id) => invoke<FeedRun>('run_feed', { account, id }),
  confirmFeedDeletes: (account, id, expected) => invoke<FeedRun>('confirm_feed_deletes', { account, id, expected }),
  saveProduct: (account, product, previousId) =>
    invoke<FieldProblem[]>('save_product', { account, product, previousId }),
  syncProducts(account, selection, onProgress) {
    const progress = new Channel<SyncProgress>();
    progress.onmessage = onProgress;
    return invoke<SyncSummary>('sync_products', { account, selection, progress });
  },
  cancelSync: (account) => invoke<boolean>('cancel_sync', { account }),
  async onEvent(listener): Promise<Unsubscribe> {
    const stops = await Promise.all(
      CHANNELS.map((channel) => listen<WindowEvent>(channel, (e) => listener(e.payload))),
    );
    return () => stops.forEach((stop) => stop());
  },
};
