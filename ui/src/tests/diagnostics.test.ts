import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, account } from '../lib/backend/mock';
import Diagnostics from '../lib/components/Diagnostics.svelte';

let mock: MockBackend;

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: [account('shop', []), account('outlet', [])], holds: [] });
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
});

describe('Diagnostics', () => {
  it('lists each finding with its evidence, fix and documentation, for the chosen account', async () => {
    mock.findings = [
      {
        id: 'server_events_stopped',
        level: 'error',
        service: 'conversions_api',
        title: 'Server events stopped',
        evidence: 'no server events for 3 h 0 min while the browser sent 812',
        fix: 'Check the shop’s server integration.',
        link: 'https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api',
        view: 'conversions_api',
      },
    ];
    render(Diagnostics, { initial: 'outlet' });
    const finding = await screen.findByText('Server events stopped');
    const card = finding.closest('li') as HTMLElement;
    expect(card).toHaveClass('error');
    expect(card).toHaveTextContent('Evidence: no server events for 3 h 0 min while the browser sent 812');
    expect(card).toHaveTextContent('Fix: Check the shop’s server integration.');
    expect(card).toHaveTextContent('conversions-api/using-the-api');
    expect(mock.calls).toContain('diagnose:outlet');

    mock.findings = [];
    await fireEvent.change(screen.getByLabelText('Account'), { target: { value: 'shop' } });
    expect(await screen.findByText(/No findings/)).toBeInTheDocument();
    expect(mock.calls).toContain('diagnose:shop');
  });
});
