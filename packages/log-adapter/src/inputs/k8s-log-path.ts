import { basename } from 'node:path';

/**
 * Kubernetes metadata encoded in the kubelet's log file names, for a node-level adapter that
 * follows every container (per-pod sidecars get it from the Downward API instead):
 *   /var/log/containers/<pod>_<namespace>_<container>-<container id>.log
 *   /var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart>.log
 * Runs once per file, not per line.
 */
export function k8sFromPath(path: string): Record<string, string> {
  const containers = /^([^_]+)_([^_]+)_(.+)-([0-9a-f]{64})\.log$/.exec(basename(path));
  if (containers) {
    return {
      'k8s.pod.name': containers[1]!,
      'k8s.namespace.name': containers[2]!,
      'k8s.container.name': containers[3]!,
      'container.id': containers[4]!,
    };
  }
  const pods = /\/pods\/([^_/]+)_([^_/]+)_([0-9a-f-]{36})\/([^/]+)\/(\d+)\.log$/.exec(path);
  if (pods) {
    return {
      'k8s.namespace.name': pods[1]!,
      'k8s.pod.name': pods[2]!,
      'k8s.pod.uid': pods[3]!,
      'k8s.container.name': pods[4]!,
      'k8s.container.restart_count': pods[5]!,
    };
  }
  return {};
}
