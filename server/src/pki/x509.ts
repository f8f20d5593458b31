/**
 * The one place that wires @peculiar/x509 to Node's WebCrypto. Every module of the server imports
 * `x509` from here (never from the package directly), so the crypto provider is set before first use.
 * @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded before it.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
