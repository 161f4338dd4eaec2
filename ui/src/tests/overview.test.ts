import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, account, tile, tokenDetail } from '../lib/backend/mock';
import Overview from '../lib/components/Overview.svelte';

let mock: MockBackend;

beforeEach(() => {
  mock = new MockBackend({
    demo: true,
    holds: [],
    accounts: [
      account('shop', [
        tile('token', 'DEGRADED', {
          message: 'token expires in 3 d 0 h: replace it',
          detail: { kind: 'token', ...tokenDetail, never_expires: false, expires_at: new Date(Date.now() + 3 * 86_400_000).toISOString() },
        }),
        tile('graph_api', 'UP', { latency_ms: 87 }),
        tile('ads', 'UNKNOWN', { message: 'throttled by Meta (code 80004)' }),
      ]),
    ],
  });
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
});

describe('Overview', () => {
  it('shows every tile with its status word, key metric and the worst status in the banner', async () => {
    render(Overview);
    const token = await screen.findByRole('article', { name: 'Access token' });
    expect(within(token).getByText('Degraded')).toBeInTheDocument();
    expect(within(token).getByText('expires in 3 d')).toBeInTheDocument();
    const api = screen.getByRole('article', { name: 'Graph API' });
    expect(within(api).getByText('87 ms')).toBeInTheDocument();
    expect(within(api).getByText(/checked 2 min ago/)).toBeInTheDocument();
    const banner = screen.getByRole('status');
    expect(banner).toHaveAttribute('data-overall', 'DEGRADED');
    expect(banner).toHaveTextContent('token expires in 3 d 0 h');
    expect(screen.getByText('DEMO')).toBeInTheDocument();
  });

  it('changes a tile live when the monitor reports new tiles', async () => {
    render(Overview);
    await screen.findByRole('article', { name: 'Graph API' });
    mock.state = {
      demo: true,
      holds: [],
      accounts: [account('shop', [tile('graph_api', 'DOWN', { message: 'Graph API failing: HTTP 502' })])],
    };
    mock.push({ kind: 'tiles_changed', account: 'shop' });
    const api = await screen.findByRole('article', { name: 'Graph API' });
    expect(await within(api).findByText('Down')).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Graph API failing: HTTP 502');
    expect(mock.calls).toEqual(['overview', 'overview']);
  });

  it('does not pull into a hidden window, and catches up once it shows again', async () => {
    render(Overview);
    await screen.findByRole('article', { name: 'Graph API' });
    const hidden = vi.spyOn(document, 'hidden', 'get').mockReturnValue(true);
    mock.state = {
      demo: true,
      holds: [],
      accounts: [account('shop', [tile('graph_api', 'DOWN', { message: 'Graph API failing: HTTP 502' })])],
    };
    mock.push({ kind: 'tiles_changed', account: 'shop' });
    mock.push({ kind: 'tiles_changed', account: 'shop' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(mock.calls).toEqual(['overview']);
    hidden.mockReturnValue(false);
    document.dispatchEvent(new Event('visibilitychange'));
    const api = screen.getByRole('article', { name: 'Graph API' });
    expect(await within(api).findByText('Down')).toBeInTheDocument();
    expect(mock.calls).toEqual(['overview', 'overview']);
    hidden.mockRestore();
  });

  it('"Check now" on a tile asks the backend to check that account\'s service only', async () => {
    render(Overview);
    const api = await screen.findByRole('article', { name: 'Graph API' });
    await fireEvent.click(within(api).getByRole('button', { name: 'Check now' }));
    expect(mock.calls).toContain('checkNow:shop:graph_api');
  });

  it('"Details" opens the service with its chart and recent errors, and goes back', async () => {
    mock.history = {
      runs_24h: 40,
      failed_24h: 2,
      failures: [
        {
          at: new Date().toISOString(),
          outcome: 'token_invalid',
          http_status: 400,
          code: 190,
          subcode: 463,
          fbtrace_id: 'AbCdEf123',
          message: 'Error validating access token',
        },
      ],
    };
    render(Overview);
    const api = await screen.findByRole('article', { name: 'Graph API' });
    await fireEvent.click(within(api).getByRole('button', { name: 'Details' }));
    const view = await screen.findByRole('region', { name: 'Graph API details' });
    expect(await within(view).findByText('190/463 (HTTP 400)')).toBeInTheDocument();
    expect(within(view).getByText('AbCdEf123')).toBeInTheDocument();
    expect(within(view).getByText(/2 of 40 checks failed/)).toBeInTheDocument();
    expect(mock.calls).toContain('chart:meta.api.latency_ms:24h');
    await fireEvent.click(within(view).getByRole('button', { name: '7d' }));
    expect(mock.calls).toContain('chart:meta.api.latency_ms:7d');
    expect(view.querySelector('.svg polyline')).not.toBeNull();
    await fireEvent.click(within(view).getByRole('button', { name: '← Overview' }));
    expect(await screen.findByRole('article', { name: 'Access token' })).toBeInTheDocument();
  });

  it('exports a chart as PNG or SVG through the save dialog, at print size on white', async () => {
    render(Overview);
    const api = await screen.findByRole('article', { name: 'Graph API' });
    await fireEvent.click(within(api).getByRole('button', { name: 'Details' }));
    const view = await screen.findByRole('region', { name: 'Graph API details' });
    const chart = view.querySelector('figure[data-metric="meta.api.latency_ms"]') as HTMLElement;
    await fireEvent.click(within(chart).getByRole('button', { name: '7d' }));
    await fireEvent.click(within(chart).getByRole('button', { name: 'PNG' }));
    expect(await within(chart).findByText('Saved to /home/operator/chart.png')).toBeInTheDocument();
    expect(mock.calls).toContain('export:meta.api.latency_ms:7d:png:1600x600:false');
    mock.exportPath = null;
    await fireEvent.click(within(chart).getByRole('button', { name: 'SVG' }));
    await waitFor(() => expect(mock.calls).toContain('export:meta.api.latency_ms:7d:svg:1600x600:false'));
    expect(within(chart).queryByText(/Saved to/)).toBeNull();
  });

  it('says what to do when no account is watched', async () => {
    mock.state = { demo: false, accounts: [], holds: [] };
    render(Overview);
    expect(await screen.findByText(/No account is watched yet/)).toBeInTheDocument();
  });
});

describe('Monitor problems', () => {
  it('shows the monitor problem banner while the store refuses writes, and clears it', async () => {
    render(Overview);
    await screen.findAllByRole('article');
    expect(document.querySelector('.monitor-problem'), 'no banner while all is well').toBeNull();
    mock.push({ kind: 'problem', message: 'The monitor could not store its results (disk full); retrying in 2 s.' });
    const banner = await screen.findByText(/could not store its results/);
    expect(banner.getAttribute('role')).toBe('alert');
    mock.push({ kind: 'problem', message: null });
    await new Promise((r) => setTimeout(r, 0));
    expect(document.querySelector('.monitor-problem'), 'the banner goes when the problem is over').toBeNull();
  });
});

describe('Tile errors', () => {
  it("shows the core's advice under a failing tile, never under a passing one", async () => {
    mock.state.accounts = [account('shop', [
      tile('token', 'DOWN', {
        message: 'token invalid: expired',
        error: {
          class: 'token_invalid',
          code: 190,
          subcode: 463,
          fbtrace_id: 'AbC',
          is_transient: false,
          advice: 'The access token has expired. Create a new one in Meta Business Settings.',
        },
      }),
      tile('graph_api', 'UP'),
    ])];
    render(Overview);
    const token = await screen.findByRole('article', { name: 'Access token' });
    expect(within(token).getByText(/has expired\. Create a new one/)).toBeInTheDocument();
    const api = screen.getByRole('article', { name: 'Graph API' });
    expect(api.querySelector('.advice-line'), 'no advice on an UP tile').toBeNull();
  });
});
