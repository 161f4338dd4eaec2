import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { setBackend } from '../lib/backend';
import type { CatalogDetail } from '../lib/bindings/CatalogDetail';
import { MockBackend, product } from '../lib/backend/mock';
import Catalog from '../lib/components/Catalog.svelte';

let mock: MockBackend;
const detail: CatalogDetail = {
  name: 'Demo Shop Catalog',
  product_count: 128,
  vertical: 'commerce',
  review: { approved: 120, pending: 4, rejected: 4 },
  sync: null,
};

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: [], holds: [] });
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
  vi.restoreAllMocks();
});

const row = (id: string) => document.querySelector(`tr[data-id="${id}"]`) as HTMLElement;

describe('Catalog', () => {
  it('imports the picked feed file and lists refused rows by line', async () => {
    render(Catalog, { account: 'shop', detail });
    await screen.findByText(/No products yet/);
    const csv = 'id,title,price,image_link\nSKU-1,Mug,12.34 USD,https://s.example/1.jpg\nSKU-2,,5 USD,https://s.example/2.jpg\n';
    const input = document.querySelector('input[type="file"]') as HTMLInputElement;
    await fireEvent.change(input, { target: { files: [new File([csv], 'feed.csv', { type: 'text/csv' })] } });
    const status = await screen.findByText(/Imported: 1 added/);
    expect(within(status.closest('div') as HTMLElement).getByText('line 3 (SKU-2): title is required')).toBeInTheDocument();
    expect(mock.calls).toContain('importFeed:shop:feed.csv');
    await waitFor(() => expect(row('SKU-1')).toBeTruthy());
    expect(screen.getByText('120 approved · 4 pending · 4 rejected', { exact: false })).toBeInTheDocument();
  });

  it('syncs one product with progress, then shows its Meta id — or Meta\'s error', async () => {
    mock.products = [
      product({ id: 'SKU-1', title: 'Mug', image_link: 'https://s.example/1.jpg' }),
      product({ id: 'SKU-9', title: 'Poster', image_link: 'https://s.example/poster.html' }),
    ];
    let open: () => void = () => {};
    mock.syncGate = new Promise((resolve) => (open = resolve));
    mock.syncSteps = [{ total: 1, done: 0, failed: 0, phase: 'waiting for Meta', paused_for_s: null }];
    render(Catalog, { account: 'shop', detail });
    await waitFor(() => expect(row('SKU-1')).toBeTruthy());
    await fireEvent.click(within(row('SKU-1')).getByRole('button', { name: 'Sync' }));
    expect(await screen.findByText(/0 \/ 1 done — waiting for Meta/)).toBeInTheDocument();
    open();
    await waitFor(() => expect(row('SKU-1').querySelector('.status')?.getAttribute('data-status')).toBe('success'));
    expect(within(row('SKU-1')).getByText('70000SKU-1')).toBeInTheDocument();
    expect(mock.calls).toContain('sync:shop:ids:SKU-1');

    mock.syncGate = null;
    await fireEvent.click(within(row('SKU-9')).getByRole('button', { name: 'Sync' }));
    await waitFor(() => expect(row('SKU-9').querySelector('.status')?.getAttribute('data-status')).toBe('error'));
    expect(within(row('SKU-9')).getByText('Image download failed')).toBeInTheDocument();
  });

  it('deletes only after confirmation', async () => {
    mock.products = [{ ...product({ id: 'SKU-1', title: 'Mug' }), sync_status: 'success', meta_product_id: '7001' }];
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(false);
    render(Catalog, { account: 'shop', detail });
    await waitFor(() => expect(row('SKU-1')).toBeTruthy());
    await fireEvent.click(within(row('SKU-1')).getByRole('button', { name: 'Delete' }));
    expect(mock.calls.some((c) => c.startsWith('sync:'))).toBe(false);
    confirm.mockReturnValue(true);
    await fireEvent.click(within(row('SKU-1')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(mock.calls).toContain('sync:shop:delete:SKU-1'));
  });

  it('the editor shows the problems by field and saves nothing until they are fixed', async () => {
    render(Catalog, { account: 'shop', detail });
    await fireEvent.click(await screen.findByRole('button', { name: 'New product' }));
    const form = screen.getByRole('form', { name: 'Product editor' });
    await fireEvent.input(within(form).getByPlaceholderText('SKU-1'), { target: { value: 'SKU-7' } });
    await fireEvent.input(within(form).getByPlaceholderText('12.34 USD'), { target: { value: '12,34' } });
    await fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByText('is required')).toHaveAttribute('data-field', 'title');
    expect(within(form).getByText(/is not a price/)).toHaveAttribute('data-field', 'price');
    expect(mock.products).toHaveLength(0);
    await fireEvent.input(within(form).getByPlaceholderText('Blue mug'), { target: { value: 'Mug' } });
    await fireEvent.input(within(form).getByPlaceholderText('12.34 USD'), { target: { value: '12.34 USD' } });
    await fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(mock.calls).toContain('saveProduct:shop:SKU-7:'));
    await waitFor(() => expect(row('SKU-7')).toBeTruthy());
    expect(mock.products.at(0)?.fields.availability).toBe('in stock');
  });
});
