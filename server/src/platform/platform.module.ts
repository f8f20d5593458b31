import { LinuxPlatform } from '@csi-cert-driver/platform-linux';
import { WindowsPlatform } from '@csi-cert-driver/platform-windows';
import type { PlatformPort } from './platform.port.js';

/**
 * The one place that picks the platform adapter, from `process.platform`. Everything above the
 * port is the same code on every platform.
 */
export function selectPlatform(os: NodeJS.Platform, dataRoot: string): PlatformPort {
  switch (os) {
    case 'linux':
      return new LinuxPlatform({ dataRoot }) satisfies PlatformPort;
    case 'win32':
      return new WindowsPlatform({ dataRoot }) satisfies PlatformPort;
    default:
      throw new Error(`csi-cert-driver's node role runs on linux and win32, not ${os}`);
  }
}
