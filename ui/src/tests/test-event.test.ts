import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend } from '../lib/backend/mock';
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
});
