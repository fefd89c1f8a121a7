import { describe, expect, it } from 'vitest';
import { k8sFromPath } from './k8s-log-path.js';

describe('k8sFromPath', () => {
  it('reads pod, namespace and container from kubelet log paths', () => {
    const id = 'a'.repeat(64);
    expect(k8sFromPath(`/var/log/containers/web-5d8f7c9b6-x2k4p_shop_nginx-${id}.log`)).toEqual({
      'k8s.pod.name': 'web-5d8f7c9b6-x2k4p',
      'k8s.namespace.name': 'shop',
      'k8s.container.name': 'nginx',
      'container.id': id,
    });
    expect(k8sFromPath('/var/log/pods/shop_web-0_0b5e7c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b/redis/3.log')).toEqual({
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'web-0',
      'k8s.pod.uid': '0b5e7c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b',
      'k8s.container.name': 'redis',
      'k8s.container.restart_count': '3',
    });
    expect(k8sFromPath('/logs/app.log')).toEqual({});
  });
});
