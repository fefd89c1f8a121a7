{{/*
"tls-sidecar.container": the tls-sidecar container, to put into your own pod spec. In a chart that depends on this one:
  initContainers:   # Kubernetes >= 1.29: a native sidecar (starts first, stops last)
    {{- include "tls-sidecar.container" (dict "root" $ "values" .Values.tlsSidecar "native" true) | nindent 4 }}
  volumes:
    {{- include "tls-sidecar.volumes" (dict "root" $ "values" .Values.tlsSidecar) | nindent 4 }}
With "native" false the same block goes under containers: (older clusters).
*/}}
{{- define "tls-sidecar.container" -}}
{{- include "dds-lib.container" (dict "root" .root "component" "tls-sidecar" "values" .values "native" .native "args" (include "tls-sidecar.args" .values | fromYamlArray) "volumeMounts" (include "tls-sidecar.volumeMounts" .values | fromYamlArray)) -}}
{{- end -}}

{{- define "tls-sidecar.volumes" -}}
{{- include "dds-lib.configVolumes" (dict "root" .root "component" "tls-sidecar" "values" .values) }}
{{- include "tls-sidecar.extraVolumes" .values }}
{{- end -}}

{{/* Flags, mounts and volumes only tls-sidecar needs (the rest is in dds-lib). */}}
{{- define "tls-sidecar.args" -}}
{{- if .tls.secretName }}
- --tls-dir=/etc/dds/tls
{{- end }}
{{- end -}}

{{- define "tls-sidecar.volumeMounts" -}}
{{- if .tls.secretName }}
- name: tls-sidecar-certs
  mountPath: /etc/dds/tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "tls-sidecar.extraVolumes" -}}
{{- if .tls.secretName }}
- name: tls-sidecar-certs
  secret:
    secretName: {{ .tls.secretName }}
{{- end }}
{{- end -}}
