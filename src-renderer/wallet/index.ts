export { BalancePanel } from './BalancePanel';
export { KeyPanel } from './KeyPanel';
export { PayoutLinkPanel } from './PayoutLinkPanel';
