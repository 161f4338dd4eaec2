import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend } from '../lib/backend/mock';
import type { EventInput } from '../lib/bindings/EventInput';
import TestEvent from '../lib/components/TestEvent.svelte';

let mock: MockBackend;
let sentCallbacks = 0;

beforeEach(() => {
  mock = new MockBackend({ demo: false, accounts: [], holds: [] });
  setBackend(mock);
  sentCallbacks = 0;
});

afterEach(() => {
  document.body.innerHTML = '';
});

function renderForm() {
  render(TestEvent, { account: 'shop', onSent: () => (sentCallbacks += 1) });
  return screen.getByRole('form', { name: 'Send test event' });
}

describe('Send test event', () => {
  it('previews the normalized and hashed value as the operator types', async () => {
    const form = renderForm();
    await fireEvent.input(within(form).getByLabelText('E-mail'), { target: { value: '  Jane@Shop.Example ' } });
    const row = await waitFor(() => {
      const r = form.querySelector('tr[data-key="em"]');
      expect(r).not.toBeNull();
      return r as HTMLElement;
    });
    await waitFor(() => expect(row.querySelector('.normalized')?.textContent).toBe('jane@shop.example'));
    expect(row.querySelector('.sent')?.textContent).toBe('hash(jane@shop.example)');
    expect(within(form).getByRole('button', { name: 'Send' })).toBeEnabled();
  });

  it('names the field at fault and keeps Send disabled', async () => {
    const form = renderForm();
    await fireEvent.input(within(form).getByLabelText('E-mail'), { target: { value: 'not-an-email' } });
    const problems = await within(form).findByRole('list', { name: 'Why it cannot be sent yet' });
    expect(problems).toHaveTextContent('user_data.em: not an e-mail address');
    expect(within(form).getByRole('button', { name: 'Send' })).toBeDisabled();
  });

  it('sends with the test code, shows Meta\'s answer, forgets the raw values and resends the same event_id', async () => {
    const form = renderForm();
    await fireEvent.input(within(form).getByLabelText('E-mail'), { target: { value: 'jane@shop.example' } });
    await fireEvent.input(within(form).getByLabelText('Test event code'), { target: { value: 'TEST777' } });
    await waitFor(() => expect(within(form).getByRole('button', { name: 'Send' })).toBeEnabled());
    await fireEvent.submit(form);
    const status = await within(form).findByRole('status');
    expect(status).toHaveTextContent('Meta received 1 event(s) into test events (TEST777)');
    expect(status).toHaveTextContent('AbCdTrace');
    expect(sentCallbacks).toBe(1);
    const first = mock.sent.at(0);
    expect(first?.testCode).toBe('TEST777');
    await waitFor(() => expect(document.body.innerHTML).not.toContain('jane@shop.example'));

    await fireEvent.click(within(form).getByRole('button', { name: 'Send again with the same event_id' }));
    await waitFor(() => expect(mock.sent).toHaveLength(2));
    expect(mock.sent.at(1)?.eventId).toBe(first?.eventId);
  });

  it('explains a refusal in words', async () => {
    mock.sendAnswer = { error: 'Meta refused the events (100/2804003): Event Timestamp Too Old' };
    const form = renderForm();
    await fireEvent.input(within(form).getByLabelText('E-mail'), { target: { value: 'jane@shop.example' } });
    await waitFor(() => expect(within(form).getByRole('button', { name: 'Send' })).toBeEnabled());
    await fireEvent.submit(form);
    expect(await within(form).findByRole('status')).toHaveTextContent('2804003');
  });

  it('sends every customer key and the custom_data fields the operator filled in', async () => {
    const form = renderForm();
    const type = (label: string, value: string) => fireEvent.input(within(form).getByLabelText(label), { target: { value } });
    await type('E-mail', 'jane@shop.example');
    await type('Gender (f or m)', 'f');
    await type('Date of birth (YYYYMMDD)', '19900115');
    await type('fbc cookie (ad click)', 'fb.1.1554763741205.AbCdEf');
    await type('Order ID', 'order-9');
    await type('Content IDs', 'SKU-1, SKU-2');
    await type('Number of items', '3');
    await type('Predicted lifetime value', '120.5');
    await type('Contents (one per line: ID, quantity, item price)', 'SKU-1, 2, 9.99\nSKU-2');
    await fireEvent.change(within(form).getByLabelText('Content type'), { target: { value: 'product' } });
    await waitFor(() => expect(within(form).getByRole('button', { name: 'Send' })).toBeEnabled());
    await fireEvent.submit(form);
    await waitFor(() => expect(mock.sentInputs).toHaveLength(1));
    const [sent] = mock.sentInputs as [EventInput];
    expect(sent.user_data).toMatchObject({ em: 'jane@shop.example', ge: 'f', db: '19900115', fbc: 'fb.1.1554763741205.AbCdEf' });
    expect(sent.content_ids).toEqual(['SKU-1', 'SKU-2']);
    expect(sent.custom_data).toMatchObject({ order_id: 'order-9', num_items: 3, predicted_ltv: 120.5, content_type: 'product' });
    expect(sent.custom_data?.contents).toEqual([
      { id: 'SKU-1', quantity: 2, item_price: 9.99 },
      { id: 'SKU-2', quantity: 1, item_price: undefined },
    ]);
  });
});
