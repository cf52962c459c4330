export { decide, type PolicyDecision, type PolicyInputs } from './mining-policy';
export { DEFAULT_MINING_POLICY, MiningPolicyConfig, parseMiningPolicyConfig } from './mining-policy-config';
