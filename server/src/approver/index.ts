/** The approver role's core (rules, leader election, controller) and its Kubernetes adapters. */
export { ApproverController, APPROVER_REASON } from './approver-controller.js';
export { ApproverMetrics } from './approver-metrics.js';
export * from './certificate-request.js';
export { startHealthServer, type HealthServer } from './health-server.js';
export { certificateRequestApi, eventRecorder, kubeLeaseStore } from './kube-adapters.js';
export { DEFAULT_ALLOWED_KEYS, parseKeyPolicy, type KeyPolicy } from './key-policy.js';
export { LeaderElector, type LeaseStore } from './leader-election.js';
export { RULES, SPIFFE_USAGES, decide, type ApproverPolicy, type Decision, type Rule } from './rules.js';
