/**
 * Test support: reads PKCS#12 keystores with the real OpenSSL CLI and with Java (`keytool` and a
 * small Java program that loads the store, recovers the key and signs with it), so tests check our
 * keystores against two independent implementations. Not imported by production code.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const KEYTOOL = '/usr/bin/keytool';
export const JAVA = '/usr/bin/java';
export const JAVAC = '/usr/bin/javac';
export const haveJava = existsSync(KEYTOOL) && existsSync(JAVA) && existsSync(JAVAC);

export interface ToolResult {
  code: number;
  out: string;
}

async function tool(cmd: string, args: string[]): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(cmd, args, { encoding: 'utf8', timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      out: `${err.stdout ?? ''}${err.stderr ?? ''}`,
    };
  }
}

/** `openssl pkcs12 -info -noenc`: MAC verified, key decrypted; output has the key and certificates as PEM. */
export function opensslPkcs12Info(file: string, password: string): Promise<ToolResult> {
  return tool('/usr/bin/openssl', ['pkcs12', '-info', '-noenc', '-in', file, '-passin', `pass:${password}`]);
}

/** `keytool -list -v -storetype PKCS12`. */
export function keytoolList(file: string, password: string): Promise<ToolResult> {
  return tool(KEYTOOL, ['-list', '-v', '-storetype', 'PKCS12', '-keystore', file, '-storepass', password]);
}

const CHECK_SOURCE = `
import java.io.FileInputStream;
import java.security.*;
import java.security.cert.Certificate;
import java.util.Collections;

public class P12Check {
  public static void main(String[] a) throws Exception {
    for (int i = 0; i + 1 < a.length; i += 2) {
      try {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        char[] pw = a[i + 1].toCharArray();
        try (FileInputStream in = new FileInputStream(a[i])) { ks.load(in, pw); }
        for (String alias : Collections.list(ks.aliases())) {
          if (!ks.isKeyEntry(alias)) continue;
          PrivateKey k = (PrivateKey) ks.getKey(alias, pw);
          Certificate[] chain = ks.getCertificateChain(alias);
          String alg = k.getAlgorithm();
          String sa = alg.equals("RSA") ? "SHA256withRSA" : alg.equals("EC") ? "SHA256withECDSA" : "Ed25519";
          Signature s = Signature.getInstance(sa);
          s.initSign(k);
          s.update(new byte[] {1, 2, 3});
          byte[] sig = s.sign();
          Signature v = Signature.getInstance(sa);
          v.initVerify(chain[0].getPublicKey());
          v.update(new byte[] {1, 2, 3});
          System.out.println(a[i] + " OK alias=" + alias + " alg=" + alg + " chain=" + chain.length + " signs=" + v.verify(sig));
        }
      } catch (Exception e) {
        System.out.println(a[i] + " FAIL " + e);
      }
    }
  }
}
`;

export interface JavaCheck {
  ok: boolean;
  alias?: string;
  algorithm?: string;
  chainLength?: number;
  signs?: boolean;
  error?: string;
}

/**
 * Loads each keystore with Java's KeyStore (MAC checked), recovers the private key with the password,
 * signs with it and verifies with the leaf certificate. One JVM for all stores (the JVM is slow to start).
 */
export async function javaCheckKeystores(stores: { file: string; password: string }[]): Promise<JavaCheck[]> {
  const dir = await mkdtemp(join(tmpdir(), 'p12check-'));
  try {
    await writeFile(join(dir, 'P12Check.java'), CHECK_SOURCE);
    const c = await tool(JAVAC, ['-d', dir, join(dir, 'P12Check.java')]);
    if (c.code !== 0) throw new Error(`javac failed: ${c.out}`);
    const r = await tool(JAVA, ['-cp', dir, 'P12Check', ...stores.flatMap((s) => [s.file, s.password])]);
    const lines = r.out.split('\n');
    return stores.map((s) => {
      const line = lines.find((l) => l.startsWith(`${s.file} `));
      if (!line) return { ok: false, error: `no result for ${s.file}: ${r.out}` };
      const m = /OK alias=(\S+) alg=(\S+) chain=(\d+) signs=(\w+)/.exec(line);
      if (!m) return { ok: false, error: line.slice(s.file.length + 1) };
      return { ok: true, alias: m[1], algorithm: m[2], chainLength: Number(m[3]), signs: m[4] === 'true' };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
