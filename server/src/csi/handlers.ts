/**
 * A gRPC service as a table of unary handlers, one per RPC name as the .proto spells it. A handler
 * gets the deserialized request and returns the response object (or a promise of it); what it
 * throws is mapped to a status by csi/grpc-status.ts. An RPC without a handler answers UNIMPLEMENTED.
 */
export type UnaryHandlers = Record<string, (request: never) => unknown>;
