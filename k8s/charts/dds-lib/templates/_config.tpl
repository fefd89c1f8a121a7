{{/*
The component's YAML config file: .values.config (a map) becomes a ConfigMap mounted at
/etc/dds/config/<configFile> and passed with --config (or the component's own file flag). The mount is a
directory, so Kubernetes' atomic ..data symlink swap reaches the component and it hot-reloads.
*/}}

{{- define "dds-lib.configName" -}}
{{- printf "%s-config" (include "dds-lib.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dds-lib.hasConfig" -}}
{{- if or .values.config .values.configText }}true{{ end -}}
{{- end -}}

{{- define "dds-lib.configMap" -}}
{{- if include "dds-lib.hasConfig" . }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "dds-lib.configName" . }}
  labels:
    {{- include "dds-lib.labels" . | nindent 4 }}
data:
  {{ .values.configFile | default "config.yaml" }}: |
    {{- if .values.configText }}
    {{- .values.configText | nindent 4 }}
    {{- else }}
    {{- toYaml .values.config | nindent 4 }}
    {{- end }}
{{- end }}
{{- end -}}

{{- define "dds-lib.configArgs" -}}
{{- if include "dds-lib.hasConfig" . }}
- {{ printf "%s=/etc/dds/config/%s" (.values.configFlag | default "--config") (.values.configFile | default "config.yaml") | quote }}
{{- end }}
{{- end -}}

{{- define "dds-lib.configVolumeMounts" -}}
- name: {{ .component }}-tmp
  mountPath: /tmp
{{- if include "dds-lib.hasConfig" . }}
- name: {{ .component }}-config
  mountPath: /etc/dds/config
  readOnly: true
{{- end }}
{{- end -}}

{{- define "dds-lib.configVolumes" -}}
- name: {{ .component }}-tmp
  emptyDir:
    sizeLimit: 16Mi
{{- if include "dds-lib.hasConfig" . }}
- name: {{ .component }}-config
  configMap:
    name: {{ include "dds-lib.configName" . }}
{{- end }}
{{- end -}}
