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
    expect(mock.calls).toEqual(['overview', 'stories:shop', 'overview', 'stories:shop']);
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
    expect(mock.calls).toEqual(['overview', 'stories:shop']);
    hidden.mockReturnValue(false);
    document.dispatchEvent(new Event('visibilitychange'));
    const api = screen.getByRole('article', { name: 'Graph API' });
    expect(await within(api).findByText('Down')).toBeInTheDocument();
    expect(mock.calls).toEqual(['overview', 'stories:shop', 'overview', 'stories:shop']);
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

  it('tells each tile’s story: a sparkline, the change, the error split, the headroom', async () => {
    const split = (checks: number, c4: number, c5: number, net: number) => ({ checks, client_4xx: c4, server_5xx: c5, network: net });
    mock.stories = [
      { service: 'graph_api', metric: 'meta.api.latency_ms', spark: [80, 90, 120, 87], change_pct: 12.4, compared: 'p95 vs the 24 h before', errors_1h: split(60, 1, 2, 0), errors_24h: split(1440, 3, 9, 1), endpoint: null },
    ];
    mock.state.accounts[0]?.tiles.push(
      tile('rate_limits', 'UP', { detail: { kind: 'rate_limits', max_pct: 38, counters: {}, calls_this_check: 4, regain_seconds: null, calls_per_hour: 30, paused: [] } }),
    );
    render(Overview);
    const api = await screen.findByRole('article', { name: 'Graph API' });
    expect(await within(api).findByText('+12 % p95 vs the 24 h before')).toBeInTheDocument();
    expect(within(api).getByRole('img', { name: 'Graph API, last 24 hours' })).toBeInTheDocument();
    expect(api).toHaveTextContent('Errors 1 h: 4xx 1 · 5xx 2 · network 0 of 60 · 24 h: 4xx 3 · 5xx 9 · network 1 of 1440');
    const limits = screen.getByRole('article', { name: 'Rate limits' });
    expect(within(limits).getByText('62 % left')).toBeInTheDocument();
  });
});
