import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import { tokensFrom, type PublishRequest, type UnpublishRequest } from '../volumes/publish-request.js';

/** Wire shapes (proto-loader, keepCase) of the parts of CSI requests we read. */
export interface VolumeCapabilityWire {
  mount?: { fs_type?: string; mount_flags?: string[]; volume_mount_group?: string } | null;
  block?: object | null;
  access_type?: 'mount' | 'block';
  access_mode?: { mode?: string } | null;
}

export interface NodePublishVolumeRequestWire {
  volume_id?: string;
  publish_context?: Record<string, string>;
  staging_target_path?: string;
  target_path?: string;
  volume_capability?: VolumeCapabilityWire | null;
  readonly?: boolean;
  secrets?: Record<string, string>;
  volume_context?: Record<string, string>;
}

export interface NodeUnpublishVolumeRequestWire {
  volume_id?: string;
  target_path?: string;
}

/** Kubelet's ephemeral ids are `csi-<sha256>`; anything that could escape a directory is refused. */
const VOLUME_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function volumeId(v: string | undefined): string {
  if (!v) throw new InvalidArgumentError('volume_id', 'is required');
  if (!VOLUME_ID.test(v) || v.includes('..')) {
    throw new InvalidArgumentError(
      'volume_id',
      'must be 1–128 characters of [A-Za-z0-9._-], starting alphanumeric, without ".."',
    );
  }
  return v;
}

/**
 * Size limits of a NodePublishVolume request's maps (docs/security.md, "Request size limits"). kubelet
 * sends ~6 context entries plus the pod's attributes (at most ~40) and one token map; a value is at
 * most 64 KiB (a token map of a few audiences is ~5 KiB, 1,000 DNS names ~30 KiB). Checked before
 * anything parses the values.
 */
export const REQUEST_LIMITS = {
  mapEntries: 128,
  keyChars: 317,
  valueChars: 64 * 1024,
  targetPathChars: 4096,
} as const;

function boundedMap(field: string, map: Record<string, string> | undefined): Record<string, string> {
  if (!map) return {};
  const keys = Object.keys(map);
  if (keys.length > REQUEST_LIMITS.mapEntries) {
    throw new InvalidArgumentError(field, `has ${keys.length} entries; at most ${REQUEST_LIMITS.mapEntries}`);
  }
  for (const k of keys) {
    if (k.length > REQUEST_LIMITS.keyChars) {
      throw new InvalidArgumentError(
        field,
        `key ${quoteValue(k)} is longer than ${REQUEST_LIMITS.keyChars} characters`,
      );
    }
    const len = map[k]!.length;
    if (len > REQUEST_LIMITS.valueChars) {
      // A secret's value is never quoted, not even a prefix.
      const what = field === 'secrets' ? `secrets[${quoteValue(k)}]` : k;
      throw new InvalidArgumentError(what, `is ${len} characters long; at most ${REQUEST_LIMITS.valueChars}`);
    }
  }
  return map;
}

function targetPath(v: string | undefined): string {
  if (!v) throw new InvalidArgumentError('target_path', 'is required');
  if (v.length > REQUEST_LIMITS.targetPathChars) {
    throw new InvalidArgumentError(
      'target_path',
      `is longer than ${REQUEST_LIMITS.targetPathChars} characters`,
    );
  }
  return v;
}

/** Validates the shape of a NodePublishVolume request; the attributes are validated by the core. */
export function toPublishRequest(req: NodePublishVolumeRequestWire): PublishRequest {
  const id = volumeId(req.volume_id);
  const path = targetPath(req.target_path);
  const cap = req.volume_capability;
  if (!cap) throw new InvalidArgumentError('volume_capability', 'is required');
  if (cap.block || cap.access_type === 'block') {
    throw new InvalidArgumentError(
      'volume_capability',
      'block access is not supported; this driver provides mount volumes',
    );
  }
  if (!cap.mount) throw new InvalidArgumentError('volume_capability.mount', 'is required');
  if (!cap.access_mode || !cap.access_mode.mode || cap.access_mode.mode === 'UNKNOWN') {
    throw new InvalidArgumentError('volume_capability.access_mode', 'is required');
  }
  if (req.readonly !== true) {
    throw new InvalidArgumentError(
      'readonly',
      'must be true: set readOnly: true on the pod volume (certificate volumes are read-only)',
    );
  }
  const volumeContext = boundedMap('volume_context', req.volume_context);
  const secrets = boundedMap('secrets', req.secrets);
  return {
    volumeId: id,
    targetPath: path,
    volumeContext,
    volumeMountGroup: cap.mount.volume_mount_group ?? '',
    tokens: tokensFrom(secrets, volumeContext),
  };
}

export function toUnpublishRequest(req: NodeUnpublishVolumeRequestWire): UnpublishRequest {
  return { volumeId: volumeId(req.volume_id), targetPath: targetPath(req.target_path) };
}
