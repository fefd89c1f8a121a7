{{/*
V8 heap sizing from the container's memory limit (values.resources.limits.memory), as NODE_OPTIONS:
  --max-old-space-size   half the limit: code, buffers, TLS and the young generation live outside it
  --max-semi-space-size  1 MB up to a 128Mi limit, 2 MB up to 512Mi, V8's own sizing above: a
                         sidecar's young generation otherwise grows to 3 x 16 MB under load
Measured (docs/benchmarks.md, Footprint): semi-space 2 MB costs no measurable throughput on the HTTP
hot paths; 1 MB a few percent. values.v8SemiSpaceMb replaces that rule where a component measured
another size (the log-adapter: 16 MB; smaller cost it 15% or more CPU per line). Off with values.v8Sizing:
false, or when env sets NODE_OPTIONS.
*/}}
{{- define "dds-lib.memoryMi" -}}
{{- $q := toString . -}}
{{- if hasSuffix "Gi" $q -}}{{ mul (trimSuffix "Gi" $q | atoi) 1024 }}
{{- else if hasSuffix "Mi" $q -}}{{ trimSuffix "Mi" $q | atoi }}
{{- else if hasSuffix "Ki" $q -}}{{ div (trimSuffix "Ki" $q | atoi) 1024 }}
{{- else if hasSuffix "G" $q -}}{{ div (mul (trimSuffix "G" $q | atoi) 1000000000) 1048576 }}
{{- else if hasSuffix "M" $q -}}{{ div (mul (trimSuffix "M" $q | atoi) 1000000) 1048576 }}
{{- else -}}{{ div ($q | atoi) 1048576 }}
{{- end -}}
{{- end -}}

{{- define "dds-lib.nodeOptions" -}}
{{- $v := . -}}
{{- $limit := dig "limits" "memory" "" ($v.resources | default dict) -}}
{{- $own := false -}}
{{- range $v.env }}{{ if eq .name "NODE_OPTIONS" }}{{ $own = true }}{{ end }}{{ end -}}
{{- if and $limit (ne $v.v8Sizing false) (not $own) -}}
{{- $mi := include "dds-lib.memoryMi" $limit | atoi -}}
{{- $old := div $mi 2 -}}
{{- if $v.v8SemiSpaceMb -}}--max-old-space-size={{ $old }} --max-semi-space-size={{ $v.v8SemiSpaceMb }}
{{- else if le $mi 128 -}}--max-old-space-size={{ $old }} --max-semi-space-size=1
{{- else if le $mi 512 -}}--max-old-space-size={{ $old }} --max-semi-space-size=2
{{- else -}}--max-old-space-size={{ $old }}
{{- end -}}
{{- end -}}
{{- end -}}
