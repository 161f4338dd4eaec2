import { render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, tile, tokenDetail } from '../lib/backend/mock';
import Details from '../lib/components/Details.svelte';
import { keyMetrics } from '../lib/format';

beforeEach(() => {
  setBackend(new MockBackend({ demo: false, accounts: [], holds: [] }));
});

afterEach(() => {
  document.body.innerHTML = '';
});

/** The value next to a fact's name in a details list. */
function fact(view: HTMLElement, name: string): string {
  const term = Array.from(view.querySelectorAll('dt')).find((dt) => dt.textContent === name);
  return term?.nextElementSibling?.textContent?.trim() ?? `(no fact ${name})`;
}

describe('Service details read the typed detail', () => {
  it('says a token that never expires never expires, on the tile and in the details', async () => {
    const token = tile('token', 'UP', { detail: { kind: 'token', ...tokenDetail } });
    expect(keyMetrics(token)).toEqual(['never expires']);
    render(Details, { account: 'shop', tile: token, onBack: () => {} });
    const view = await screen.findByRole('region', { name: 'Access token details' });
    expect(fact(view, 'Expires')).toBe('never');
    expect(fact(view, 'Type')).toBe('SYSTEM_USER');
    expect(fact(view, 'Missing scopes')).toBe('none');
  });

  it('keeps a disabled ad account whose insights could not be read, and says they are missing', async () => {
    const ads = tile('ads', 'DOWN', {
      message: 'ad account disabled; insights paused: throttled by Meta (code 80000)',
      detail: { kind: 'ads', account_name: 'Shop ads', account_status: 'DISABLED', currency: 'EUR', insights: null },
    });
    expect(keyMetrics(ads)).toEqual([]);
    render(Details, { account: 'shop', tile: ads, onBack: () => {} });
    const view = await screen.findByRole('region', { name: 'Ads details' });
    expect(fact(view, 'Account')).toBe('Shop ads (DISABLED)');
    expect(fact(view, 'Insights')).toMatch(/^not read in the last check/);
  });

  it('shows what it has when a probe measured nothing', async () => {
    const catalog = tile('catalog', 'UNKNOWN', { message: 'not configured' });
    expect(keyMetrics(catalog)).toEqual([]);
    render(Details, { account: 'shop', tile: catalog, onBack: () => {} });
    const view = await screen.findByRole('region', { name: 'Catalog details' });
    expect(fact(view, 'Products at Meta')).toBe('—');
    expect(fact(view, 'Review')).toBe('not read in the last check');
  });
});
