/**
 * Typed domain errors. Domain code throws these; the gRPC edge (`csi/grpc-status.ts`) maps
 * `code` to a gRPC status as is, so every subclass's message must be safe to show to kubelet (no
 * keys, no tokens). A bare `Error` reaching the edge becomes INTERNAL with a generic message.
 */

/** gRPC status codes used by the domain (numeric values from grpc's status.proto). */
export const Code = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

/**
 * The longest status message that reaches the wire, in characters. A message is cut there (the last
 * character then `…`) when the error is made and again at the gRPC edge; grpc-js sends it in the
 * `grpc-message` trailer, whose size HTTP/2 peers limit (kubelet's and grpc-js's default: 16 KiB
 * of headers), so an unbounded message would stall or kill the connection.
 */
export const MAX_STATUS_MESSAGE = 1024;

/** The longest prefix of a request value an error message quotes, in characters. */
export const MAX_QUOTED_VALUE = 64;

/** `text` cut to `max` characters, the last one then `…`. */
export function boundText(text: string, max = MAX_STATUS_MESSAGE): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A request value as an error message quotes it: `'value'` when short, otherwise its first
 * MAX_QUOTED_VALUE characters and its length (`'aaaa…' (300000 characters)`). Every message that
 * echoes something a caller sent goes through this.
 */
export function quoteValue(value: string, max = MAX_QUOTED_VALUE): string {
  return value.length > max ? `'${value.slice(0, max)}…' (${value.length} characters)` : `'${value}'`;
}

export abstract class DomainError extends Error {
  abstract readonly code: Code;

  /** The message is bounded to MAX_STATUS_MESSAGE characters. */
  constructor(message: string) {
    super(boundText(message));
  }
}

/** The base of a DomainError class whose every instance carries `code`. */
function coded<C extends Code>(code: C) {
  return class extends DomainError {
    readonly code = code;
  };
}

/** A request field is missing or malformed. `field` names it (an attribute key, a CSI field). */
export class InvalidArgumentError extends DomainError {
  readonly code = Code.INVALID_ARGUMENT;
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${boundText(field, 256)}: ${reason}`);
  }
}

export class AlreadyExistsError extends coded(Code.ALREADY_EXISTS) {}

export class PermissionDeniedError extends coded(Code.PERMISSION_DENIED) {}

export class UnauthenticatedError extends coded(Code.UNAUTHENTICATED) {}

export class FailedPreconditionError extends coded(Code.FAILED_PRECONDITION) {}

/**
 * A setting (`CA_CERT_FILE`, `--cluster-domain`, ...) has an unusable value. The message names the
 * setting, never a secret. At start-up `main.ts` turns it into exit code 2; later (a CA reloaded
 * from a file or a Secret) it is a FAILED_PRECONDITION.
 */
export class ConfigError extends FailedPreconditionError {
  constructor(
    readonly setting: string,
    readonly reason: string,
  ) {
    super(`${setting}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** A dependency (the issuer, the API server) cannot be reached now; the caller should retry. */
export class UnavailableError extends coded(Code.UNAVAILABLE) {}

/** Another operation on the same volume is in progress; kubelet retries. */
export class AbortedError extends coded(Code.ABORTED) {}

export class InternalError extends coded(Code.INTERNAL) {}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
