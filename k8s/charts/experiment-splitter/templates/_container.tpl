{{/*
"experiment-splitter.container": the experiment-splitter container, to put into your own pod spec. In a chart that depends on this one:
  initContainers:   # Kubernetes >= 1.29: a native sidecar (starts first, stops last)
    {{- include "experiment-splitter.container" (dict "root" $ "values" .Values.experimentSplitter "native" true) | nindent 4 }}
  volumes:
    {{- include "experiment-splitter.volumes" (dict "root" $ "values" .Values.experimentSplitter) | nindent 4 }}
With "native" false the same block goes under containers: (older clusters).
*/}}
{{- define "experiment-splitter.container" -}}
{{- include "dds-lib.container" (dict "root" .root "component" "experiment-splitter" "values" .values "native" .native "args" (include "experiment-splitter.args" .values | fromYamlArray) "volumeMounts" (include "experiment-splitter.volumeMounts" .values | fromYamlArray)) -}}
{{- end -}}

{{- define "experiment-splitter.volumes" -}}
{{- include "dds-lib.configVolumes" (dict "root" .root "component" "experiment-splitter" "values" .values) }}
{{- include "experiment-splitter.extraVolumes" .values }}
{{- end -}}

{{/* Flags, mounts and volumes only experiment-splitter needs (the rest is in dds-lib). */}}
{{- define "experiment-splitter.args" -}}

{{- end -}}

{{- define "experiment-splitter.volumeMounts" -}}

{{- end -}}

{{- define "experiment-splitter.extraVolumes" -}}

{{- end -}}
