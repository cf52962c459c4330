import { useState, type FormEvent } from 'react';
import { Empty } from '../components/Empty';
import { formatTime } from '../format';
import { SignatureHex, Ss58Text } from '../../src-shared/wallet-contract';
import { useWalletCall, type WalletInvoke } from './wallet-call';

export interface PayoutSummary {
  miningAddress: string | null;
  payoutAddress: string | null;
  payoutLinked: boolean;
}

function fieldError(schema: typeof Ss58Text | typeof SignatureHex, value: string): string | null {
  if (value.trim() === '') return null;
  const parsed = schema.safeParse(value);
  return parsed.success ? null : (parsed.error.issues[0]?.message ?? 'Not valid.');
}

/**
 * Links a payout address: start a link (main asks the validator for a challenge and serves the
 * one-time browser page where a wallet extension signs), or paste a signature made elsewhere
 * over the message shown here.
 */
export function PayoutLinkPanel({
  wallet,
  invoke,
  openLink,
  localValidator = false,
}: {
  wallet: PayoutSummary;
  invoke: WalletInvoke;
  openLink?: (url: string) => void;
  /** Mining for the embedded validator: it signs as a local identity and pays no one, so there is nothing to link. */
  localValidator?: boolean;
}) {
  const start = useWalletCall(invoke, 'wallet:start-payout-link');
  const submit = useWalletCall(invoke, 'wallet:submit-payout-signature');
  const [address, setAddress] = useState('');
  const [signature, setSignature] = useState('');
  const addressError = fieldError(Ss58Text, address);
  const signatureError = fieldError(SignatureHex, signature);
  const challenge = start.value;

  const begin = async () => {
    submit.reset();
    const started = await start.call(address.trim() && !addressError ? { payoutAddress: address.trim() } : {});
    if (started && openLink) openLink(started.linkUrl);
  };

  const onPaste = (event: FormEvent) => {
    event.preventDefault();
    if (!challenge || addressError || signatureError || !address.trim() || !signature.trim()) return;
    void submit.call({ payoutAddress: address.trim(), challengeId: challenge.challengeId, signature: signature.trim() });
  };

  const linked = submit.value;
  return (
    <div className="card" aria-labelledby="payout-title">
      <h2 id="payout-title">Payout address</h2>
      <p data-testid="payout-current">
        {linked
          ? `Linked: earnings go to ${linked.payoutAddress}.`
          : wallet.payoutAddress && wallet.payoutLinked
            ? `Linked: earnings go to ${wallet.payoutAddress}.`
            : 'Not linked: earnings go to the mining address.'}
      </p>
      {!wallet.miningAddress ? (
        <Empty>Create or import a mining key first.</Empty>
      ) : localValidator ? (
        <Empty>
          The local validator pays no one, so there is no payout to link. Set a validator URL in Settings to mine for one that pays, then
          link a payout address here.
        </Empty>
      ) : (
        <>
          <div className="form">
            <label htmlFor="payout-address">Payout address (any SS58 account you hold)</label>
            <input
              id="payout-address"
              className="mono"
              value={address}
              onChange={(e) => setAddress(e.target.value)}
              aria-invalid={addressError ? true : undefined}
              spellCheck={false}
            />
            {addressError && <p className="field-error">{addressError}</p>}
          </div>
          <button type="button" className="primary" onClick={() => void begin()} disabled={start.busy}>
            {start.busy ? 'Asking the validator…' : challenge ? 'Start again' : 'Link with a browser wallet'}
          </button>
          {start.error && <Empty tone="error">{start.error}</Empty>}
          {challenge && !linked && (
            <div data-testid="payout-challenge">
              <p>
                Your browser opens a one-time page where a Polkadot wallet extension (polkadot.js, Talisman, SubWallet) signs. If it did not
                open:{' '}
                <a href={challenge.linkUrl} target="_blank" rel="noreferrer">
                  open the link page
                </a>
                . It works until {formatTime(challenge.expiresAtMs)}.
              </p>
              <p>Or sign exactly this message with the payout account elsewhere and paste the signature:</p>
              <pre className="mono" data-testid="payout-message">
                {challenge.message}
              </pre>
              <form className="form" onSubmit={onPaste}>
                <label htmlFor="payout-signature">Signature (0x…)</label>
                <textarea
                  id="payout-signature"
                  className="mono"
                  rows={3}
                  value={signature}
                  onChange={(e) => setSignature(e.target.value)}
                  aria-invalid={signatureError ? true : undefined}
                  spellCheck={false}
                />
                {signatureError && <p className="field-error">{signatureError}</p>}
                <button type="submit" disabled={submit.busy || !address.trim() || !signature.trim() || !!addressError || !!signatureError}>
                  {submit.busy ? 'Linking…' : 'Link with this signature'}
                </button>
              </form>
              {submit.error && <Empty tone="error">{submit.error}</Empty>}
            </div>
          )}
        </>
      )}
    </div>
  );
}
