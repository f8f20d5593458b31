/**
 * Where a publish may mount: the rules a NodePublishVolume target path must meet before anything is
 * written (issue 15, docs/security.md "What a volume's operations touch"). Each returns the reason a
 * path is unacceptable, or undefined, like the rules in paths.ts.
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { checkTargetPath } from './paths.js';

export interface TargetRulesOptions {
  /**
   * KUBELET_ROOT_DIR, as kubelet spells it: every target lies below it, in kubelet's shape
   * `pods/<pod uid>/volumes/kubernetes.io~csi/<volume name>/mount`. Undefined: no root or shape rule
   * (the adapter's own tests), and then no symlink is accepted anywhere in the path.
   */
  kubeletRoot?: string | undefined;
  /** Directories no target may be in (CERT_BASE_PATH, which holds every volume's tmpfs and state). */
  reserved?: readonly string[] | undefined;
}

/** The last five components kubelet puts below its root: pods/<uid>/volumes/kubernetes.io~csi/<name>/mount. */
const SHAPE = 'pods/<pod uid>/volumes/kubernetes.io~csi/<volume name>/mount';

/**
 * Why a publish must not mount at `targetPath` for the pod `podUid`: the syntax of `checkTargetPath`;
 * below the kubelet root in kubelet's shape, in that pod's directory; no symbolic link below the root
 * (the root itself may be one, as the node's administrator chose); no mount point between `pods/`
 * (which may be one: the chart's DaemonSet mounts it) and the target, so never inside another
 * volume's mount; the target itself missing or an empty directory; never inside a reserved directory. Reads the file system (lstat of each component, a
 * readdir of an existing target): microseconds on cached entries. A non-empty target is accepted only
 * when it shows the tmpfs mounted at `ownDataDir`, the publishing volume's own data directory.
 */
export function checkPublishTarget(
  targetPath: string,
  podUid: string,
  o: TargetRulesOptions,
  ownDataDir?: string,
): string | undefined {
  const syntax = checkTargetPath(targetPath);
  if (syntax !== undefined) return syntax;
  const root = o.kubeletRoot ?? '/';
  let below: string[];
  if (o.kubeletRoot !== undefined) {
    if (!isInside(targetPath, root))
      return `must be below the kubelet root directory ${root} (KUBELET_ROOT_DIR), got "${targetPath}"`;
    below = targetPath.slice(root === '/' ? 1 : root.length + 1).split('/');
    const [pods, uid, volumes, plugin, name, mount, ...extra] = below;
    if (
      pods !== 'pods' ||
      volumes !== 'volumes' ||
      plugin !== 'kubernetes.io~csi' ||
      !name ||
      mount !== 'mount' ||
      extra.length > 0
    )
      return `must have kubelet's shape ${path.posix.join(root, SHAPE)}, got "${targetPath}"`;
    if (uid !== podUid)
      return `must be in the directory of the volume's pod (uid "${podUid}"), got "${targetPath}"`;
  } else {
    below = targetPath.slice(1).split('/');
  }
  const canonicalRoot = canonicalOrSelf(root);
  for (const r of o.reserved ?? []) {
    const canonical = path.posix.join(canonicalRoot, ...below);
    if (isInside(targetPath, r) || isInside(canonical, canonicalOrSelf(r)))
      return `must not be inside ${r}, which holds the driver's own volumes and state`;
  }
  let dir = root;
  // Mount points are looked for only below a configured root: above it (or without one) the host's
  // own mounts (/tmp, /var) are none of the driver's business.
  let parentDev = o.kubeletRoot === undefined ? undefined : lstatSync(root, { throwIfNoEntry: false })?.dev;
  for (let i = 0; i < below.length; i++) {
    dir = path.posix.join(dir, below[i]!);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (st === undefined) return undefined; // the rest is missing: the driver creates only the target
    if (st.isSymbolicLink()) return `must not contain a symbolic link: ${dir} is one`;
    if (!st.isDirectory()) return `must name a directory path: ${dir} is not a directory`;
    const isTarget = i === below.length - 1;
    if (isTarget) {
      if (readdirSync(dir).length > 0 && !isBindOf(st.dev, ownDataDir))
        return `must not be an existing non-empty directory: ${dir}`;
    } else if (parentDev !== undefined) {
      // `pods` itself may be a mount point: the chart's DaemonSet mounts the host's pods directory
      // there (and some nodes keep it on a disk of its own); below it nothing but volumes is mounted.
      if (i > 0 && st.dev !== parentDev) return `must not be inside another mount: ${dir} is a mount point`;
      parentDev = st.dev;
    }
  }
  return undefined;
}

/**
 * True when `dev` is the device of the tmpfs mounted at `dataDir` (the volume's own data directory,
 * which only the driver mounts): the target then already shows this volume, e.g. after its state was
 * lost, and the publish may take it over.
 */
function isBindOf(dev: number, dataDir: string | undefined): boolean {
  if (dataDir === undefined) return false;
  const data = lstatSync(dataDir, { throwIfNoEntry: false });
  const parent = lstatSync(path.dirname(dataDir), { throwIfNoEntry: false });
  return data !== undefined && parent !== undefined && data.dev !== parent.dev && data.dev === dev;
}

/** True when `p` is `dir` or below it (both absolute, normalized). */
function isInside(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(dir + '/');
}

function canonicalOrSelf(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return p;
  }
}
