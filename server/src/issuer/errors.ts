/**
 * Errors of the issuer role. Both are FailedPreconditionErrors (the gRPC edge maps them as such) and
 * carry a machine-readable name of what to fix: a setting (`ConfigError`, shared with every role),
 * or a rule of the signing policy.
 */
import { FailedPreconditionError } from '../common/errors.js';
import type { SigningPolicy } from './signing-policy.js';

export { ConfigError } from '../common/errors.js';

/** A request is well-formed but the signing policy refuses it; `rule` names the policy field that did. */
export class PolicyError extends FailedPreconditionError {
  constructor(
    readonly rule: Extract<keyof SigningPolicy, string>,
    readonly reason: string,
  ) {
    super(`signing policy (${rule}): ${reason}`);
  }
}
