/**
 * Which identities a pod may hold, and whether a CSR asks only for those: the pod's own DNS names,
 * the SPIFFE ID of its service account, its pod IPs, and DNS names allowed by the policy patterns.
 * Subject attributes other than the common name are not identities and are not checked.
 */
import { InvalidArgumentError, PermissionDeniedError, quoteValue } from '../../common/errors.js';
import { parseCsr, type ParsedCsr } from '../../pki/csr.js';
import { EXTENSION_OIDS } from '../../pki/extensions.js';
import { decodeGeneralNames, ipToBytes, NAME_OIDS, nameValues, type GeneralName } from '../../pki/names.js';
import type { PodFacts } from './caller-authorizer.js';
import { expandDnsPattern, matchesDnsPattern } from './dns-patterns.js';

export interface IdentitySettings {
  clusterDomain: string;
  /** SPIFFE trust domain of service-account IDs. */
  trustDomain: string;
  /** Extra DNS-name patterns (dns-patterns.ts), already validated. */
  allowedDnsNames: readonly string[];
}

/** The names a certificate for one pod asks for. */
export interface RequestedIdentity {
  commonNames: string[];
  sans: GeneralName[];
}

export function spiffeIdOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** A pod's own DNS names: `pod`, `pod.ns`, `pod.ns.svc`, `pod.ns.svc.<domain>`, and the hostname/subdomain form. */
export function ownDnsNames(pod: PodFacts, clusterDomain: string): string[] {
  const forms = (host: string) => [host, `${host}.svc`, `${host}.svc.${clusterDomain}`];
  const names = [pod.name, ...forms(`${pod.name}.${pod.namespace}`)];
  if (pod.hostname && pod.subdomain)
    names.push(...forms(`${pod.hostname}.${pod.subdomain}.${pod.namespace}`));
  return names.map((n) => n.toLowerCase());
}

/** IPv6 has many spellings; compare the address bytes. */
function sameIp(a: string, b: string): boolean {
  try {
    return ipToBytes(a).equals(ipToBytes(b));
  } catch {
    return false;
  }
}

/**
 * The common names and SANs of a CSR, given as PEM or already parsed. Throws InvalidArgumentError
 * (csr_pem) when it cannot be parsed.
 */
export function requestedIdentity(csrPemOrParsed: string | ParsedCsr): RequestedIdentity {
  const csr = typeof csrPemOrParsed === 'string' ? parseCsr(csrPemOrParsed, 'csr_pem') : csrPemOrParsed;
  const commonNames = nameValues(csr.subject, NAME_OIDS.commonName);
  let sans: GeneralName[];
  try {
    sans = csr.extensions
      .filter((e) => e.oid === EXTENSION_OIDS.subjectAltName)
      .flatMap((e) => decodeGeneralNames(e.value));
  } catch {
    throw new InvalidArgumentError('csr_pem', 'the subjectAltName extension cannot be parsed');
  }
  return { commonNames, sans };
}

/**
 * Throws PermissionDeniedError naming the first name that `pod` may not hold. The message says
 * what is allowed but never echoes a token.
 */
export function checkRequestedIdentity(req: RequestedIdentity, pod: PodFacts, s: IdentitySettings): void {
  const own = ownDnsNames(pod, s.clusterDomain);
  const patterns = s.allowedDnsNames.map((p) =>
    expandDnsPattern(p, {
      POD_NAME: pod.name,
      POD_NAMESPACE: pod.namespace,
      SERVICE_ACCOUNT: pod.serviceAccount,
      CLUSTER_DOMAIN: s.clusterDomain,
    }),
  );
  const dnsAllowed = (name: string) =>
    own.includes(name.toLowerCase().replace(/\.$/, '')) || patterns.some((p) => matchesDnsPattern(name, p));
  const spiffeId = spiffeIdOf(s.trustDomain, pod.namespace, pod.serviceAccount);
  const who = `pod ${pod.namespace}/${pod.name}`;
  for (const cn of req.commonNames) {
    if (!dnsAllowed(cn)) {
      throw new PermissionDeniedError(
        `identity: common name ${quoteValue(cn)} is not a DNS name of ${who} nor allowed by ISSUER_ALLOWED_DNS_NAMES`,
      );
    }
  }
  for (const san of req.sans) {
    const ok =
      (san.type === 'dns' && dnsAllowed(san.value)) ||
      (san.type === 'uri' && san.value === spiffeId) ||
      (san.type === 'ip' && pod.podIPs.some((ip) => sameIp(ip, san.value)));
    if (!ok) {
      const allowed =
        san.type === 'uri'
          ? ` (its service account's SPIFFE ID is ${spiffeId})`
          : san.type === 'ip'
            ? ' (only the pod IPs are)'
            : san.type === 'dns'
              ? ' nor allowed by ISSUER_ALLOWED_DNS_NAMES'
              : '';
      throw new PermissionDeniedError(
        `identity: ${san.type} SAN ${quoteValue(san.value)} is not allowed for ${who}${allowed}`,
      );
    }
  }
}
