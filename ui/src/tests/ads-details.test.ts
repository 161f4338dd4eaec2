import { render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, tile } from '../lib/backend/mock';
import Details from '../lib/components/Details.svelte';

beforeEach(() => setBackend(new MockBackend({ demo: false, accounts: [], holds: [] })));
afterEach(() => {
  document.body.innerHTML = '';
});

describe('Ads details', () => {
  it('shows revenue, AOV and cost per purchase of one purchase type, labelled with the attribution and the account day', async () => {
    const ads = tile('ads', 'UP', {
      detail: {
        kind: 'ads',
        account_name: 'Shop Ads',
        account_status: 'ACTIVE',
        currency: 'EUR',
        insights: {
          spend_24h: '41.27',
          timezone: 'Europe/Berlin',
          spend_7d: '250.00',
          spend_30d: '900.00',
          conversions_24h: '1',
          conversion_action_type: 'omni_purchase',
          roas_7d: '2.45',
          purchases_7d: '5',
          purchase_value_7d: '612.50',
          aov_7d: '122.50',
          cost_per_purchase_7d: '50',
          attribution: "each ad set's attribution setting (default 7-day click, 1-day view)",
          cpc_7d: '0.47',
          ctr_7d: '1.6',
          active_campaigns: 3,
        },
      },
    });
    render(Details, { account: 'shop', tile: ads, onBack: () => {} });
    const view = await screen.findByRole('region', { name: 'Ads details' });
    expect(view.querySelector('.spend')).toHaveTextContent("41.27 / 250.00 / 900.00 EUR (days of the account's time zone, Europe/Berlin)");
    expect(view.querySelector('.revenue')).toHaveTextContent('5 / 612.50 EUR');
    expect(view.querySelector('.aov')).toHaveTextContent('122.50 EUR');
    expect(view.querySelector('.cpa')).toHaveTextContent('50 EUR');
    expect(view.querySelector('.attribution')).toHaveTextContent('7-day click, 1-day view');
    expect(view.querySelector('.attribution')).toHaveTextContent('omni_purchase');
  });
});
