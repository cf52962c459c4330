import { useEffect, useState, type FormEvent } from 'react';
import { Empty } from '../components/Empty';
import { ExplainedButton, type Unavailable } from '../components/ExplainedButton';
import { IMPORT_KINDS, type ImportKind, type WalletStatus } from '../../src-shared/wallet-contract';
import { useWalletCall, type WalletInvoke } from './wallet-call';

const KIND_WORDS: Record<ImportKind, string> = {
  'mnemonic-file': 'Recovery phrase (text file)',
  'seed-file': 'Raw seed (hex text file)',
  'polkadot-json': 'polkadot-js keystore (JSON)',
  comx: 'comx key file (~/.commune/key/*.json)',
};

const SOURCE_WORDS: Record<NonNullable<WalletStatus['keySource']>, string> = {
  created: 'created in this app',
  mnemonic: 'imported from a recovery phrase',
  seed: 'imported from a raw seed',
  'polkadot-json': 'imported from a polkadot-js keystore',
  comx: 'imported from a comx key file',
};

/** Why the keystore cannot be exported yet: no place to save it, or a password too short to protect it. */
function exportUnavailable(path: string, password: string): Unavailable | null {
  if (!path.trim()) return { words: 'No file named', reason: 'Type the path of the keystore file to write.' };
  if (password.length < 8)
    return { words: 'Password too short', reason: 'The keystore password needs at least 8 characters: it encrypts the file.' };
  return null;
}

export type KeySummary = Pick<WalletStatus, 'miningAddress' | 'keySource' | 'hasMnemonic'>;

/**
 * The mining key: address and where it came from; create, import (a file main reads: the secret
 * never passes through this page) and remove (typing the address). `chooseFile` is the native
 * open dialog where there is one; otherwise the path is typed.
 */
export function KeyPanel({
  wallet,
  invoke,
  chooseFile,
}: {
  wallet: KeySummary;
  invoke: WalletInvoke;
  chooseFile?: (kind: ImportKind) => Promise<string | null>;
}) {
  const create = useWalletCall(invoke, 'wallet:create');
  const importKey = useWalletCall(invoke, 'wallet:import');
  // The last key this page made or imported: the page turns to the key view as soon as main has
  // it, and the confirmation must come along.
  const [added, setAdded] = useState<{ verb: 'Created' | 'Imported'; address: string } | null>(null);
  const created = create.value?.address;
  const imported = importKey.value?.address;
  useEffect(() => setAdded(created ? { verb: 'Created', address: created } : null), [created]);
  useEffect(() => setAdded(imported ? { verb: 'Imported', address: imported } : null), [imported]);
  const remove = useWalletCall(invoke, 'wallet:remove');
  const exportKey = useWalletCall(invoke, 'wallet:export');
  const [exportPath, setExportPath] = useState('');
  const [exportPassword, setExportPassword] = useState('');
  const [kind, setKind] = useState<ImportKind>('mnemonic-file');
  const [filePath, setFilePath] = useState('');
  const [password, setPassword] = useState('');
  const [confirmAddress, setConfirmAddress] = useState('');
  const encrypted = kind === 'polkadot-json' || kind === 'comx';

  const onImport = (event: FormEvent) => {
    event.preventDefault();
    if (!filePath.trim()) return;
    void importKey
      .call({
        kind,
        filePath: filePath.trim(),
        ...(encrypted && password ? { password } : encrypted ? { passwordFromPresenter: true } : {}),
      })
      .then((done) => {
        if (done) setPassword('');
      });
  };

  const onRemove = (event: FormEvent) => {
    event.preventDefault();
    void remove.call({ confirmAddress }).then((done) => {
      if (done) setConfirmAddress('');
    });
  };

  if (wallet.miningAddress) {
    return (
      <div className="card" aria-labelledby="key-title">
        <h2 id="key-title">Mining key</h2>
        {added?.address === wallet.miningAddress && (
          <p className="ok-text" role="status">
            {added.verb} {added.address}.
          </p>
        )}
        <dl className="kv">
          <dt>Mining address</dt>
          <dd className="mono" data-testid="key-address">
            {wallet.miningAddress}
          </dd>
          <dt>Origin</dt>
          <dd>
            {wallet.keySource ? SOURCE_WORDS[wallet.keySource] : 'unknown'}
            {wallet.hasMnemonic ? '' : ' (no recovery phrase stored)'}
          </dd>
        </dl>
        <h3>Back up</h3>
        {wallet.hasMnemonic && (
          <p>
            <button type="button" onClick={() => void exportKey.call({ kind: 'mnemonic' })} disabled={exportKey.busy}>
              Show the recovery phrase
            </button>{' '}
            <span className="muted">in the app's own window (headless: the terminal running nya mine), never on this page.</span>
          </p>
        )}
        <form
          className="form"
          aria-label="Export a keystore"
          onSubmit={(event) => {
            event.preventDefault();
            void exportKey.call({ kind: 'polkadot-json', filePath: exportPath.trim(), password: exportPassword }).then((done) => {
              if (done) setExportPassword('');
            });
          }}
        >
          <label htmlFor="export-path">Save a polkadot-js keystore to</label>
          <input id="export-path" className="mono" value={exportPath} onChange={(e) => setExportPath(e.target.value)} spellCheck={false} />
          <label htmlFor="export-password">Keystore password (8+ characters)</label>
          <input
            id="export-password"
            type="password"
            autoComplete="new-password"
            value={exportPassword}
            onChange={(e) => setExportPassword(e.target.value)}
          />
          <ExplainedButton type="submit" busy={exportKey.busy} unavailable={exportUnavailable(exportPath, exportPassword)}>
            Export keystore
          </ExplainedButton>
        </form>
        {exportKey.value && (
          <p className="ok-text" role="status">
            {exportKey.value.filePath ? `Saved to ${exportKey.value.filePath}.` : 'The recovery phrase was shown.'}
          </p>
        )}
        {exportKey.error && <Empty tone="error">{exportKey.error}</Empty>}
        <h3>Remove</h3>
        <form className="form" onSubmit={onRemove}>
          <label htmlFor="remove-confirm">To remove this key, type its address</label>
          <input
            id="remove-confirm"
            className="mono"
            value={confirmAddress}
            onChange={(e) => setConfirmAddress(e.target.value)}
            spellCheck={false}
          />
          <ExplainedButton
            type="submit"
            busy={remove.busy}
            unavailable={
              confirmAddress.trim() === wallet.miningAddress
                ? null
                : { words: 'Type the address first', reason: "Type this key's address exactly, to confirm that this is the key to remove." }
            }
          >
            Remove mining key
          </ExplainedButton>
        </form>
        {remove.error && <Empty tone="error">{remove.error}</Empty>}
      </div>
    );
  }

  return (
    <div className="card" aria-labelledby="key-title">
      <h2 id="key-title">Mining key</h2>
      <p>
        No mining key yet. Create one (the recovery phrase is shown once, outside this page, with a check that you wrote it down) or import
        the key you mine with.
      </p>
      <button type="button" className="primary" onClick={() => void create.call({})} disabled={create.busy}>
        {create.busy ? 'Waiting for the backup check…' : 'Create a mining key'}
      </button>
      {create.value && (
        <p className="ok-text" role="status">
          Created {create.value.address}.
        </p>
      )}
      {create.error && <Empty tone="error">{create.error}</Empty>}
      <form className="form" onSubmit={onImport} aria-label="Import a key">
        <label htmlFor="import-kind">Import from</label>
        <select id="import-kind" value={kind} onChange={(e) => setKind(e.target.value as ImportKind)}>
          {IMPORT_KINDS.map((k) => (
            <option key={k} value={k}>
              {KIND_WORDS[k]}
            </option>
          ))}
        </select>
        <label htmlFor="import-path">File</label>
        <input id="import-path" className="mono" value={filePath} onChange={(e) => setFilePath(e.target.value)} spellCheck={false} />
        {chooseFile && (
          <button type="button" onClick={() => void chooseFile(kind).then((p) => p && setFilePath(p))}>
            Choose file…
          </button>
        )}
        {encrypted && (
          <>
            <label htmlFor="import-password">File password (leave empty to be asked by the app)</label>
            <input id="import-password" type="password" autoComplete="off" value={password} onChange={(e) => setPassword(e.target.value)} />
          </>
        )}
        <ExplainedButton
          type="submit"
          busy={importKey.busy}
          unavailable={
            filePath.trim() ? null : { words: 'No file chosen', reason: 'Choose the key file to import, or type its path, first.' }
          }
        >
          {importKey.busy ? 'Importing…' : 'Import'}
        </ExplainedButton>
      </form>
      {importKey.value && (
        <p className="ok-text" role="status">
          Imported {importKey.value.address}.
        </p>
      )}
      {importKey.error && <Empty tone="error">{importKey.error}</Empty>}
    </div>
  );
}
