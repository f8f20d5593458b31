/**
 * Reading errors of @kubernetes/client-node: an ApiException carries the HTTP status and the API
 * server's Status body; a network failure carries neither.
 */
import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed API call, or undefined when the API server was not reached. */
export function kubeStatusCode(e: unknown): number | undefined {
  if (e instanceof ApiException) return e.code;
  const code = (e as { code?: unknown; statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A one-line description for logs and error messages: the API server's message when it sent one. */
export function describeKubeError(e: unknown): string {
  if (e instanceof ApiException) {
    const body: unknown = typeof e.body === 'string' ? safeJson(e.body) : e.body;
    const message = (body as { message?: unknown } | null)?.message;
    return `HTTP ${e.code}${typeof message === 'string' ? `: ${message}` : ''}`;
  }
  if (e instanceof Error) {
    const cause = (e as { cause?: { code?: unknown } }).cause?.code;
    return typeof cause === 'string' ? `${e.message} (${cause})` : e.message;
  }
  return String(e);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
