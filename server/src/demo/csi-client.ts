import * as grpc from '@grpc/grpc-js';
import { loadProto } from '../common/protos.js';

type Callback<T> = (err: grpc.ServiceError | null, res?: T) => void;
type Stub = grpc.Client &
  Record<string, (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<unknown>) => void>;

/**
 * A minimal CSI client speaking Identity and Node over grpc-js, as kubelet does. Used by the demo's
 * simulated kubelet, the end-to-end tests and the benchmarks. Rejections are grpc ServiceErrors
 * carrying `code` and `details`.
 */
export class CsiClient {
  private readonly identity: Stub;
  private readonly node: Stub;

  constructor(
    readonly address: string,
    private readonly timeoutMs = 30_000,
  ) {
    const pkg = loadProto('csi.proto') as unknown as {
      csi: { v1: { Identity: grpc.ServiceClientConstructor; Node: grpc.ServiceClientConstructor } };
    };
    const creds = grpc.credentials.createInsecure();
    this.identity = new pkg.csi.v1.Identity(address, creds) as unknown as Stub;
    this.node = new pkg.csi.v1.Node(address, creds, {}) as unknown as Stub;
  }

  call<T = Record<string, unknown>>(
    service: 'Identity' | 'Node',
    method: string,
    req: object = {},
  ): Promise<T> {
    const stub = service === 'Identity' ? this.identity : this.node;
    const fn = stub[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`no such method ${service}.${method}`));
    return new Promise((resolve, reject) => {
      fn.call(
        stub,
        req,
        new grpc.Metadata(),
        { deadline: new Date(Date.now() + this.timeoutMs) },
        (err, res) => (err ? reject(err) : resolve(res as T)),
      );
    });
  }

  close(): void {
    this.identity.close();
    this.node.close();
  }
}

export interface KubeletPublishInput {
  volumeId: string;
  targetPath: string;
  pod: { name: string; namespace: string; uid: string; serviceAccount: string };
  attributes?: Record<string, string>;
  readonly?: boolean;
  volumeMountGroup?: string;
  /** NodePublishVolumeRequest.secrets (kubelet puts the token map here with serviceAccountTokenInSecrets). */
  secrets?: Record<string, string>;
}

/** A NodePublishVolumeRequest shaped the way kubelet sends it for an inline ephemeral volume. */
export function kubeletPublishRequest(i: KubeletPublishInput): object {
  return {
    volume_id: i.volumeId,
    target_path: i.targetPath,
    volume_capability: {
      mount: { fs_type: '', mount_flags: [], volume_mount_group: i.volumeMountGroup ?? '' },
      access_mode: { mode: 'SINGLE_NODE_WRITER' },
    },
    readonly: i.readonly ?? true,
    volume_context: {
      'csi.storage.k8s.io/ephemeral': 'true',
      'csi.storage.k8s.io/pod.name': i.pod.name,
      'csi.storage.k8s.io/pod.namespace': i.pod.namespace,
      'csi.storage.k8s.io/pod.uid': i.pod.uid,
      'csi.storage.k8s.io/serviceAccount.name': i.pod.serviceAccount,
      ...i.attributes,
    },
    ...(i.secrets ? { secrets: i.secrets } : {}),
  };
}
