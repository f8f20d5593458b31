/**
 * The only place the end-to-end suites import product source. `CsiClient` and `kubeletPublishRequest`
 * stand in for kubelet: they shape requests exactly as kubelet does and speak CSI over the socket, so
 * the suites still drive the built binary through its real interface. There is no package alias for
 * the server project, hence the one lint exemption.
 */
// eslint-disable-next-line @nx/enforce-module-boundaries -- test client (kubelet stand-in), not product logic
export {
  CsiClient,
  kubeletPublishRequest,
  type KubeletPublishInput,
} from '../../server/src/demo/csi-client.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test client (kubelet's plugin watcher stand-in)
export { RegistrationClient, type PluginInfo } from '../../server/src/kubelet/registration-client.js';
