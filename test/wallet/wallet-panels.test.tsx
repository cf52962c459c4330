// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { NyaInvoke } from '../../src-shared/ipc';
import type { Result } from '../../src-shared/result';
import { WALLET_CHANNELS, type WalletChannel } from '../../src-shared/wallet-contract';
import { BalancePanel, KeyPanel, PayoutLinkPanel } from '../../src-renderer/wallet';

afterEach(cleanup);

const MINING = '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV';
const PAYOUT = '5EHgWw2Af1pnoc7f1A8bfmM97W3DAYW8xr82RfhLL9oAabAe';
const SIG = `0x${'ab'.repeat(64)}`;

/** A main process in miniature: answers by channel, and checks each request against the contract as main will. */
function fakeMain(answers: Partial<Record<WalletChannel, (req: unknown) => Result<unknown>>>) {
  const calls: [string, unknown][] = [];
  const invoke = async (channel: string, payload: unknown): Promise<Result<unknown>> => {
    calls.push([channel, payload]);
    const parsed = WALLET_CHANNELS[channel as WalletChannel].request.safeParse(payload);
    if (!parsed.success) return { ok: false, error: { code: 'bad-request', message: `malformed ${channel}` } };
    return answers[channel as WalletChannel]?.(parsed.data) ?? { ok: false, error: { code: 'internal', message: 'no answer' } };
  };
  // The fake answers loosely; the panels read each answer through its channel's schema.
  return { invoke: invoke as NyaInvoke, calls };
}

describe('BalancePanel', () => {
  it('shows free and staked balances, unknown stake as a dash', () => {
    const { invoke } = fakeMain({});
    render(
      <BalancePanel
        invoke={invoke}
        labels={{ [MINING]: 'Mining' }}
        balance={{
          state: 'online',
          endpoint: 'wss://x',
          atMs: 0,
          balances: [
            { address: MINING, freeNano: '12345000000', stakedNano: null },
            { address: PAYOUT, freeNano: '1', stakedNano: '2000000000' },
          ],
        }}
      />,
    );
    const rows = screen.getByTestId('balances').querySelectorAll('tbody tr');
    expect(rows[0]!.textContent).toContain('Mining');
    expect(rows[0]!.textContent).toContain('12.3450 COMAI');
    expect(rows[0]!.textContent).toContain('—');
    expect(rows[1]!.textContent).toContain('2.0000 COMAI');
  });

  it('shows offline as a notice with the last balances and refreshes on request', async () => {
    const { invoke, calls } = fakeMain({
      'wallet:refresh-balance': () => ({
        ok: true,
        value: { state: 'online', endpoint: 'wss://x', atMs: 0, balances: [{ address: MINING, freeNano: '5000000000', stakedNano: '0' }] },
      }),
    });
    render(
      <BalancePanel
        invoke={invoke}
        balance={{
          state: 'offline',
          endpoint: 'wss://x',
          error: 'Cannot reach wss://x.',
          retryAtMs: 0,
          last: { atMs: 0, balances: [{ address: MINING, freeNano: '7000000000', stakedNano: null }] },
        }}
      />,
    );
    expect(screen.getByTestId('balance-offline').textContent).toContain('Cannot reach wss://x.');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('balances').textContent).toContain('7.0000 COMAI');
    fireEvent.click(screen.getByRole('button', { name: 'Refresh now' }));
    await waitFor(() => expect(screen.getByTestId('balances').textContent).toContain('5.0000 COMAI'));
    expect(calls).toEqual([['wallet:refresh-balance', {}]]);
  });
});

describe('PayoutLinkPanel', () => {
  const challenge = {
    linkUrl: 'http://127.0.0.1:5000/link/t',
    message: `nya-payout-link-v1\nmining:${MINING}\nchallenge:c1\nexpires:1`,
    challengeId: 'c1',
    expiresAtMs: Date.now() + 60_000,
  };

  it('starts a link, opens the page, shows the exact message and links a pasted signature', async () => {
    const opened: string[] = [];
    const { invoke, calls } = fakeMain({
      'wallet:start-payout-link': () => ({ ok: true, value: challenge }),
      'wallet:submit-payout-signature': (req) => ({
        ok: true,
        value: { payoutAddress: (req as { payoutAddress: string }).payoutAddress, linked: true },
      }),
    });
    render(
      <PayoutLinkPanel
        invoke={invoke}
        openLink={(u) => opened.push(u)}
        wallet={{ miningAddress: MINING, payoutAddress: null, payoutLinked: false }}
      />,
    );
    expect(screen.getByTestId('payout-current').textContent).toContain('Not linked');
    fireEvent.change(screen.getByLabelText('Payout address (any SS58 account you hold)'), { target: { value: PAYOUT } });
    fireEvent.click(screen.getByRole('button', { name: 'Link with a browser wallet' }));
    await waitFor(() => expect(screen.getByTestId('payout-message').textContent).toBe(challenge.message));
    expect(opened).toEqual([challenge.linkUrl]);
    expect(calls[0]).toEqual(['wallet:start-payout-link', { payoutAddress: PAYOUT }]);

    const sigBox = screen.getByLabelText('Signature (0x…)');
    fireEvent.change(sigBox, { target: { value: '0x1234' } });
    expect(screen.getByText('A signature is 0x followed by 128 hex digits.')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Link with this signature' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(sigBox, { target: { value: SIG } });
    fireEvent.click(screen.getByRole('button', { name: 'Link with this signature' }));
    await waitFor(() => expect(screen.getByTestId('payout-current').textContent).toBe(`Linked: earnings go to ${PAYOUT}.`));
    expect(calls[1]).toEqual(['wallet:submit-payout-signature', { payoutAddress: PAYOUT, challengeId: 'c1', signature: SIG }]);
  });

  it('shows the refusal from main as an alert and keeps the form', async () => {
    const { invoke } = fakeMain({
      'wallet:start-payout-link': () => ({ ok: true, value: challenge }),
      'wallet:submit-payout-signature': () => ({
        ok: false,
        error: { code: 'bad-request', message: `The signature is not ${PAYOUT}'s sr25519 signature over the message shown.` },
      }),
    });
    render(<PayoutLinkPanel invoke={invoke} wallet={{ miningAddress: MINING, payoutAddress: null, payoutLinked: false }} />);
    fireEvent.change(screen.getByLabelText('Payout address (any SS58 account you hold)'), { target: { value: '0OIl'.repeat(12) } });
    expect(screen.getByText('An SS58 address uses base-58 characters only.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Payout address (any SS58 account you hold)'), { target: { value: PAYOUT } });
    fireEvent.click(screen.getByRole('button', { name: 'Link with a browser wallet' }));
    await screen.findByTestId('payout-message');
    fireEvent.change(screen.getByLabelText('Signature (0x…)'), { target: { value: SIG } });
    fireEvent.click(screen.getByRole('button', { name: 'Link with this signature' }));
    expect((await screen.findByRole('alert')).textContent).toContain('sr25519 signature');
    expect(screen.getByTestId('payout-message')).toBeTruthy();
  });

  it('asks for a mining key first', () => {
    const { invoke } = fakeMain({});
    render(<PayoutLinkPanel invoke={invoke} wallet={{ miningAddress: null, payoutAddress: null, payoutLinked: false }} />);
    expect(screen.getByText('Create or import a mining key first.')).toBeTruthy();
    expect(screen.queryByRole('button')).toBeNull();
  });
});

describe('KeyPanel', () => {
  it('creates a key and imports a file by path, asking main for the password when none is typed', async () => {
    const { invoke, calls } = fakeMain({
      'wallet:create': () => ({ ok: true, value: { address: MINING } }),
      'wallet:import': () => ({ ok: false, error: { code: 'bad-request', message: 'The keystore password is wrong.' } }),
    });
    render(
      <KeyPanel
        invoke={invoke}
        chooseFile={async () => '/home/me/key.json'}
        wallet={{ miningAddress: null, keySource: null, hasMnemonic: false }}
      />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Create a mining key' }));
    expect((await screen.findByText(`Created ${MINING}.`)).textContent).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Import from'), { target: { value: 'polkadot-json' } });
    fireEvent.click(screen.getByRole('button', { name: 'Choose file…' }));
    await waitFor(() => expect((screen.getByLabelText('File') as HTMLInputElement).value).toBe('/home/me/key.json'));
    fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect((await screen.findByRole('alert')).textContent).toBe('The keystore password is wrong.');
    expect(calls).toEqual([
      ['wallet:create', {}],
      ['wallet:import', { kind: 'polkadot-json', filePath: '/home/me/key.json', passwordFromPresenter: true }],
    ]);
  });

  it('removes only after the address is typed', async () => {
    const { invoke, calls } = fakeMain({ 'wallet:remove': () => ({ ok: true, value: { removed: true } }) });
    render(<KeyPanel invoke={invoke} wallet={{ miningAddress: MINING, keySource: 'comx', hasMnemonic: false }} />);
    expect(screen.getByTestId('key-address').textContent).toBe(MINING);
    expect(screen.getByText(/imported from a comx key file/)).toBeTruthy();
    const button = screen.getByRole('button', { name: 'Remove mining key' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/type its address/), { target: { value: PAYOUT } });
    expect(button.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/type its address/), { target: { value: MINING } });
    fireEvent.click(button);
    await waitFor(() => expect(calls).toEqual([['wallet:remove', { confirmAddress: MINING }]]));
  });
});
