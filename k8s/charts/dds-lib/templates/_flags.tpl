{{/*
.values.flags (a map of flag name -> value) as command-line arguments, sorted by name:
  string/number -> --name=value   list -> --name=a,b   true -> --name   false -> --name=false
  null or ""    -> left out (the component's default applies)
Every flag of a component is listed in its --help and README.
*/}}
{{- define "dds-lib.flagArgs" -}}
{{- range $name, $value := . }}
{{- if kindIs "slice" $value }}
{{- if $value }}
- {{ printf "--%s=%s" $name (join "," $value) | quote }}
{{- end }}
{{- else if kindIs "bool" $value }}
- {{ ternary (printf "--%s" $name) (printf "--%s=false" $name) $value | quote }}
{{- else if and (not (kindIs "invalid" $value)) (ne (toString $value) "") }}
- {{ printf "--%s=%v" $name $value | quote }}
{{- end }}
{{- end }}
{{- end -}}
