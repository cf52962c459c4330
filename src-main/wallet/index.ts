export { KeyStore, keyStoreWithoutSecret, loadMiningSigner, MiningKeyExists, NoMiningKey, KEY_SOURCES } from './key-store';
export type { KeySource, KeyStoreOptions, MiningKeyInfo } from './key-store';
export { passphraseBox, PASSPHRASE_BOX_KIND, WrongPassphrase } from './secret-box';
export type { SecretBox } from './secret-box';
export { signerFromPair } from './signer';
export type { RequestSigner } from './signer';
export { BadKeyInput } from './key-secret';
export { WrongKeyFilePassword } from './key-files';
export { defaultDataDir } from '../data-dir';
