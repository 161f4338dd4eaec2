import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, account, tile } from '../lib/backend/mock';
import Holds from '../lib/components/Holds.svelte';
import Incidents from '../lib/components/Incidents.svelte';

let mock: MockBackend;

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: [account('shop', [tile('pixel', 'DOWN')]), account('eu', [tile('pixel', 'UP')])], holds: [] });
  const incident = (acct: string, hoursAgo: number, duration: number, worst: 'DOWN' | 'DEGRADED') => ({
    account: acct,
    service: 'pixel' as const,
    worst,
    started: new Date(Date.now() - hoursAgo * 3_600_000).toISOString(),
    ended: new Date(Date.now() - hoursAgo * 3_600_000 + duration * 1000).toISOString(),
    duration_s: duration,
    first_message: 'pixel unreadable',
    last_message: 'pixel silent',
    code: 2,
    fbtrace_id: 'AbCtrace',
  });
  mock.incidentRows = [incident('shop', 5, 9000, 'DOWN'), incident('eu', 50, 2700, 'DEGRADED')];
  mock.uptimeRows = [
    {
      service: 'pixel',
      windows: [
        { label: '24h', uptime_pct: 100, time: { up_s: 86_400, degraded_s: 0, down_s: 0, unknown_s: 0 } },
        { label: '7d', uptime_pct: 98.5119, time: { up_s: 595_800, degraded_s: 0, down_s: 9000, unknown_s: 0 } },
        { label: '30d', uptime_pct: 99.65, time: { up_s: 0, degraded_s: 0, down_s: 9000, unknown_s: 0 } },
        { label: '90d', uptime_pct: null, time: { up_s: 0, degraded_s: 0, down_s: 0, unknown_s: 0 } },
      ],
      incidents_30d: 1,
      mttr_s: 9000,
      days: Array.from({ length: 90 }, (_, i) => ({ date: `d${i}`, worst: i === 89 ? ('DOWN' as const) : i < 10 ? null : ('UP' as const), uptime_pct: null })),
    },
  ];
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
});

describe('Incidents', () => {
  it('lists incidents, filters them, shows uptime with its strip and exports CSV', async () => {
    render(Incidents);
    const table = await screen.findByRole('table', { name: 'Incidents' });
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(table).toHaveTextContent('2 h 30 min');
    expect(table).toHaveTextContent('2 · AbCtrace');
    const [accountFilter] = screen.getAllByRole('combobox');
    await waitFor(() => expect(within(accountFilter as HTMLElement).getAllByRole('option')).toHaveLength(3));
    await fireEvent.change(accountFilter as HTMLElement, { target: { value: 'shop' } });
    await screen.findByText('Uptime of shop');
    const uptime = screen.getByRole('table', { name: 'Uptime' });
    expect(uptime.querySelector('[data-window="7d"]')).toHaveTextContent('98.51 %');
    expect(uptime.querySelector('[data-window="90d"]')).toHaveTextContent('—');
    const strip = screen.getByLabelText('Pixel, last 90 days');
    expect(strip.querySelectorAll('span')).toHaveLength(90);
    expect(strip.querySelectorAll('span.down')).toHaveLength(1);
    expect(mock.calls).toContain('incidents:shop:any:any:720');
    await fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    expect(await screen.findByText('Saved /home/operator/incidents-shop.csv')).toBeInTheDocument();
  });
});

describe('Firing alerts and holds', () => {
  it('acknowledges a firing alert and adds and ends a silence', async () => {
    mock.firing = [
      { account: 'shop', key: 'down:pixel', title: 'pixel is DOWN', since: new Date(Date.now() - 600_000).toISOString(), acknowledged_by: null, acknowledged_at: null, held: false },
    ];
    render(Holds);
    const row = await screen.findByRole('row', { name: /pixel is DOWN/ });
    await fireEvent.click(within(row).getByRole('button', { name: 'Acknowledge' }));
    await waitFor(() => expect(screen.getByRole('row', { name: /pixel is DOWN/ })).toHaveTextContent('acknowledged by operator'));
    expect(mock.calls).toContain('ack:shop:down:pixel');

    const form = screen.getByRole('form', { name: 'Add a silence or maintenance window' });
    await fireEvent.input(within(form).getByRole('textbox'), { target: { value: 'token rotation' } });
    await fireEvent.submit(form);
    const item = await screen.findByText(/token rotation/);
    expect(item.closest('li')).toHaveTextContent('Silence · all accounts · every service');
    expect(mock.calls).toContain('addHold:silence:all:all:once');
    await fireEvent.click(within(item.closest('li') as HTMLElement).getByRole('button', { name: 'End' }));
    await screen.findByText('Nothing is silenced and no maintenance is planned.');
  });
});
