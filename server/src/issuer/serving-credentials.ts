import * as grpc from '@grpc/grpc-js';
import { readSettingFile, type IssuerServingTls } from '../config/issuer-tls-settings.js';

/**
 * The issuer's server credentials: plaintext when `tls` is undefined; otherwise TLS with the serving
 * certificate chain and key, and with a client CA every caller must present a certificate that
 * chains to it (mTLS). Files are read once at start; an unreadable one is a ConfigError naming its
 * setting.
 */
export function issuerServerCredentials(tls: IssuerServingTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const pair = {
    cert_chain: readSettingFile('LISTEN_TLS_CERT_FILE', tls.certFile),
    private_key: readSettingFile('LISTEN_TLS_KEY_FILE', tls.keyFile),
  };
  const clientCa = tls.clientCaFile ? readSettingFile('LISTEN_TLS_CLIENT_CA_FILE', tls.clientCaFile) : null;
  return grpc.ServerCredentials.createSsl(clientCa, [pair], clientCa !== null);
}
