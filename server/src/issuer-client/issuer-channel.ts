import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { readSettingFile, type IssuerClientTls } from '../config/issuer-tls-settings.js';

/**
 * The node's credentials for the issuer channel: plaintext when `tls` is undefined; otherwise the
 * issuer's serving certificate must chain to ISSUER_TLS_CA_FILE and carry ISSUER_TLS_SERVER_NAME (or
 * the target's host), and with a client pair the node presents it (mTLS). Files are read once, here;
 * an unreadable one is a ConfigError naming its setting.
 */
export function issuerChannelCredentials(tls: IssuerClientTls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  const ca = readSettingFile('ISSUER_TLS_CA_FILE', tls.caFile);
  const key = tls.client && readSettingFile('ISSUER_TLS_CLIENT_KEY_FILE', tls.client.keyFile);
  const cert = tls.client && readSettingFile('ISSUER_TLS_CLIENT_CERT_FILE', tls.client.certFile);
  const name = tls.serverName;
  return grpc.credentials.createSsl(
    ca,
    key ?? null,
    cert ?? null,
    name === undefined
      ? {}
      : { checkServerIdentity: (_host: string, peer: PeerCertificate) => checkServerIdentity(name, peer) },
  );
}
