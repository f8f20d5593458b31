/**
 * The parsed, validated and defaulted form of a volume's attributes: everything needed to generate
 * a key, build a CSR, request a certificate and write the volume's files. Produced only by
 * `parseVolumeAttributes`; every other module trusts it.
 */

export type KeyAlgorithm = 'RSA' | 'ECDSA' | 'Ed25519';
export type KeyEncoding = 'PKCS1' | 'PKCS8';

export interface KeySpec {
  algorithm: KeyAlgorithm;
  /** RSA modulus bits (2048–8192), ECDSA curve bits (256, 384, 521); 0 for Ed25519. */
  size: number;
  /** PEM encoding of the private key file. PKCS1 means "RSA PRIVATE KEY" / "EC PRIVATE KEY" (SEC1). */
  encoding: KeyEncoding;
}

export interface SubjectSpec {
  commonName?: string | undefined;
  organizations: string[];
  organizationalUnits: string[];
  countries: string[];
  provinces: string[];
  localities: string[];
  streetAddresses: string[];
  postalCodes: string[];
  serialNumber?: string | undefined;
}

/** A subject with every list empty and no common name (a fresh object each call). */
export function emptySubject(): SubjectSpec {
  return {
    organizations: [],
    organizationalUnits: [],
    countries: [],
    provinces: [],
    localities: [],
    streetAddresses: [],
    postalCodes: [],
  };
}

export interface IssuerRef {
  /** Absent: the built-in issuer (CERT_SERVICE_ADDR). Present: a cert-manager issuer. */
  name?: string | undefined;
  kind: string;
  group: string;
}

export interface VolumeFileNames {
  certificate: string;
  privateKey: string;
  /** Undefined when the CA bundle file is disabled (`ca-file: ""`). */
  ca?: string | undefined;
  /** Present when PKCS#12 output is enabled. */
  pkcs12?: string | undefined;
}

export interface CertificateSpec {
  issuer: IssuerRef;
  subject: SubjectSpec;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emailAddresses: string[];
  /** cert-manager spellings, lower case ("digital signature", "server auth"). */
  usages: string[];
  isCA: boolean;
  durationSeconds: number;
  /** Renew when this much validity is left; undefined = when 20% of the lifetime is left. */
  renewBeforeSeconds?: number | undefined;
  key: KeySpec;
  reusePrivateKey: boolean;
  disableAutoRenew: boolean;
  files: VolumeFileNames;
  /** PKCS#12 password; "" means no password. Secret: never logged. */
  pkcs12Password?: string | undefined;
  /** Group owning the files; from the attribute or CSI volume_mount_group. */
  fsGroup?: number | undefined;
}

/** Who the volume is for, from kubelet's `csi.storage.k8s.io/*` volume context. */
export interface PodInfo {
  name: string;
  namespace: string;
  uid: string;
  serviceAccount: string;
}

/** The pod an Event or a CertificateRequest is about. */
export type PodRef = Pick<PodInfo, 'namespace' | 'name' | 'uid'>;
