import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, tile, tokenDetail } from '../lib/backend/mock';
import Details from '../lib/components/Details.svelte';
import Settings from '../lib/components/Settings.svelte';
import { keyMetrics } from '../lib/format';

let mock: MockBackend;

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: [], holds: [] });
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
});

function fact(view: HTMLElement, name: string): string {
  const term = Array.from(view.querySelectorAll('dt')).find((dt) => dt.textContent === name);
  return term?.nextElementSibling?.textContent?.trim() ?? `(no fact ${name})`;
}

const expiring = tile('token', 'DEGRADED', {
  message: 'token expires in 5 d: renew or replace it',
  detail: {
    kind: 'token',
    ...tokenDetail,
    never_expires: false,
    expires_at: '2027-01-01T00:00:00Z',
    missing: [{ scope: 'business_management', feature: "the business's assets" }],
    missing_scopes: ['business_management'],
    renewal: {
      auto: true,
      days_before: 7,
      impossible: null,
      due_at: '2026-12-25T00:00:00Z',
      renewed: false,
      failed: 'Meta refused: Error validating client secret.',
    },
    capi: {
      status: 'DEGRADED',
      message: 'expires in 3 d',
      is_valid: true,
      token_type: 'SYSTEM_USER',
      expires_at: '2026-12-05T00:00:00Z',
      never_expires: false,
      scopes: ['ads_management'],
      pixel_access: true,
    },
  },
});

describe('The token like the debugger', () => {
  it("gives the Conversions API token its own line on the tile", () => {
    const now = Date.parse('2026-12-02T00:00:00Z');
    expect(keyMetrics(expiring, now)).toEqual(['expires in 30 d', 'CAPI token expires in 3 d']);
  });

  it('shows the app, user, granular scopes, what a missing scope breaks, renewal and the Conversions API token', async () => {
    render(Details, { account: 'shop', tile: expiring, onBack: () => {} });
    const view = await screen.findByRole('region', { name: 'Access token details' });
    expect(fact(view, 'App')).toBe('1234567890 (Shop integration)');
    expect(fact(view, 'User')).toBe('61570785020842');
    expect(fact(view, 'Renewal')).toBe('Automatic, 7 days before expiry: from 2026-12-25T00:00:00Z');
    const granular = within(view).getByRole('table', { name: 'Granular scopes' });
    expect(granular).toHaveTextContent('ads_read2369703843357278');
    expect(granular).toHaveTextContent('catalog_managementall assets');
    expect(within(view).getByText(/without it: the business's assets/)).toBeInTheDocument();
    expect(within(view).getByText(/Automatic renewal failed: Meta refused/)).toBeInTheDocument();
    const capi = within(view).getByLabelText('Conversions API token');
    expect(fact(capi, 'Status')).toBe('DEGRADED — expires in 3 d');
    expect(fact(capi, 'Reaches the pixel')).toBe('yes');
  });

  it('renews on request and shows the outcome, or the reason in words', async () => {
    render(Details, { account: 'shop', tile: expiring, onBack: () => {} });
    await fireEvent.click(await screen.findByRole('button', { name: 'Renew now' }));
    expect(await screen.findByText(/^Renewed: valid until 2027-02-01/)).toBeInTheDocument();
    expect(mock.calls).toContain('renewToken:shop');
    mock.tokenAnswer = { code: 'not_renewable', message: 'a Page token is not renewed by exchange; instead: …' };
    await fireEvent.click(screen.getByRole('button', { name: 'Renew now' }));
    expect(await screen.findByText(/a Page token is not renewed/)).toBeInTheDocument();
  });
});

describe('Exchanging a short-lived token in Settings', () => {
  beforeEach(async () => {
    const account = { ...(await mock.settings()).new_account, name: 'shop', app_id: '1234567890' };
    mock.settingsView.accounts.push({
      account,
      secrets: [
        { name: 'access-token', stored: false },
        { name: 'capi-token', stored: true },
      ],
      warning: null,
    });
    mock.secrets.set('shop/capi-token', 'server-token-placeholder');
  });

  it('sends the pasted token once, clears the field and says what was stored', async () => {
    render(Settings);
    const form = await screen.findByRole('form', { name: 'Exchange a short-lived token for shop' });
    const input = within(form).getByLabelText(/Exchange a short-lived user token/);
    await fireEvent.input(input, { target: { value: 'short-lived-paste' } });
    await fireEvent.submit(form);
    expect(await within(form).findByRole('status')).toHaveTextContent('Exchanged and stored the long-lived token');
    expect((input as HTMLInputElement).value).toBe('');
    expect(mock.calls).toContain('exchangeToken:shop');
    expect(screen.getByText(/Test events are sent with the Conversions API token/)).toBeInTheDocument();
  });

  it('explains a refused exchange and keeps nothing', async () => {
    mock.tokenAnswer = {
      code: 'token_invalid',
      message: 'the new token was not kept: the pasted token cannot be exchanged: Session has expired',
    };
    render(Settings);
    const form = await screen.findByRole('form', { name: 'Exchange a short-lived token for shop' });
    await fireEvent.input(within(form).getByLabelText(/Exchange a short-lived user token/), { target: { value: 'stale' } });
    await fireEvent.submit(form);
    expect(await within(form).findByRole('alert')).toHaveTextContent('Session has expired');
  });
});
