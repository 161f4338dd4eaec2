import { render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, account, tile } from '../lib/backend/mock';
import App from '../App.svelte';

let mock: MockBackend;

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: [account('shop', [tile('token', 'UP')])], holds: [] });
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
});

describe('Alerts', () => {
  it('lists the history with state and each channel outcome, and refreshes on a new alert', async () => {
    mock.notifications = [
      {
        at: new Date().toISOString(),
        key: 'token.expiry.7',
        kind: 'fire',
        severity: 'warning',
        title: 'shop: token expires in 7 days',
        body: 'Replace it before 2026-12-01',
        channel: 'desktop',
        delivered: false,
        error: 'no notification server',
      },
    ];
    render(App);
    await screen.findByRole('article', { name: 'Access token' });
    (await screen.findByRole('button', { name: 'Alerts' })).click();
    const view = await screen.findByRole('region', { name: 'Alerts' });
    const row = (await within(view).findByText('shop: token expires in 7 days')).closest('tr');
    expect(row).not.toBeNull();
    expect(within(row as HTMLElement).getByText('firing')).toBeInTheDocument();
    expect(within(row as HTMLElement).getByText('no: no notification server')).toBeInTheDocument();
    expect(mock.calls).toContain('alerts:shop');
    const before = mock.calls.filter((c) => c === 'alerts:shop').length;
    mock.push({ kind: 'alert_sent', account: 'shop' });
    await new Promise((r) => setTimeout(r, 0));
    expect(mock.calls.filter((c) => c === 'alerts:shop').length).toBe(before + 1);
  });
});

describe('Startup problem', () => {
  it('explains a database that cannot be opened instead of the views, and quits on request', async () => {
    mock.problem = {
      code: 'store',
      message: 'The database /home/op/meta-monitor.db cannot be opened (file is not a database); move it away.',
    };
    render(App);
    const panel = await screen.findByRole('alert', { name: 'Meta Monitor cannot start' });
    expect(within(panel).getByText(/meta-monitor\.db cannot be opened/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Alerts' }), 'no views while it cannot start').toBeNull();
    expect(mock.calls, 'nothing else is asked of a backend that did not start').not.toContain('overview');
    within(panel).getByRole('button', { name: 'Quit' }).click();
    await new Promise((r) => setTimeout(r, 0));
    expect(mock.calls).toContain('quit');
  });
});
