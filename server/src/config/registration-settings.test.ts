import { describe, expect, it } from 'vitest';
import { SETTINGS, loadNodeConfig } from './config.js';
import { configErrorOf } from './testing.js';

const SOCKET = '/var/lib/kubelet/plugins_registry/csi.k8s.cert-driver-reg.sock';

describe('node kubelet registration and health settings', () => {
  it('are off by default', () => {
    const cfg = loadNodeConfig([], {});
    expect(cfg.pluginRegistration).toBeUndefined();
    expect(cfg.healthListenAddr).toBeUndefined();
  });

  it.each([
    {
      name: 'the chart: socket in the registry, kubelet dials the host path',
      env: {
        PLUGIN_REGISTRATION_DIR: '/registration',
        KUBELET_CSI_ENDPOINT: '/var/lib/kubelet/plugins/csi.k8s.cert-driver/csi.sock',
        HEALTH_LISTEN_ADDR: '0.0.0.0:9808',
      },
      want: {
        pluginRegistration: {
          socketPath: '/registration/csi.k8s.cert-driver-reg.sock',
          kubeletCsiEndpoint: '/var/lib/kubelet/plugins/csi.k8s.cert-driver/csi.sock',
        },
        healthListenAddr: '0.0.0.0:9808',
      },
    },
    {
      name: "on the host: kubelet dials CSI_ENDPOINT's path",
      env: {
        PLUGIN_REGISTRATION_DIR: '/var/lib/kubelet/plugins_registry/',
        CSI_ENDPOINT: 'unix:///run/ccd/csi.sock',
      },
      want: { pluginRegistration: { socketPath: SOCKET, kubeletCsiEndpoint: '/run/ccd/csi.sock' } },
    },
    {
      name: 'unix:// spelling of KUBELET_CSI_ENDPOINT',
      env: {
        PLUGIN_REGISTRATION_DIR: '/var/lib/kubelet/plugins_registry',
        KUBELET_CSI_ENDPOINT: 'unix:///k/csi.sock',
      },
      want: { pluginRegistration: { socketPath: SOCKET, kubeletCsiEndpoint: '/k/csi.sock' } },
    },
    { name: 'off spelled out', env: { PLUGIN_REGISTRATION_DIR: 'off', HEALTH_LISTEN_ADDR: 'off' }, want: {} },
  ])('$name', ({ env, want }) => {
    const cfg = loadNodeConfig([], env);
    expect({ pluginRegistration: cfg.pluginRegistration, healthListenAddr: cfg.healthListenAddr }).toEqual({
      pluginRegistration: undefined,
      healthListenAddr: undefined,
      ...want,
    });
  });

  it('takes flags too', () => {
    const cfg = loadNodeConfig(['--plugin-registration-dir=/r', '--health-listen-addr=127.0.0.1:9808'], {});
    expect(cfg.pluginRegistration?.socketPath).toBe('/r/csi.k8s.cert-driver-reg.sock');
    expect(cfg.healthListenAddr).toBe('127.0.0.1:9808');
  });

  it.each([
    { env: { PLUGIN_REGISTRATION_DIR: 'relative/dir' }, setting: 'PLUGIN_REGISTRATION_DIR' },
    { env: { PLUGIN_REGISTRATION_DIR: '/' + 'd'.repeat(90) }, setting: 'PLUGIN_REGISTRATION_DIR' },
    {
      env: { PLUGIN_REGISTRATION_DIR: '/r', KUBELET_CSI_ENDPOINT: 'csi.sock' },
      setting: 'KUBELET_CSI_ENDPOINT',
    },
    {
      env: { PLUGIN_REGISTRATION_DIR: '/r', KUBELET_CSI_ENDPOINT: 'unix://csi.sock' },
      setting: 'KUBELET_CSI_ENDPOINT',
    },
    {
      env: { PLUGIN_REGISTRATION_DIR: '/r', KUBELET_CSI_ENDPOINT: '/' + 'k'.repeat(107) },
      setting: 'KUBELET_CSI_ENDPOINT',
    },
    { env: { KUBELET_CSI_ENDPOINT: '/k/csi.sock' }, setting: 'KUBELET_CSI_ENDPOINT' },
    {
      env: { PLUGIN_REGISTRATION_DIR: '/r', CSI_ENDPOINT: '\\\\.\\pipe\\csi-cert-driver' },
      setting: 'KUBELET_CSI_ENDPOINT',
    },
    { env: { HEALTH_LISTEN_ADDR: '9808' }, setting: 'HEALTH_LISTEN_ADDR' },
  ])('refuses $env as $setting', ({ env, setting }) => {
    const err = configErrorOf(() => loadNodeConfig([], env));
    expect(err.setting).toBe(setting);
  });

  it('are listed in --help', () => {
    expect(Object.keys(SETTINGS.node)).toEqual(
      expect.arrayContaining(['PLUGIN_REGISTRATION_DIR', 'KUBELET_CSI_ENDPOINT', 'HEALTH_LISTEN_ADDR']),
    );
  });
});
