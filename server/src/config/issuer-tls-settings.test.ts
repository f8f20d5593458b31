import { describe, expect, it } from 'vitest';
import { loadIssuerConfig, loadNodeConfig } from './config.js';
import { isLocalAddress } from './issuer-tls-settings.js';

const inPod = { KUBERNETES_SERVICE_HOST: '10.0.0.1' };
const issuerBase = { CA_CERT_FILE: '/ca/tls.crt', CA_KEY_FILE: '/ca/tls.key', ISSUER_AUTH: 'none' };

describe('node: TLS to the issuer', () => {
  it.each<{ name: string; env: Record<string, string>; want?: object; error?: RegExp }>([
    { name: 'outside a pod: plaintext by default', env: {} },
    {
      name: 'in a pod: TLS settings required',
      env: inPod,
      error: /^ISSUER_TLS_CA_FILE: is required to reach the issuer at cert-service:50051/,
    },
    {
      name: 'in a pod: explicit plaintext',
      env: { ...inPod, ISSUER_PLAINTEXT: 'true' },
    },
    {
      name: 'TLS with a server name',
      env: { ...inPod, ISSUER_TLS_CA_FILE: '/tls/ca.crt', ISSUER_TLS_SERVER_NAME: 'issuer.ns.svc' },
      want: { issuerTls: { caFile: '/tls/ca.crt', serverName: 'issuer.ns.svc', client: undefined } },
    },
    {
      name: 'mutual TLS',
      env: {
        ISSUER_TLS_CA_FILE: '/tls/ca.crt',
        ISSUER_TLS_CLIENT_CERT_FILE: '/tls/tls.crt',
        ISSUER_TLS_CLIENT_KEY_FILE: '/tls/tls.key',
      },
      want: {
        issuerTls: { caFile: '/tls/ca.crt', client: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' } },
      },
    },
    {
      name: 'a client certificate without its key',
      env: { ISSUER_TLS_CA_FILE: '/tls/ca.crt', ISSUER_TLS_CLIENT_CERT_FILE: '/tls/tls.crt' },
      error: /^ISSUER_TLS_CLIENT_KEY_FILE: is required with ISSUER_TLS_CLIENT_CERT_FILE/,
    },
    {
      name: 'a client certificate without a CA',
      env: { ISSUER_TLS_CLIENT_CERT_FILE: '/tls/tls.crt', ISSUER_TLS_CLIENT_KEY_FILE: '/tls/tls.key' },
      error: /^ISSUER_TLS_CA_FILE: is required with the other/,
    },
    {
      name: 'TLS and plaintext at once',
      env: { ISSUER_TLS_CA_FILE: '/tls/ca.crt', ISSUER_PLAINTEXT: 'true' },
      error: /^ISSUER_PLAINTEXT: cannot be true/,
    },
    { name: 'a relative CA path', env: { ISSUER_TLS_CA_FILE: 'ca.crt' }, error: /^ISSUER_TLS_CA_FILE: / },
    { name: 'a bad plaintext flag', env: { ISSUER_PLAINTEXT: 'yes' }, error: /^ISSUER_PLAINTEXT: / },
  ])('$name', ({ env, want, error }) => {
    if (error) expect(() => loadNodeConfig([], env)).toThrowError(error);
    else if (want) expect(loadNodeConfig([], env)).toMatchObject(want);
    else expect(loadNodeConfig([], env).issuerTls).toBeUndefined();
  });
});

describe('issuer: serving TLS', () => {
  it.each<{ name: string; env: Record<string, string>; want?: object; error?: RegExp }>([
    { name: 'outside a pod: plaintext by default', env: issuerBase },
    {
      name: 'in a pod: TLS required',
      env: { ...issuerBase, ...inPod },
      error: /^LISTEN_TLS_CERT_FILE: is required to serve/,
    },
    {
      name: 'in a pod: explicit plaintext',
      env: { ...issuerBase, ...inPod, LISTEN_PLAINTEXT: 'true' },
    },
    {
      name: 'TLS',
      env: {
        ...issuerBase,
        ...inPod,
        LISTEN_TLS_CERT_FILE: '/tls/tls.crt',
        LISTEN_TLS_KEY_FILE: '/tls/tls.key',
      },
      want: { servingTls: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key', clientCaFile: undefined } },
    },
    {
      name: 'mutual TLS',
      env: {
        ...issuerBase,
        LISTEN_TLS_CERT_FILE: '/tls/tls.crt',
        LISTEN_TLS_KEY_FILE: '/tls/tls.key',
        LISTEN_TLS_CLIENT_CA_FILE: '/tls/ca.crt',
      },
      want: { servingTls: { clientCaFile: '/tls/ca.crt' } },
    },
    {
      name: 'a client CA without a serving certificate',
      env: { ...issuerBase, LISTEN_TLS_CLIENT_CA_FILE: '/tls/ca.crt' },
      error: /^LISTEN_TLS_CERT_FILE: is required with LISTEN_TLS_CLIENT_CA_FILE/,
    },
    {
      name: 'a key without a certificate',
      env: { ...issuerBase, LISTEN_TLS_KEY_FILE: '/tls/tls.key' },
      error: /^LISTEN_TLS_CERT_FILE: is required with LISTEN_TLS_KEY_FILE/,
    },
  ])('$name', ({ env, want, error }) => {
    if (error) expect(() => loadIssuerConfig([], env)).toThrowError(error);
    else if (want) expect(loadIssuerConfig([], env)).toMatchObject(want);
    else expect(loadIssuerConfig([], env).servingTls).toBeUndefined();
  });
});

describe('isLocalAddress', () => {
  it.each([
    ['127.0.0.1:50051', true],
    ['[::1]:50051', true],
    ['localhost:1', true],
    ['unix:///run/issuer.sock', true],
    ['10.0.0.1:50051', false],
    ['issuer.ns.svc:50051', false],
    ['127.example.com:1', false],
  ])('%s → %s', (addr, want) => expect(isLocalAddress(addr)).toBe(want));
});
