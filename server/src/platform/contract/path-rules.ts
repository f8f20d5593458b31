/** The platform's rules for names kubelet and attributes give us; each returns why a name is unacceptable. */
export interface PathRules {
  /** Why `targetPath` is unacceptable on this platform, or undefined when it is fine. */
  checkTargetPath(targetPath: string): string | undefined;

  /** Why `name` cannot be a file name in a volume on this platform, or undefined when it is fine. */
  checkFileName(name: string): string | undefined;
}
