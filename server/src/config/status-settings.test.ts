import { describe, expect, it } from 'vitest';
import { loadNodeConfig } from './config.js';
import { configErrorOf } from './testing.js';

// ISSUER_PLAINTEXT: a node in a pod needs TLS settings for the issuer or an explicit opt-out.
const inPod = { KUBERNETES_SERVICE_HOST: '10.0.0.1', ISSUER_PLAINTEXT: 'true' };

describe('status objects and pod Events settings', () => {
  it.each([
    { name: 'no Kubernetes config: off', argv: [], env: {}, want: undefined },
    {
      name: 'in a pod: both on at 5/10',
      argv: [],
      env: inPod,
      want: { objects: true, events: true, qps: 5, burst: 10 },
    },
    {
      name: 'KUBECONFIG: both on',
      argv: ['--kubeconfig=/etc/kube/config'],
      env: {},
      want: { objects: true, events: true, qps: 5, burst: 10 },
    },
    {
      name: 'objects off, Events on, own rate',
      argv: ['--status-objects=false', '--status-qps=2.5', '--status-burst=3'],
      env: inPod,
      want: { objects: false, events: true, qps: 2.5, burst: 3 },
    },
    {
      name: 'both off in a pod',
      argv: ['--status-objects=false', '--pod-events=false'],
      env: inPod,
      want: undefined,
    },
  ])('$name', ({ argv, env, want }) => {
    expect(loadNodeConfig(argv, env).status).toEqual(want);
  });

  it('takes KUBECONFIG', () => {
    expect(loadNodeConfig([], { KUBECONFIG: '/k' }).kubeconfig).toBe('/k');
  });

  it.each([
    { argv: ['--status-objects=true'], env: {}, setting: 'STATUS_OBJECTS', msg: /no Kubernetes config/ },
    { argv: ['--pod-events=true'], env: {}, setting: 'POD_EVENTS', msg: /no Kubernetes config/ },
    { argv: ['--status-objects=yes'], env: inPod, setting: 'STATUS_OBJECTS', msg: /auto/ },
    { argv: ['--status-qps=0'], env: inPod, setting: 'STATUS_QPS', msg: /requests per second/ },
    { argv: ['--status-qps=fast'], env: inPod, setting: 'STATUS_QPS', msg: /requests per second/ },
    { argv: ['--status-qps=1001'], env: inPod, setting: 'STATUS_QPS', msg: /requests per second/ },
    { argv: ['--status-burst=0'], env: inPod, setting: 'STATUS_BURST', msg: /between 1 and 1000/ },
    { argv: ['--status-burst=2.5'], env: inPod, setting: 'STATUS_BURST', msg: /whole number/ },
  ])('rejects $argv with a ConfigError naming $setting', ({ argv, env, setting, msg }) => {
    const err = configErrorOf(() => loadNodeConfig(argv, env));
    expect(err).toHaveProperty('setting', setting);
    expect(err.message).toMatch(msg);
  });
});
