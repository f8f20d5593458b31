/** The platform's rules for names kubelet and attributes give us; each returns why a name is unacceptable. */
export interface PathRules {
  /** Why `targetPath` is not even a well-formed target on this platform (syntax only), or undefined. */
  checkTargetPath(targetPath: string): string | undefined;

  /**
   * Why a publish for the pod `podUid` must not mount at `targetPath`, or undefined: the syntax of
   * `checkTargetPath`, below the node's kubelet root in kubelet's shape
   * (`pods/<pod uid>/volumes/kubernetes.io~csi/<name>/mount`), no symbolic link below that root, not
   * inside another mount (another volume's included) nor inside CERT_BASE_PATH, and the target
   * missing, an empty directory, or already showing this volume's own storage. Reads the file system; asked before anything of the publish is
   * written.
   */
  checkPublishTarget(target: { volumeId: string; targetPath: string; podUid: string }): string | undefined;

  /** Why `name` cannot be a file name in a volume on this platform, or undefined when it is fine. */
  checkFileName(name: string): string | undefined;
}
