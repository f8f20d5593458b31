/**
 * The one place that wires @peculiar/x509 to Node's WebCrypto. Every module of the server takes
 * `x509` from here (never from the package directly), so the crypto provider is set before first use.
 *
 * The library is loaded on first use, not at start (ADR 20): it costs ~9 MiB and ~120–200 ms of CPU
 * to load, and a node without the REST API or cert-manager mode never needs it. The package is
 * CommonJS only (no `exports`, no ESM entry Node would pick), so a synchronous `require` gives the
 * same module instance an `import` elsewhere would. @peculiar/x509 uses tsyringe, which needs the
 * Reflect metadata polyfill loaded before it.
 */
import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';

export type X509Certificate = X509.X509Certificate;

let lib: typeof X509 | undefined;

/** The library, loaded and given Node's WebCrypto on the first call. */
export function loadX509(): typeof X509 {
  if (!lib) {
    const require = createRequire(import.meta.url);
    require('reflect-metadata');
    const loaded = require('@peculiar/x509') as typeof X509;
    loaded.cryptoProvider.set(webcrypto as unknown as Crypto);
    lib = loaded;
  }
  return lib;
}

/** The library's namespace; reading any member loads it (`new x509.X509Certificate(der)`). */
export const x509: typeof X509 = new Proxy({} as typeof X509, {
  get: (_target, key) => Reflect.get(loadX509(), key) as unknown,
});
