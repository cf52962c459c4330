export { KeyStore, keyStoreWithoutSecret, loadMiningSigner, MiningKeyExists, NoMiningKey } from './keys/key-store';
export type { MiningKeyInfo } from './keys/key-store';
export { passphraseBox, WrongPassphrase } from './keys/secret-box';
export type { SecretBox } from './keys/secret-box';
export { signerFromPair } from './keys/signer';
export type { RequestSigner } from '../../src-shared/request-signer';
export { BadKeyInput } from './keys/key-secret';
export { WrongKeyFilePassword } from './keys/key-files';
export { backupQuestions, checkBackupAnswers } from './keys/backup-check';
