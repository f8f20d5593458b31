import type { KeyObject } from 'node:crypto';
import type { CertificateSpec, KeySpec, PodInfo } from '../attributes/certificate-spec.js';
import type { Issuer, SignedCertificate } from '../issuer-client/issuer.port.js';
import type { VolumeFile } from '@csi-cert-driver/platform-contract';
import { buildCsr, encodePrivateKey, type KeyPair, type KeyShape } from '../pki/index.js';
import { encodePkcs12 } from '../pki/pkcs12.js';

/** Where fresh keys come from: generated on demand, or a warm pool. Keys never leave the node. */
export interface KeySource {
  get(spec: KeySpec): Promise<KeyPair>;
}

export interface IssueInput {
  spec: CertificateSpec;
  pod: PodInfo;
  nodeId: string;
  volumeId: string;
  /** Every token kubelet provided, by audience; RoutingIssuer decides which one goes where. */
  tokens?: Readonly<Record<string, string>> | undefined;
  /** Reuse this key (reuse-private-key) instead of taking a fresh one. */
  key?: KeyPair | undefined;
}

export interface IssuedVolume {
  key: KeyPair;
  signed: SignedCertificate;
  files: VolumeFile[];
}

/**
 * Key → CSR → issuer → the volume's file set. The private key is generated here and goes only into
 * the returned files; the issuer sees the CSR.
 */
export async function issueVolumeCertificate(
  issuer: Issuer,
  keys: KeySource,
  input: IssueInput,
): Promise<IssuedVolume> {
  const { spec } = input;
  const key = input.key ?? (await keys.get(spec.key));
  const csrPem = await buildCsr(spec, key);
  const signed = await issuer.sign({
    csrPem,
    pod: input.pod,
    nodeId: input.nodeId,
    volumeId: input.volumeId,
    durationSeconds: spec.durationSeconds,
    isCA: spec.isCA,
    usages: spec.usages,
    tokens: input.tokens,
    issuerRef: spec.issuer,
  });
  return { key, signed, files: renderFiles(spec, key.privateKey, signed, key.shape) };
}

/**
 * The files of a volume. Without an fs-group the key (and the PKCS#12 keystore, which holds it) is
 * readable by root only; with one it is group-readable so a non-root pod in that group can use it.
 * `keyShape` is the key's shape when known (KeyPair.shape); otherwise it is read from the key.
 */
export function renderFiles(
  spec: CertificateSpec,
  privateKey: KeyObject,
  signed: Pick<SignedCertificate, 'certificatePem' | 'chainPem' | 'caBundlePem'>,
  keyShape?: KeyShape,
): VolumeFile[] {
  const enc = new TextEncoder();
  const keyMode = spec.fsGroup !== undefined ? 0o440 : 0o400;
  const chain =
    signed.certificatePem.trimEnd() + '\n' + (signed.chainPem ? signed.chainPem.trimEnd() + '\n' : '');
  const files: VolumeFile[] = [
    { name: spec.files.certificate, data: enc.encode(chain), mode: 0o444 },
    {
      name: spec.files.privateKey,
      data: enc.encode(encodePrivateKey(privateKey, spec.key.encoding, keyShape)),
      mode: keyMode,
    },
  ];
  if (spec.files.ca) files.push({ name: spec.files.ca, data: enc.encode(signed.caBundlePem), mode: 0o444 });
  if (spec.files.pkcs12) {
    const der = encodePkcs12({
      privateKey,
      certificatesPem: chain + signed.caBundlePem,
      password: spec.pkcs12Password ?? '',
    });
    files.push({ name: spec.files.pkcs12, data: der, mode: keyMode });
  }
  return files;
}
