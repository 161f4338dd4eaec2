import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setBackend } from '../lib/backend';
import { MockBackend, tile } from '../lib/backend/mock';
import Settings from '../lib/components/Settings.svelte';

let mock: MockBackend;

beforeEach(() => {
  mock = new MockBackend({ demo: true, accounts: [], holds: [] });
  setBackend(mock);
});

afterEach(() => {
  document.body.innerHTML = '';
});

async function addAccount(name: string) {
  await fireEvent.click(await screen.findByRole('button', { name: 'Add account' }));
  const form = screen.getByRole('form', { name: 'New account' });
  await fireEvent.input(within(form).getByLabelText('Name'), { target: { value: name } });
  await fireEvent.input(within(form).getByLabelText('Ad account'), { target: { value: 'act_42' } });
  await fireEvent.submit(form);
}

describe('Settings', () => {
  it('says when a new account found keychain entries of an earlier one and did not adopt them', async () => {
    mock.saveNote = 'the keychain still held access-token from an earlier account named shop; deleted, not adopted';
    render(Settings);
    await addAccount('shop');
    expect(await screen.findByRole('status')).toHaveTextContent('deleted, not adopted');
  });

  it("warns when an account's graph URL is not Meta's, as the core says", async () => {
    const account = { ...(await mock.settings()).new_account, name: 'proxy', graph_url: 'https://proxy.example' };
    const warning = 'proxy.example is not a Meta host: every check sends this account\'s access token there';
    mock.settingsView.accounts.push({ account, secrets: [], warning });
    render(Settings);
    const card = await screen.findByRole('article', { name: 'Account proxy' });
    expect(within(card).getByRole('alert')).toHaveTextContent(warning);
  });

  it('adds an account, stores its token in the keychain and shows it masked afterwards', async () => {
    render(Settings);
    await addAccount('shop');
    const card = await screen.findByRole('article', { name: 'Account shop' });
    expect(mock.calls).toContain('saveAccount:shop:true');
    const token = within(card).getByLabelText('Access token');
    await fireEvent.input(token, { target: { value: 'EAAB-fake-token-for-tests' } });
    expect(token).toHaveAttribute('type', 'password');
    const row = token.closest('.secret') as HTMLElement;
    await fireEvent.click(within(row).getByRole('button', { name: 'Save to keychain' }));
    expect(await within(card).findByText(/stored in the keychain/)).toBeInTheDocument();
    expect(mock.secrets.get('shop/access-token')).toBe('EAAB-fake-token-for-tests');
    expect(document.body.innerHTML).not.toContain('EAAB-fake-token-for-tests');
    expect(within(card).getByRole('button', { name: 'Replace' })).toBeInTheDocument();
  });

  it('sends the polling intervals, thresholds and channels chosen in the form', async () => {
    render(Settings);
    await fireEvent.click(await screen.findByRole('button', { name: 'Add account' }));
    const form = screen.getByRole('form', { name: 'New account' });
    expect(within(form).getByLabelText('Pixel every (min)')).toHaveValue(10);
    await fireEvent.input(within(form).getByLabelText('Name'), { target: { value: 'shop' } });
    await fireEvent.input(within(form).getByLabelText('Pixel every (min)'), { target: { value: '20' } });
    await fireEvent.input(within(form).getByLabelText('Pixel silent after (hours)'), { target: { value: '6' } });
    await fireEvent.click(within(form).getByLabelText('Desktop notifications'));
    const hour = within(form).getByLabelText('Digest at (hour, UTC)');
    expect(hour).toBeDisabled();
    await fireEvent.click(within(form).getByLabelText(/Daily findings digest/));
    expect(hour).toBeEnabled();
    await fireEvent.input(hour, { target: { value: '6' } });
    await fireEvent.submit(form);
    await screen.findByRole('article', { name: 'Account shop' });
    const sent = mock.saved.at(-1)?.monitoring;
    expect(sent?.findings_digest).toBe(true);
    expect(sent?.digest_hour_utc).toBe(6);
    expect(sent?.pixel_minutes).toBe(20);
    expect(sent?.pixel_silence_hours).toBe(6);
    expect(sent?.notify_desktop).toBe(false);
    expect(sent?.graph_api_minutes).toBe(1);
  });

  it('refuses an empty interval before sending anything', async () => {
    render(Settings);
    await fireEvent.click(await screen.findByRole('button', { name: 'Add account' }));
    const form = screen.getByRole('form', { name: 'New account' });
    await fireEvent.input(within(form).getByLabelText('Name'), { target: { value: 'shop' } });
    await fireEvent.input(within(form).getByLabelText('Ads insights every (min)'), { target: { value: '' } });
    await fireEvent.submit(form);
    expect(await screen.findByRole('alert')).toHaveTextContent('Ads insights every (min) must be a number from 5 to 1440');
    expect(mock.saved).toHaveLength(0);
  });

  it('names the field at fault when the core refuses a value', async () => {
    render(Settings);
    await addAccount('bad name!');
    expect(await screen.findByRole('alert')).toHaveTextContent(/account name must be/);
  });

  it('explains a failed connection test in words', async () => {
    render(Settings);
    await addAccount('shop');
    mock.connection = {
      ok: false,
      tiles: [tile('token', 'DOWN', { message: 'token invalid: the token has expired' })],
      explanation: 'The access token has expired. Create a new one and replace it here.',
    };
    const card = await screen.findByRole('article', { name: 'Account shop' });
    await fireEvent.click(within(card).getByRole('button', { name: 'Test connection' }));
    const result = await within(card).findByRole('status');
    expect(result).toHaveTextContent('The access token has expired');
    expect(result).toHaveTextContent('Access token: Down');
  });

  it('says plainly when the keychain cannot be used', async () => {
    mock.settingsView.keychain = { available: false, problem: 'the keychain is locked' };
    render(Settings);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      /The OS keychain cannot be used.*the keychain is locked.*never stored anywhere else/s,
    );
  });

  it('saves the desktop preferences when a box is ticked', async () => {
    render(Settings);
    const box = await screen.findByLabelText('Start Meta Monitor at login');
    expect(box).not.toBeChecked();
    await fireEvent.click(box);
    expect(mock.calls).toContain('setPreferences:true:true');
    expect(mock.prefs.start_at_login).toBe(true);
  });

  it("saves the installation proxy and shows the core's refusal", async () => {
    render(Settings);
    const field = await screen.findByLabelText('HTTPS proxy');
    await fireEvent.input(field, { target: { value: 'http://proxy.example:3128' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save proxy' }));
    expect(await screen.findByText(/Saved: Meta and the team webhook go through this proxy/)).toBeInTheDocument();
    expect(mock.proxyUrl).toBe('http://proxy.example:3128');
    await fireEvent.input(field, { target: { value: 'proxy.example' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save proxy' }));
    expect(await screen.findByText(/must be an http/)).toBeInTheDocument();
    expect(mock.proxyUrl).toBe('http://proxy.example:3128');
  });
});
