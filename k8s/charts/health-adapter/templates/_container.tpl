{{/*
"health-adapter.container": the health-adapter container, to put into your own pod spec. In a chart that depends on this one:
  initContainers:   # Kubernetes >= 1.29: a native sidecar (starts first, stops last)
    {{- include "health-adapter.container" (dict "root" $ "values" .Values.healthAdapter "native" true) | nindent 4 }}
  volumes:
    {{- include "health-adapter.volumes" (dict "root" $ "values" .Values.healthAdapter) | nindent 4 }}
With "native" false the same block goes under containers: (older clusters).
*/}}
{{- define "health-adapter.container" -}}
{{- include "dds-lib.container" (dict "root" .root "component" "health-adapter" "values" .values "native" .native "args" (include "health-adapter.args" .values | fromYamlArray) "volumeMounts" (include "health-adapter.volumeMounts" .values | fromYamlArray)) -}}
{{- end -}}

{{- define "health-adapter.volumes" -}}
{{- include "dds-lib.configVolumes" (dict "root" .root "component" "health-adapter" "values" .values) }}
{{- include "health-adapter.extraVolumes" .values }}
{{- end -}}

{{/* Flags, mounts and volumes only health-adapter needs (the rest is in dds-lib). */}}
{{- define "health-adapter.args" -}}

{{- end -}}

{{- define "health-adapter.volumeMounts" -}}

{{- end -}}

{{- define "health-adapter.extraVolumes" -}}

{{- end -}}
