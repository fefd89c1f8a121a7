{{/*
"rate-limiter.container": the rate-limiter container, to put into your own pod spec. In a chart that depends on this one:
  initContainers:   # Kubernetes >= 1.29: a native sidecar (starts first, stops last)
    {{- include "rate-limiter.container" (dict "root" $ "values" .Values.rateLimiter "native" true) | nindent 4 }}
  volumes:
    {{- include "rate-limiter.volumes" (dict "root" $ "values" .Values.rateLimiter) | nindent 4 }}
With "native" false the same block goes under containers: (older clusters).
*/}}
{{- define "rate-limiter.container" -}}
{{- include "dds-lib.container" (dict "root" .root "component" "rate-limiter" "values" .values "native" .native "args" (include "rate-limiter.args" .values | fromYamlArray) "volumeMounts" (include "rate-limiter.volumeMounts" .values | fromYamlArray)) -}}
{{- end -}}

{{- define "rate-limiter.volumes" -}}
{{- include "dds-lib.configVolumes" (dict "root" .root "component" "rate-limiter" "values" .values) }}
{{- include "rate-limiter.extraVolumes" .values }}
{{- end -}}

{{/* Flags, mounts and volumes only rate-limiter needs (the rest is in dds-lib). */}}
{{- define "rate-limiter.args" -}}

{{- end -}}

{{- define "rate-limiter.volumeMounts" -}}

{{- end -}}

{{- define "rate-limiter.extraVolumes" -}}

{{- end -}}
