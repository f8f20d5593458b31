/** Where the CSI gRPC server listens. */
export interface EndpointBinder {
  /**
   * Turns a CSI endpoint (`unix:///csi/csi.sock`, a named pipe) into a grpc-js bind address,
   * removing a stale socket file. Throws `invalid-argument` for an endpoint this platform cannot bind.
   */
  prepareEndpoint(endpoint: string): Promise<string>;
}
