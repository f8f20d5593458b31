/** A NodePublishVolume request after the gRPC edge validated its shape. */
export interface PublishRequest {
  volumeId: string;
  targetPath: string;
  volumeContext: Record<string, string>;
  /** CSI VolumeCapability.MountVolume.volume_mount_group; '' when absent. */
  volumeMountGroup: string;
  /**
   * kubelet's service-account tokens by audience (from the request's `secrets` or its volume
   * context, see `tokensFrom`); undefined when there are none. Secret: in memory, and the kept audiences in the state (ADR 22).
   */
  tokens?: Record<string, string> | undefined;
}

export interface UnpublishRequest {
  volumeId: string;
  targetPath: string;
}

export const TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';

/** The volume context without kubelet's token map: what is persisted and compared on republish. */
export function persistentAttributes(ctx: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(ctx).sort()) if (k !== TOKENS_KEY) out[k] = ctx[k]!;
  return out;
}

export function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/**
 * Every token of kubelet's `serviceAccount.tokens` map by audience, or undefined when there is none
 * or the map is malformed. kubelet puts the map in the request's `secrets` when the CSIDriver has
 * `serviceAccountTokenInSecrets: true` (Kubernetes 1.35+), otherwise in the volume context; a map in
 * `secrets` wins when both hold one. Secret: in memory, and the kept audiences in the state (ADR 22).
 */
export function tokensFrom(
  secrets: Record<string, string> | undefined,
  ctx: Record<string, string>,
): Record<string, string> | undefined {
  return parseTokens(secrets?.[TOKENS_KEY]) ?? parseTokens(ctx[TOKENS_KEY]);
}

function parseTokens(raw: string | undefined): Record<string, string> | undefined {
  if (!raw) return undefined;
  try {
    const map = JSON.parse(raw) as unknown;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) return undefined;
    const out: Record<string, string> = {};
    for (const [aud, entry] of Object.entries(map as Record<string, { token?: unknown } | null>))
      if (typeof entry?.token === 'string' && entry.token !== '') out[aud] = entry.token;
    return Object.keys(out).length > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}
