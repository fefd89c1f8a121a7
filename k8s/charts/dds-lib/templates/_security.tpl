{{/*
Security contexts: the images run as uid 65532 with a read-only root filesystem and no capabilities.
Users may override single fields with .values.securityContext / .values.podSecurityContext.
*/}}

{{- define "dds-lib.securityContext" -}}
{{- $default := dict "runAsNonRoot" true "runAsUser" 65532 "runAsGroup" 65532 "readOnlyRootFilesystem" true "allowPrivilegeEscalation" false "capabilities" (dict "drop" (list "ALL")) "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml (mergeOverwrite $default (deepCopy (.securityContext | default dict))) -}}
{{- end -}}

{{- define "dds-lib.podSecurityContext" -}}
{{- $default := dict "runAsNonRoot" true "runAsUser" 65532 "runAsGroup" 65532 "fsGroup" 65532 "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml (mergeOverwrite $default (deepCopy (.podSecurityContext | default dict))) -}}
{{- end -}}
