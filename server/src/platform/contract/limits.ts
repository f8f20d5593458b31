/**
 * The largest group id a volume's `fsGroup` may name: Kubernetes' fsGroup is an int64 but the
 * attribute parser, the chart and both adapters agree on the signed 32-bit range, which every Linux
 * filesystem and `chown(2)` accept.
 */
export const MAX_GROUP_ID = 2 ** 31 - 1;

/** True for a whole number from 0 to `MAX_GROUP_ID`. */
export function isGroupId(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_GROUP_ID;
}
