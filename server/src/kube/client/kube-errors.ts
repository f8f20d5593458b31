/**
 * Reading errors of @kubernetes/client-node: an ApiException carries the HTTP status and the API
 * server's Status body; a network failure carries neither. ApiException is recognised by its shape
 * (a numeric `code` with `body` and `headers`), not by `instanceof`: importing the class would load
 * the whole client library in every process that imports this file (kube-client.ts).
 */
import type { ApiException } from '@kubernetes/client-node';

function isApiException(e: unknown): e is ApiException<unknown> {
  return (
    e instanceof Error && typeof (e as { code?: unknown }).code === 'number' && 'body' in e && 'headers' in e
  );
}

/** The HTTP status of a failed API call, or undefined when the API server was not reached. */
export function kubeStatusCode(e: unknown): number | undefined {
  if (isApiException(e)) return e.code;
  const code = (e as { code?: unknown; statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A one-line description for logs and error messages: the API server's message when it sent one. */
export function describeKubeError(e: unknown): string {
  if (isApiException(e)) {
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
