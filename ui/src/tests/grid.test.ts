import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, account, tile } from '../lib/backend/mock';
import Overview from '../lib/components/Overview.svelte';
import type { Status } from '../lib/bindings/Status';

let mock: MockBackend;

/** 30 accounts: every 7th DOWN, every 5th DEGRADED, the rest UP. */
function thirty() {
  return Array.from({ length: 30 }, (_, i) => {
    const status: Status = i % 7 === 3 ? 'DOWN' : i % 5 === 2 ? 'DEGRADED' : 'UP';
    const name = `shop-${String(i).padStart(2, '0')}`;
    return account(name, [tile('token', 'UP'), tile('pixel', status, { message: `${name} pixel ${status.toLowerCase()}` })]);
  });
}

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: thirty(), holds: [] });
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
});

const rows = () => screen.getAllByRole('row').filter((r) => r.hasAttribute('data-account'));

describe('the accounts grid', () => {
  it('shows every account, the worst first, with each one’s banner', async () => {
    render(Overview);
    await screen.findByRole('region', { name: 'All accounts' });
    const shown = rows();
    expect(shown).toHaveLength(30);
    const overall = shown.map((r) => r.getAttribute('data-overall'));
    const down = overall.filter((o) => o === 'DOWN').length;
    const degraded = overall.filter((o) => o === 'DEGRADED').length;
    expect(down).toBe(4);
    expect(overall.slice(0, down).every((o) => o === 'DOWN')).toBe(true);
    expect(overall.slice(down, down + degraded).every((o) => o === 'DEGRADED')).toBe(true);
    expect(shown[0]).toHaveTextContent('shop-03 pixel down');
    expect(within(shown[0] as HTMLElement).getAllByText('Down')).toHaveLength(1);
    expect(screen.getByText(/30 accounts · 4 down · 5 degraded/)).toBeInTheDocument();
  });

  it('narrows to the search and opens an account with the keyboard', async () => {
    render(Overview);
    await screen.findByRole('region', { name: 'All accounts' });
    await fireEvent.keyDown(document.body, { key: '/' });
    const search = screen.getByRole('searchbox', { name: 'Search accounts' });
    expect(document.activeElement).toBe(search);
    await fireEvent.input(search, { target: { value: 'shop-1' } });
    await waitFor(() => expect(rows()).toHaveLength(10));
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    const first = rows()[0] as HTMLElement;
    await waitFor(() => expect(document.activeElement).toBe(first));
    await fireEvent.keyDown(first, { key: 'ArrowDown' });
    const second = rows()[1] as HTMLElement;
    expect(document.activeElement).toBe(second);
    const name = second.getAttribute('data-account');
    await fireEvent.keyDown(second, { key: 'Enter' });
    const pixel = await screen.findByRole('article', { name: 'Pixel' });
    expect(pixel).toHaveTextContent(`${name} pixel`);
    await fireEvent.click(screen.getByRole('button', { name: '← All accounts' }));
    expect(await screen.findByRole('region', { name: 'All accounts' })).toBeInTheDocument();
  });

  it('marks what a maintenance window covers and says when a DOWN service last worked', async () => {
    mock.state.holds = [
      {
        id: 1,
        account: 'shop-03',
        hold: {
          kind: 'maintenance',
          service: 'pixel',
          window: { kind: 'once', start: new Date(Date.now() - 60_000).toISOString(), end: new Date(Date.now() + 3_600_000).toISOString() },
          reason: 'pixel migration',
          by: 'ops',
          created: new Date().toISOString(),
        },
      },
    ];
    const down = mock.state.accounts.find((a) => a.account === 'shop-03');
    const pixel = down?.tiles.find((t) => t.service === 'pixel');
    if (pixel) pixel.last_success = new Date(Date.now() - 3 * 3_600_000).toISOString();
    render(Overview);
    await screen.findByRole('region', { name: 'All accounts' });
    const row = rows().find((r) => r.getAttribute('data-account') === 'shop-03') as HTMLElement;
    expect(row.querySelector('[data-service="pixel"]')).toHaveTextContent('Down · maint.');
    await fireEvent.click(row);
    const tileEl = await screen.findByRole('article', { name: 'Pixel' });
    expect(tileEl).toHaveTextContent('In maintenance: pixel migration');
    expect(tileEl).toHaveTextContent('last worked 3 h ago');
  });
});
