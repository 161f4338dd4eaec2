import { render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, pixelDetail, tile } from '../lib/backend/mock';
import Details from '../lib/components/Details.svelte';

let mock: MockBackend;

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: [], holds: [] });
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
});

describe('Pixel details', () => {
  it('shows browser versus server events and Event Match Quality per event', async () => {
    const pixel = tile('pixel', 'UP', {
      detail: {
        kind: 'pixel',
        ...pixelDetail,
        events_24h: 1200,
        sources_24h: { state: 'read', value: { browser: 1150, server: 50 } },
        match_quality: { state: 'read', value: [{ event_name: 'Purchase', score: 6.2, coverage: { em: 93, ph: 40 } }] },
      },
    });
    render(Details, { account: 'shop', tile: pixel, onBack: () => {} });
    const view = await screen.findByRole('region', { name: 'Pixel details' });
    expect(view.querySelector('.sources')).toHaveTextContent('Browser (Pixel) 1150 · Server (Conversions API) 50');
    const row = within(view.querySelector('table.match-quality') as HTMLElement).getByText('Purchase').closest('tr') as HTMLElement;
    expect(row).toHaveTextContent('6.2');
    expect(row).toHaveTextContent('em 93 % · ph 40 %');
    expect(mock.calls).toContain('sentEvents:shop');
  });

  it('says why Event Match Quality is missing when the token cannot read it', async () => {
    const pixel = tile('pixel', 'UP', {
      detail: {
        kind: 'pixel',
        ...pixelDetail,
        match_quality: { state: 'missing', why: 'Event Match Quality needs ads_read and business_management on the token' },
      },
    });
    render(Details, { account: 'shop', tile: pixel, onBack: () => {} });
    expect(await screen.findByText(/needs ads_read and business_management/)).toBeInTheDocument();
  });

  it('shows a source Meta did not report as unknown, never as 0', async () => {
    const pixel = tile('pixel', 'UP', {
      detail: { kind: 'pixel', ...pixelDetail, sources_24h: { state: 'read', value: { browser: 1150, server: null } } },
    });
    render(Details, { account: 'shop', tile: pixel, onBack: () => {} });
    const view = await screen.findByRole('region', { name: 'Pixel details' });
    expect(view.querySelector('.sources')).toHaveTextContent('Browser (Pixel) 1150 · Server (Conversions API) —');
  });
});
