import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { PLATFORM_ERROR_KINDS, PlatformError } from '@csi-cert-driver/platform-contract';
import { toGrpcStatus } from './grpc-status.js';

describe('toGrpcStatus', () => {
  const want: Record<(typeof PLATFORM_ERROR_KINDS)[number], number> = {
    'invalid-argument': status.INVALID_ARGUMENT,
    'not-found': status.NOT_FOUND,
    'resource-exhausted': status.RESOURCE_EXHAUSTED,
    'failed-precondition': status.FAILED_PRECONDITION,
    internal: status.INTERNAL,
  };

  it.each(PLATFORM_ERROR_KINDS.map((kind) => ({ kind, code: want[kind] })))(
    'maps a PlatformError of kind $kind to code $code with its message',
    ({ kind, code }) => {
      const got = toGrpcStatus(new PlatformError(kind, `volume v1: ${kind}`));
      expect(got).toEqual({ code, details: `volume v1: ${kind}`, message: `volume v1: ${kind}` });
    },
  );

  it('does not trust an error that only calls itself PlatformError', () => {
    const imposter = Object.assign(new Error('secret detail'), { name: 'PlatformError', kind: 'not-found' });
    expect(toGrpcStatus(imposter)).toEqual({
      code: status.INTERNAL,
      details: 'internal error; see the driver log',
      message: 'internal error; see the driver log',
    });
  });
});
