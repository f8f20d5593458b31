import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { NODE_INFO, READINESS, type NodeInfo, type Readiness } from './tokens.js';

/** CSI Identity service. A node-only plugin: no CONTROLLER_SERVICE capability is advertised. */
@Controller()
export class IdentityController {
  constructor(
    @Inject(NODE_INFO) private readonly info: NodeInfo,
    @Inject(READINESS) private readonly readiness: Readiness,
  ) {}

  @GrpcMethod('Identity', 'GetPluginInfo')
  getPluginInfo() {
    return { name: this.info.driverName, vendor_version: this.info.version, manifest: {} };
  }

  @GrpcMethod('Identity', 'GetPluginCapabilities')
  getPluginCapabilities() {
    return { capabilities: [] };
  }

  @GrpcMethod('Identity', 'Probe')
  probe() {
    return { ready: { value: this.readiness.ready } };
  }
}
