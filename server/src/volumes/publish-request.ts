/** A NodePublishVolume request after the gRPC edge validated its shape. */
export interface PublishRequest {
  volumeId: string;
  targetPath: string;
  volumeContext: Record<string, string>;
  /** CSI VolumeCapability.MountVolume.volume_mount_group; '' when absent. */
  volumeMountGroup: string;
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
 * or the map is malformed. Secret: kept in memory only.
 */
export function tokensFrom(ctx: Record<string, string>): Record<string, string> | undefined {
  const raw = ctx[TOKENS_KEY];
  if (!raw) return undefined;
  try {
    const map = JSON.parse(raw) as Record<string, { token?: unknown }>;
    const out: Record<string, string> = {};
    for (const [aud, entry] of Object.entries(map))
      if (typeof entry?.token === 'string') out[aud] = entry.token;
    return Object.keys(out).length > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}
