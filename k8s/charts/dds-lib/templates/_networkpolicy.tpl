{{/*
An optional NetworkPolicy (off by default) for a pod that runs dds containers. Takes a dict:
  root, component: as everywhere (the policy's name and the pod's selector labels)
  policy:     the networkPolicy values: enabled, dataFrom, adminFrom, kubeletCidrs
  dataPorts:  the pod's data ports (list of {containerPort, protocol})
  adminPorts: the dds admin ports (list of integers): /healthz, /readyz, /metrics, /config ...
Ingress to the data ports comes from dataFrom (empty: from anywhere). Ingress to the admin ports
comes only from adminFrom (e.g. Prometheus) and kubeletCidrs; with both empty nothing in the
cluster reaches them. Most CNIs never apply policies to the kubelet's own probes; on those that do,
list the nodes' CIDRs in kubeletCidrs.
*/}}
{{- define "dds-lib.networkPolicy" -}}
{{- $p := .policy | default dict -}}
{{- if $p.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "dds-lib.fullname" . }}
  labels:
    {{- include "dds-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "dds-lib.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress]
  {{- $admin := and .adminPorts (or $p.adminFrom $p.kubeletCidrs) }}
  {{- if or .dataPorts $admin }}
  ingress:
    {{- if .dataPorts }}
    - ports:
        {{- range .dataPorts }}
        - port: {{ .containerPort }}
          protocol: {{ .protocol | default "TCP" }}
        {{- end }}
      {{- with $p.dataFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- if $admin }}
    - ports:
        {{- range .adminPorts }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      from:
        {{- with $p.adminFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- range $p.kubeletCidrs }}
        - ipBlock:
            cidr: {{ . | quote }}
        {{- end }}
    {{- end }}
  {{- else }}
  ingress: []
  {{- end }}
{{- end }}
{{- end -}}
