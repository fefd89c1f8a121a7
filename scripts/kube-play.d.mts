// Types of scripts/kube-play.mjs for the tests that use its rewrite (test/e2e, test/helm).
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are free-form YAML
export type K8sObject = Record<string, any>;
export function forPodman(docs: K8sObject[], opts?: { publish?: Record<number, number> }): K8sObject[];
export function podNames(docs: K8sObject[]): string[];
