import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend } from '../lib/backend/mock';
import Feeds from '../lib/components/Feeds.svelte';

let mock: MockBackend;
let ran: number;

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: [], holds: [] });
  setBackend(mock);
  ran = 0;
});

afterEach(() => {
  document.body.innerHTML = '';
  vi.restoreAllMocks();
});

const feedRow = (id: number) => document.querySelector(`tr[data-feed="${id}"]`) as HTMLElement;

describe('Feeds', () => {
  it('adds a URL source with its interval, runs it and shows the run', async () => {
    render(Feeds, { account: 'shop', onRan: () => (ran += 1) });
    await screen.findByText(/No feed source yet/);
    const form = screen.getByRole('form', { name: 'Add a feed source' });
    await fireEvent.input(within(form).getByLabelText('Feed URL or file'), { target: { value: 'https://shop.example/feed.xml' } });
    await fireEvent.input(within(form).getByLabelText('Every (min)'), { target: { value: '30' } });
    await fireEvent.submit(form);
    await waitFor(() => expect(feedRow(1)).toBeTruthy());
    expect(mock.calls).toContain('addFeed:shop:https://shop.example/feed.xml:30');
    expect(within(feedRow(1)).getByText('every 30 min')).toBeInTheDocument();
    expect(feedRow(1)).toHaveTextContent('never run');

    await fireEvent.click(within(feedRow(1)).getByRole('button', { name: 'Run now' }));
    await waitFor(() => expect(feedRow(1).dataset.outcome).toBe('synced'));
    expect(feedRow(1)).toHaveTextContent('1000 rows, 10 changed, 0 refused, 0 deleted');
    expect(ran).toBe(2); // the catalog reloads after the add and after the run
  });

  it('shows held deletes with the reason and deletes them only when confirmed', async () => {
    await mock.addFeed('shop', '/home/shop/feed.csv', null);
    mock.nextFeedRun = {
      ...mock.nextFeedRun,
      outcome: 'held',
      held: 200,
      message: "200 of the feed's 995 products vanished at once (more than 10 %)",
    };
    await mock.runFeed('shop', 1);
    render(Feeds, { account: 'shop', onRan: () => (ran += 1) });
    await waitFor(() => expect(feedRow(1)?.dataset.outcome).toBe('held'));
    expect(feedRow(1)).toHaveTextContent('deletes held');
    expect(feedRow(1)).toHaveTextContent('200 of the feed');
    expect(feedRow(1)).toHaveTextContent('/home/shop/feed.csv');
    expect(within(feedRow(1)).getByText('when the file changes')).toBeInTheDocument();
    const button = within(feedRow(1)).getByRole('button', { name: 'Delete 200 vanished products' });
    vi.spyOn(window, 'confirm').mockReturnValueOnce(false);
    await fireEvent.click(button);
    expect(mock.calls.filter((c) => c.startsWith('confirmFeedDeletes'))).toEqual([]);
    vi.spyOn(window, 'confirm').mockReturnValueOnce(true);
    await fireEvent.click(button);
    await waitFor(() => expect(feedRow(1).dataset.outcome).toBe('synced'));
    expect(mock.calls).toContain('confirmFeedDeletes:shop:1:200');
    expect(within(feedRow(1)).queryByRole('button', { name: /vanished products/ })).toBeNull();
  });

  it("shows the core's refusal of a source in words", async () => {
    render(Feeds, { account: 'shop', onRan: () => (ran += 1) });
    const form = await screen.findByRole('form', { name: 'Add a feed source' });
    await fireEvent.input(within(form).getByLabelText('Feed URL or file'), { target: { value: 'http://shop.example/feed.xml' } });
    await fireEvent.submit(form);
    expect(await screen.findByRole('alert')).toHaveTextContent('a feed URL is https://');
    expect(ran).toBe(0);
  });
});
