{{/*
"metrics-adapter.container": the metrics-adapter container, to put into your own pod spec. In a chart that depends on this one:
  initContainers:   # Kubernetes >= 1.29: a native sidecar (starts first, stops last)
    {{- include "metrics-adapter.container" (dict "root" $ "values" .Values.metricsAdapter "native" true) | nindent 4 }}
  volumes:
    {{- include "metrics-adapter.volumes" (dict "root" $ "values" .Values.metricsAdapter) | nindent 4 }}
With "native" false the same block goes under containers: (older clusters).
*/}}
{{- define "metrics-adapter.container" -}}
{{- include "dds-lib.container" (dict "root" .root "component" "metrics-adapter" "values" .values "native" .native "args" (include "metrics-adapter.args" .values | fromYamlArray) "volumeMounts" (include "metrics-adapter.volumeMounts" .values | fromYamlArray)) -}}
{{- end -}}

{{- define "metrics-adapter.volumes" -}}
{{- include "dds-lib.configVolumes" (dict "root" .root "component" "metrics-adapter" "values" .values) }}
{{- include "metrics-adapter.extraVolumes" .values }}
{{- end -}}

{{/* Flags, mounts and volumes only metrics-adapter needs (the rest is in dds-lib). */}}
{{- define "metrics-adapter.args" -}}

{{- end -}}

{{- define "metrics-adapter.volumeMounts" -}}

{{- end -}}

{{- define "metrics-adapter.extraVolumes" -}}

{{- end -}}
