import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ApiError } from '@csi-cert-driver/api-contract';
import type { Logger } from '../common/logger.js';
import { Code, DomainError } from '../common/errors.js';

interface JsonResponse {
  headersSent: boolean;
  status(code: number): JsonResponse;
  json(body: unknown): void;
}

const HTTP_OF: Partial<Record<Code, [number, string]>> = {
  [Code.INVALID_ARGUMENT]: [400, 'Bad Request'],
  [Code.NOT_FOUND]: [404, 'Not Found'],
  [Code.UNAVAILABLE]: [503, 'Service Unavailable'],
};

/**
 * The HTTP edge's one error mapping: HttpExceptions keep their status, domain errors map by code
 * (a bad query parameter is 400 naming it), anything else is a 500 whose body says nothing more.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(e: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<JsonResponse>();
    let body: ApiError;
    if (e instanceof HttpException) {
      const r = e.getResponse();
      const message = typeof r === 'string' ? r : String((r as { message?: unknown }).message ?? e.message);
      body = { statusCode: e.getStatus(), error: httpName(e.getStatus()), message };
    } else if (e instanceof DomainError && HTTP_OF[e.code]) {
      const [statusCode, error] = HTTP_OF[e.code]!;
      body = { statusCode, error, message: e.message };
    } else {
      this.logger.error({ err: { message: (e as Error)?.message } }, 'api: unexpected error');
      body = { statusCode: 500, error: 'Internal Server Error', message: 'internal error' };
    }
    if (res.headersSent) return;
    res.status(body.statusCode).json(body);
  }
}

function httpName(status: number): string {
  const names: Record<number, string> = {
    400: 'Bad Request',
    404: 'Not Found',
    405: 'Method Not Allowed',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  };
  return names[status] ?? 'Error';
}
