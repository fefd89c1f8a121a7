{{/*
"shard-ambassador.container": the shard-ambassador container, to put into your own pod spec. In a chart that depends on this one:
  initContainers:   # Kubernetes >= 1.29: a native sidecar (starts first, stops last)
    {{- include "shard-ambassador.container" (dict "root" $ "values" .Values.shardAmbassador "native" true) | nindent 4 }}
  volumes:
    {{- include "shard-ambassador.volumes" (dict "root" $ "values" .Values.shardAmbassador) | nindent 4 }}
With "native" false the same block goes under containers: (older clusters).
*/}}
{{- define "shard-ambassador.container" -}}
{{- include "dds-lib.container" (dict "root" .root "component" "shard-ambassador" "values" .values "native" .native "args" (include "shard-ambassador.args" .values | fromYamlArray) "volumeMounts" (include "shard-ambassador.volumeMounts" .values | fromYamlArray)) -}}
{{- end -}}

{{- define "shard-ambassador.volumes" -}}
{{- include "dds-lib.configVolumes" (dict "root" .root "component" "shard-ambassador" "values" .values) }}
{{- include "shard-ambassador.extraVolumes" .values }}
{{- end -}}

{{/* Flags, mounts and volumes only shard-ambassador needs (the rest is in dds-lib). */}}
{{- define "shard-ambassador.args" -}}

{{- end -}}

{{- define "shard-ambassador.volumeMounts" -}}
{{- if .shardTls.secretName }}
- name: shard-ambassador-shard-tls
  mountPath: /etc/redis-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "shard-ambassador.extraVolumes" -}}
{{- if .shardTls.secretName }}
- name: shard-ambassador-shard-tls
  secret:
    secretName: {{ .shardTls.secretName }}
{{- end }}
{{- end -}}
