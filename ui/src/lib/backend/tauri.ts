// The Tauri implementation of the backend: commands by name, events by channel.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';

import type {
  AccountTiles,
  Backend,
  ChartView,
  MonitorEvent,
  Notification,
  Overview,
  ServiceHistory,
  Unsubscribe,
} from './index';

const CHANNELS = ['monitor://tiles-changed', 'monitor://alert-sent'] as const;

export const tauriBackend: Backend = {
  overview: () => invoke<Overview>('overview'),
  checkNow: (account) => invoke<AccountTiles>('check_now', { account }),
  chart: (request) => invoke<ChartView>('chart', { request }),
  alerts: (account) => invoke<Notification[]>('alerts', { account }),
  serviceHistory: (account, service) =>
    invoke<ServiceHistory>('service_history', { account, service }),
  async onEvent(listener): Promise<Unsubscribe> {
    const stops = await Promise.all(
      CHANNELS.map((channel) => listen<MonitorEvent>(channel, (e) => listener(e.payload))),
    );
    return () => stops.forEach((stop) => stop());
  },
};
