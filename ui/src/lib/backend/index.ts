// The only door from components to the Rust shell: an interface, a Tauri implementation and a
// mock for UI tests. Components import `backend` from here and nothing from @tauri-apps.
import type { AccountTiles } from '../bindings/AccountTiles';
import type { IpcError } from '../bindings/IpcError';
import type { MonitorEvent } from '../bindings/MonitorEvent';
import type { Overview } from '../bindings/Overview';

export type { AccountTiles, IpcError, MonitorEvent, Overview };

export type Unsubscribe = () => void;

export interface Backend {
  /** Every watched account's stored tiles, and whether this is the demo. */
  overview(): Promise<Overview>;
  /** Runs every probe of one account now. */
  checkNow(account: string): Promise<AccountTiles>;
  /** Called with every event of the monitor (new tiles, alerts sent). */
  onEvent(listener: (event: MonitorEvent) => void): Promise<Unsubscribe>;
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

export function setBackend(b: Backend): void {
  current = b;
}
