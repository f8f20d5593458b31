import { describe, expect, it } from 'vitest';
import { FileAcl } from '../src/index.js';

type Call = { file: string; args: string[] };

/** A recording command runner: the one seam where icacls is not run for real (it needs Windows). */
function runner(answer: (call: Call) => string | Error) {
  const calls: Call[] = [];
  const run = async (file: string, args: string[]) => {
    calls.push({ file, args });
    const out = answer({ file, args });
    if (out instanceof Error) throw out;
    return { stdout: out, stderr: '' };
  };
  return { calls, run };
}

const realIcacls = (call: Call) =>
  call.args.length === 1
    ? `${call.args[0]} NT AUTHORITY\\SYSTEM:(F)\n           BUILTIN\\Administrators:(F)\n\nSuccessfully processed 1 files`
    : 'processed file';

describe('FileAcl', () => {
  it('restricts files to SYSTEM, Administrators and the configured readers where icacls works', async () => {
    const { calls, run } = runner(realIcacls);
    const warnings: string[] = [];
    const acl = new FileAcl({ run, readerSids: ['S-1-5-21-1-2-3-1001'], onWarning: (m) => warnings.push(m) });
    expect(acl.current).toBe('unknown');
    await expect(acl.restrict('C:\\v\\.tls.key.tmp-ab')).resolves.toBe('enforced');
    await acl.restrict('C:\\v\\.tls.crt.tmp-cd');
    expect(acl.current).toBe('enforced');
    expect(warnings).toEqual([]);
    expect(calls.map((c) => c.args)).toEqual([
      ['C:\\v\\.tls.key.tmp-ab'],
      acl.grantArgs('C:\\v\\.tls.key.tmp-ab'),
      acl.grantArgs('C:\\v\\.tls.crt.tmp-cd'),
    ]);
    expect(acl.grantArgs('f')).toEqual([
      'f',
      '/inheritance:r',
      '/grant:r',
      '*S-1-5-18:(F)',
      '*S-1-5-32-544:(F)',
      '*S-1-5-21-1-2-3-1001:(R)',
      '/q',
    ]);
  });

  it.each([
    { name: "Wine's no-op icacls (prints nothing)", answer: () => '', why: /no-op/ },
    { name: 'icacls missing', answer: () => new Error('spawn icacls ENOENT'), why: /ENOENT/ },
  ])('detects $name, warns once and stops calling it', async ({ answer, why }) => {
    const { calls, run } = runner(answer);
    const warnings: string[] = [];
    const acl = new FileAcl({ run, onWarning: (m) => warnings.push(m) });
    await expect(acl.restrict('C:\\v\\a')).resolves.toBe('unavailable');
    await expect(acl.restrict('C:\\v\\b')).resolves.toBe('unavailable');
    expect(acl.current).toBe('unavailable');
    expect(calls).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(why);
    expect(warnings[0]).toMatch(/not enforced/);
  });

  it('fails the write when icacls works here but fails for a file', async () => {
    const { run } = runner((call) =>
      call.args.length === 1 ? realIcacls(call) : new Error('Access is denied.'),
    );
    const acl = new FileAcl({ run });
    await expect(acl.restrict('C:\\v\\key')).rejects.toThrow(/Access is denied/);
  });

  it('rejects reader identities that are not SIDs', () => {
    expect(() => new FileAcl({ readerSids: ['Everyone'] })).toThrow(/S-1-/);
  });
});
