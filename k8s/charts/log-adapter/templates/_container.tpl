{{/*
"log-adapter.container": the log-adapter container, to put into your own pod spec. In a chart that depends on this one:
  initContainers:   # Kubernetes >= 1.29: a native sidecar (starts first, stops last)
    {{- include "log-adapter.container" (dict "root" $ "values" .Values.logAdapter "native" true) | nindent 4 }}
  volumes:
    {{- include "log-adapter.volumes" (dict "root" $ "values" .Values.logAdapter) | nindent 4 }}
With "native" false the same block goes under containers: (older clusters).
*/}}
{{- define "log-adapter.container" -}}
{{- include "dds-lib.container" (dict "root" .root "component" "log-adapter" "values" .values "native" .native "args" (include "log-adapter.args" .values | fromYamlArray) "volumeMounts" (include "log-adapter.volumeMounts" .values | fromYamlArray)) -}}
{{- end -}}

{{- define "log-adapter.volumes" -}}
{{- include "dds-lib.configVolumes" (dict "root" .root "component" "log-adapter" "values" .values) }}
{{- include "log-adapter.extraVolumes" .values }}
{{- end -}}

{{/* Flags, mounts and volumes only log-adapter needs (the rest is in dds-lib). */}}
{{- define "log-adapter.args" -}}

{{- end -}}

{{- define "log-adapter.volumeMounts" -}}
- name: {{ .logVolume.name }}
  mountPath: {{ .logVolume.mountPath }}
  readOnly: true
{{- end -}}

{{- define "log-adapter.extraVolumes" -}}

{{- end -}}
