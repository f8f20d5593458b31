import { describe, expect, it } from 'vitest';
import { PlatformError } from '@csi-cert-driver/platform-contract';
import { parsePipeName, pipeBindAddress, WindowsPlatform } from '../src/index.js';

describe('pipeBindAddress', () => {
  /** Every spelling of the pipe \\.\pipe\<pipe> that kubelet or an operator may write. */
  const spellings = (pipe: string): string[] => {
    const slashed = pipe.replaceAll('\\', '/');
    return [
      `npipe://./pipe/${slashed}`,
      `npipe:////./pipe/${slashed}`,
      `\\\\.\\pipe\\${pipe}`,
      `//./pipe/${slashed}`,
      `unix:\\\\.\\pipe\\${pipe}`,
      `unix:////./pipe/${slashed}`,
      `unix://./pipe/${slashed}`,
      `\\\\.\\PIPE\\${pipe}`,
      `  npipe://./pipe/${slashed}  `,
    ];
  };

  it.each(
    ['csi-cert-driver', 'csi', 'csi-cert-driver\\csi.sock'].flatMap((pipe) =>
      spellings(pipe).map((endpoint) => ({ endpoint, pipe })),
    ),
  )('$endpoint -> \\\\.\\pipe\\$pipe', ({ endpoint, pipe }) => {
    expect(parsePipeName(endpoint)).toBe(pipe);
    expect(pipeBindAddress(endpoint)).toBe(`unix:\\\\.\\pipe\\${pipe}`);
  });

  it.each([
    { endpoint: '', want: /empty/ },
    { endpoint: 'unix:///csi/csi.sock', want: /unix domain sockets/ },
    { endpoint: 'unix:/csi/csi.sock', want: /unix domain sockets/ },
    { endpoint: 'tcp://127.0.0.1:10000', want: /TCP/ },
    { endpoint: 'dns:localhost:10000', want: /TCP/ },
    { endpoint: '\\\\server\\pipe\\csi', want: /remote pipes/ },
    { endpoint: 'C:\\csi\\csi.sock', want: /expected a named pipe/ },
    { endpoint: 'npipe://./pipe/', want: /expected a named pipe/ },
    { endpoint: 'npipe://./pipe/a//b', want: /empty/ },
    { endpoint: 'npipe://./pipe/../x', want: /'\.\.'/ },
    { endpoint: `npipe://./pipe/${'p'.repeat(250)}`, want: /longer than/ },
    { endpoint: 'npipe://./pipe/a\u0000b', want: /control character/ },
  ])('rejects "$endpoint"', ({ endpoint, want }) => {
    let error: unknown;
    try {
      parsePipeName(endpoint);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).kind).toBe('invalid-argument');
    expect((error as PlatformError).message).toMatch(want);
  });

  it('is what prepareEndpoint answers, and its errors reject the promise', async () => {
    const platform = new WindowsPlatform({ dataRoot: '/tmp/unused' });
    await expect(platform.prepareEndpoint('npipe://./pipe/csi')).resolves.toBe('unix:\\\\.\\pipe\\csi');
    await expect(platform.prepareEndpoint('unix:///csi/csi.sock')).rejects.toMatchObject({
      kind: 'invalid-argument',
    });
  });
});
