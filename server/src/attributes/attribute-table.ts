/**
 * The volume-attribute schema as data: every attribute a pod may set, with a one-line description,
 * its default and an example. `parseVolumeAttributes` accepts exactly these names; the docs are
 * generated from this table.
 */
import { MAX_GROUP_ID } from '@csi-cert-driver/platform-contract';

/** Our prefix. */
export const ATTRIBUTE_PREFIX = 'csi.k8s.cert-driver/';
/** cert-manager csi-driver's prefix, accepted with the same attribute names. */
export const CERT_MANAGER_PREFIX = 'csi.cert-manager.io/';
export const ATTRIBUTE_PREFIXES = [ATTRIBUTE_PREFIX, CERT_MANAGER_PREFIX] as const;

export interface AttributeDoc {
  /** Name without prefix, e.g. `duration`. */
  readonly name: string;
  readonly description: string;
  /** Human-readable default; '' when there is none. */
  readonly default: string;
  readonly example: string;
}

export const ATTRIBUTES = [
  {
    name: 'issuer-name',
    description:
      'cert-manager issuer that signs the certificate (the node needs CERT_MANAGER_ENABLED=true); unset means the built-in issuer.',
    default: '',
    example: 'ca-issuer',
  },
  {
    name: 'issuer-kind',
    description:
      'Kind of the issuer; Issuer or ClusterIssuer for cert-manager.io, any kind for other groups.',
    default: 'Issuer',
    example: 'ClusterIssuer',
  },
  {
    name: 'issuer-group',
    description: 'API group of the issuer.',
    default: 'cert-manager.io',
    example: 'awspca.cert-manager.io',
  },
  {
    name: 'common-name',
    description: 'Subject common name (at most 64 characters); ${POD_*} variables are expanded.',
    default: '${POD_NAME}.${POD_NAMESPACE}.svc.${CLUSTER_DOMAIN} (omitted if longer than 64 characters)',
    example: '${POD_NAME}.${POD_NAMESPACE}',
  },
  {
    name: 'dns-names',
    description: 'Comma-separated DNS SANs; a leading "*." wildcard is allowed; variables are expanded.',
    default: '${POD_NAME} when no dns-names, ip-sans, uri-sans or email-sans is given',
    example: '${POD_NAME}.${POD_NAMESPACE}.svc,*.example.com',
  },
  {
    name: 'ip-sans',
    description: 'Comma-separated IPv4 or IPv6 address SANs.',
    default: '',
    example: '192.0.2.1,2001:db8::1',
  },
  {
    name: 'uri-sans',
    description: 'Comma-separated absolute URI SANs; variables are expanded.',
    default: '',
    example: 'spiffe://cluster.local/ns/${POD_NAMESPACE}/sa/${SERVICE_ACCOUNT_NAME}',
  },
  {
    name: 'email-sans',
    description: 'Comma-separated email address SANs; variables are expanded.',
    default: '',
    example: '${POD_NAME}@example.com',
  },
  {
    name: 'key-usages',
    description:
      'Comma-separated key usages in cert-manager spelling, case-insensitive; is-ca adds "cert sign".',
    default:
      'digital signature,key encipherment,server auth,client auth (no key encipherment for non-RSA keys)',
    example: 'digital signature,server auth',
  },
  {
    name: 'duration',
    description: 'Requested validity as a Go duration, from 1m to 8760h (one year).',
    default: '168h',
    example: '24h',
  },
  {
    name: 'renew-before',
    description: 'Renew when this much validity is left (Go duration, less than duration).',
    default: 'when 20% of the lifetime is left',
    example: '8h',
  },
  {
    name: 'is-ca',
    description: 'Request a CA certificate ("true" or "false").',
    default: 'false',
    example: 'true',
  },
  {
    name: 'disable-auto-renew',
    description: 'Never renew the certificate ("true" or "false").',
    default: 'false',
    example: 'true',
  },
  {
    name: 'reuse-private-key',
    description: 'Keep the same private key across renewals ("true" or "false").',
    default: 'false',
    example: 'true',
  },
  {
    name: 'key-algorithm',
    description: 'Private key algorithm: RSA, ECDSA or Ed25519 (case-insensitive).',
    default: 'ECDSA',
    example: 'RSA',
  },
  {
    name: 'key-size',
    description: 'RSA: 2048 to 8192 in steps of 1024; ECDSA: 256, 384 or 521; not allowed for Ed25519.',
    default: 'RSA 2048, ECDSA 256',
    example: '384',
  },
  {
    name: 'key-encoding',
    description: 'Private key PEM encoding: PKCS1 (SEC1 for ECDSA) or PKCS8; Ed25519 requires PKCS8.',
    default: 'PKCS1 (PKCS8 for Ed25519)',
    example: 'PKCS8',
  },
  {
    name: 'certificate-file',
    description: 'File name of the certificate chain.',
    default: 'tls.crt',
    example: 'cert.pem',
  },
  {
    name: 'privatekey-file',
    description: 'File name of the private key.',
    default: 'tls.key',
    example: 'key.pem',
  },
  {
    name: 'ca-file',
    description: 'File name of the CA bundle; an empty value disables the file.',
    default: 'ca.crt',
    example: 'ca.pem',
  },
  {
    name: 'organizations',
    description: 'Comma-separated subject organizations (O).',
    default: '',
    example: 'Acme',
  },
  {
    name: 'organizational-units',
    description: 'Comma-separated subject organizational units (OU).',
    default: '',
    example: 'payments,${POD_NAMESPACE}',
  },
  {
    name: 'countries',
    description: 'Comma-separated two-letter subject countries (C).',
    default: '',
    example: 'DE,US',
  },
  {
    name: 'provinces',
    description: 'Comma-separated subject provinces (ST).',
    default: '',
    example: 'Bavaria',
  },
  {
    name: 'localities',
    description: 'Comma-separated subject localities (L).',
    default: '',
    example: 'Munich',
  },
  {
    name: 'street-addresses',
    description: 'Comma-separated subject street addresses.',
    default: '',
    example: '1 Main Street',
  },
  {
    name: 'postal-codes',
    description: 'Comma-separated subject postal codes.',
    default: '',
    example: '80331',
  },
  {
    name: 'serial-number',
    description: 'Subject serialNumber attribute.',
    default: '',
    example: '${POD_UID}',
  },
  {
    name: 'fs-group',
    description: `Group ID (0 to ${MAX_GROUP_ID}) owning the files; its members may read the private key and keystore (see Who reads which file). Overrides the CSI volume_mount_group (the pod's securityContext.fsGroup).`,
    default: 'volume_mount_group, else none',
    example: '2000',
  },
  {
    name: 'pkcs12-enable',
    description: 'Also write a PKCS#12 keystore ("true" or "false").',
    default: 'false',
    example: 'true',
  },
  {
    name: 'pkcs12-filename',
    description: 'File name of the PKCS#12 keystore; only with pkcs12-enable.',
    default: 'keystore.p12',
    example: 'keystore.pfx',
  },
  {
    name: 'pkcs12-password',
    description: 'Password of the PKCS#12 keystore; only with pkcs12-enable; empty means none.',
    default: '""',
    example: 'changeit',
  },
] as const satisfies readonly AttributeDoc[];

export type AttributeName = (typeof ATTRIBUTES)[number]['name'];

export const ATTRIBUTE_NAMES: readonly AttributeName[] = ATTRIBUTES.map((a) => a.name);
