/**
 * A minimal client of kubelet's plugin registration API, speaking to a registration socket the way
 * kubelet's plugin watcher does (GetInfo, then NotifyRegistrationStatus). The tests' kubelet stand-in;
 * the product itself only serves this API. Rejections are grpc ServiceErrors carrying `code`.
 */
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '../common/protos.js';

export interface PluginInfo {
  type: string;
  name: string;
  endpoint: string;
  supported_versions: string[];
}

type Callback<T> = (err: grpc.ServiceError | null, res?: T) => void;
type Stub = grpc.Client &
  Record<string, (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<unknown>) => void>;

export class RegistrationClient {
  private readonly stub: Stub;

  /** `socketPath`: the registration socket (a plain path, as kubelet finds it in plugins_registry). */
  constructor(
    socketPath: string,
    private readonly timeoutMs = 5000,
  ) {
    const pkg = loadProto('pluginregistration.proto') as unknown as {
      pluginregistration: { Registration: grpc.ServiceClientConstructor };
    };
    this.stub = new pkg.pluginregistration.Registration(
      `unix://${socketPath}`,
      grpc.credentials.createInsecure(),
    ) as unknown as Stub;
  }

  getInfo(): Promise<PluginInfo> {
    return this.call<PluginInfo>('GetInfo', {});
  }

  /** kubelet's report: `error` empty on success. */
  notifyRegistrationStatus(pluginRegistered: boolean, error = ''): Promise<object> {
    return this.call('NotifyRegistrationStatus', { plugin_registered: pluginRegistered, error });
  }

  close(): void {
    this.stub.close();
  }

  private call<T>(method: string, req: object): Promise<T> {
    return new Promise((resolve, reject) =>
      this.stub[method]!.call(
        this.stub,
        req,
        new grpc.Metadata(),
        { deadline: new Date(Date.now() + this.timeoutMs) },
        (err, res) => (err ? reject(err) : resolve(res as T)),
      ),
    );
  }
}
