export { BalancePanel } from './BalancePanel';
export { KeyPanel } from './KeyPanel';
export type { KeySummary } from './KeyPanel';
export { PayoutLinkPanel } from './PayoutLinkPanel';
export type { PayoutSummary } from './PayoutLinkPanel';
export { useWalletCall } from './wallet-call';
export type { WalletInvoke } from './wallet-call';
