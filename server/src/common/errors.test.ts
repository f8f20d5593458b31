import { RpcException } from '@nestjs/microservices';
import { PlatformError } from '@csi-cert-driver/platform-contract';
import { describe, expect, it } from 'vitest';
import { toNestGrpcStatus } from '../csi/grpc-error.filter.js';
import {
  Code,
  InvalidArgumentError,
  MAX_QUOTED_VALUE,
  MAX_STATUS_MESSAGE,
  PermissionDeniedError,
  boundText,
  quoteValue,
} from './errors.js';

const HUGE = 'x'.repeat(300_000);

describe('bounded status messages', () => {
  it('quotes a short value whole and a long one as a prefix with its length', () => {
    expect(quoteValue('web-0')).toBe("'web-0'");
    const q = quoteValue(HUGE);
    expect(q).toBe(`'${'x'.repeat(MAX_QUOTED_VALUE)}…' (300000 characters)`);
  });

  it('cuts text at the limit with a final ellipsis', () => {
    expect(boundText('abc', 3)).toBe('abc');
    expect(boundText('abcd', 3)).toBe('ab…');
  });

  it.each([
    {
      name: 'a domain error',
      err: new PermissionDeniedError(`denied ${HUGE}`),
      code: Code.PERMISSION_DENIED,
    },
    {
      name: 'an invalid argument with a huge field',
      err: new InvalidArgumentError(HUGE, HUGE),
      code: Code.INVALID_ARGUMENT,
    },
    {
      name: 'an RpcException',
      err: new RpcException({ code: Code.FAILED_PRECONDITION, message: HUGE }),
      code: Code.FAILED_PRECONDITION,
    },
    {
      name: 'a platform error',
      err: new PlatformError('invalid-argument', HUGE),
      code: Code.INVALID_ARGUMENT,
    },
  ])('the gRPC edge sends at most MAX_STATUS_MESSAGE characters for $name', ({ err, code }) => {
    const s = toNestGrpcStatus(err);
    expect(s.code).toBe(code);
    expect(s.details.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE);
    expect(s.details.endsWith('…')).toBe(true);
  });
});
