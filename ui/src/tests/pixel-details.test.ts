import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, capiDetail, pixelDetail, tile } from '../lib/backend/mock';
import Details from '../lib/components/Details.svelte';

let mock: MockBackend;

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: [], holds: [] });
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
});

describe('Server events (Conversions API) details', () => {
  it('shows server against browser events per event and the dataset quality Meta reported', async () => {
    const capi = tile('conversions_api', 'UP', {
      detail: {
        kind: 'conversions_api',
        ...capiDetail,
        per_event_reported: true,
        by_event: [{ event_name: 'Purchase', server_1h: 9, server_24h: 200, browser_1h: 10, browser_24h: 230, share_pct: 46.5, share_week_ago_pct: 47 }],
        quality: {
          state: 'read',
          value: [
            {
              event_name: 'Purchase',
              score: 6.2,
              coverage: { em: 93, ph: 40 },
              event_coverage: 80,
              event_coverage_goal: 75,
              additional_conversions: null,
              freshness: 'real_time',
              dedup: [],
            },
          ],
        },
      },
    });
    render(Details, { account: 'shop', tile: capi, onBack: () => {} });
    const view = await screen.findByRole('region', { name: 'Server events (Conversions API) details' });
    expect(view.querySelector('.server-counts')).toHaveTextContent('40 in the last hour · 960 in 24 h');
    const split = within(view.querySelector('table.event-split') as HTMLElement).getByText('Purchase').closest('tr') as HTMLElement;
    expect(split).toHaveTextContent('46.5 %');
    const row = within(view.querySelector('table.dataset-quality') as HTMLElement).getByText('Purchase').closest('tr') as HTMLElement;
    expect(row).toHaveTextContent('6.2');
    expect(row).toHaveTextContent('em 93 % · ph 40 %');
    expect(row).toHaveTextContent('80 % (goal 75 %)');
    expect(row).toHaveTextContent('real time');
    // What Meta left out is said, never shown as 0.
    expect(row.textContent?.match(/not reported by Meta/g)?.length).toBe(2);
    expect(row).not.toHaveTextContent(/\b0 %/);
  });

  it('says why the dataset quality is missing when the token cannot read it', async () => {
    const capi = tile('conversions_api', 'UP', {
      detail: {
        kind: 'conversions_api',
        ...capiDetail,
        quality: { state: 'missing', why: 'Dataset quality needs ads_read and business_management on the token' },
      },
    });
    render(Details, { account: 'shop', tile: capi, onBack: () => {} });
    expect(await screen.findByText(/needs ads_read and business_management/)).toBeInTheDocument();
    expect(screen.getByText(/did not name the events/)).toBeInTheDocument();
  });
});

describe('Pixel details', () => {
  it('lists the events Meta Monitor sent and points to the server-events view', async () => {
    const pixel = tile('pixel', 'UP', { detail: { kind: 'pixel', ...pixelDetail, events_24h: 1200 } });
    render(Details, { account: 'shop', tile: pixel, onBack: () => {} });
    await screen.findByRole('region', { name: 'Pixel details' });
    expect(screen.getByText(/Server events \(Conversions API\)/)).toBeInTheDocument();
    expect(mock.calls).toContain('sentEvents:shop');
  });

  it('lists the event log, filterable, with keys present but never their values', async () => {
    const at = new Date(Date.now() - 60_000).toISOString();
    const sent = (event_name: string, event_id: string, test: string | null, outcome: string, keys: string[]) => ({
      sent_at: at,
      event_name,
      event_id,
      event_time: Math.floor(Date.now() / 1000) - 60,
      test_event_code: test,
      keys,
      outcome,
      fbtrace_id: outcome === 'refused' ? 'AbCdTrace' : null,
      message: outcome === 'refused' ? 'Invalid parameter' : null,
    });
    mock.sentLog = [sent('Purchase', 'order-1042', 'TEST123', 'received', ['em', 'ph', 'fbp']), sent('Lead', 'lead-7', null, 'refused', ['em'])];
    const pixel = tile('pixel', 'UP', { detail: { kind: 'pixel', ...pixelDetail } });
    render(Details, { account: 'shop', tile: pixel, onBack: () => {} });
    await waitFor(() => expect(document.querySelector('table.event-log')).not.toBeNull());
    const log = document.querySelector('table.event-log') as HTMLElement;
    expect(within(log).getByText('order-1042').closest('tr')).toHaveTextContent('TEST123');
    expect(within(log).getByText('order-1042').closest('tr')).toHaveTextContent('em, ph, fbp');
    expect(within(log).getByText('lead-7').closest('tr')).toHaveTextContent('refused: Invalid parameter');
    expect(within(log).getByText('lead-7').closest('tr')).toHaveTextContent('AbCdTrace');
    await fireEvent.input(screen.getByLabelText('Filter'), { target: { value: 'refused' } });
    expect(within(log).queryByText('order-1042')).toBeNull();
    expect(within(log).getByText('lead-7')).toBeInTheDocument();
  });
});
