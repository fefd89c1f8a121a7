{{/*
A standalone Deployment + Service for a component that runs on its own (a shared ambassador, a
standalone splitter). Takes the same dict as dds-lib.container plus:
  volumes: extra pod volumes (list)
Rendered only when .values.deployment.enabled.
*/}}
{{- define "dds-lib.deployment" -}}
{{- $v := .values -}}
{{- if $v.deployment.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "dds-lib.fullname" . }}
  labels:
    {{- include "dds-lib.labels" . | nindent 4 }}
spec:
  replicas: {{ $v.deployment.replicas | default 2 }}
  selector:
    matchLabels:
      {{- include "dds-lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "dds-lib.selectorLabels" . | nindent 8 }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $v.admin.port | quote }}
        {{- if include "dds-lib.hasConfig" . }}
        checksum/config: {{ include "dds-lib.configMap" . | sha256sum }}
        {{- end }}
    spec:
      automountServiceAccountToken: false
      securityContext:
        {{- include "dds-lib.podSecurityContext" $v | nindent 8 }}
      terminationGracePeriodSeconds: {{ $v.deployment.terminationGracePeriodSeconds | default 40 }}
      containers:
        {{- include "dds-lib.container" (omit . "native") | nindent 8 }}
      volumes:
        {{- include "dds-lib.configVolumes" . | nindent 8 }}
        {{- with .volumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end }}
{{- end -}}

{{- define "dds-lib.service" -}}
{{- $v := .values -}}
{{- $prefix := $v.portPrefix | default .component -}}
{{- if and $v.deployment.enabled $v.service.enabled $v.ports }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "dds-lib.fullname" . }}
  labels:
    {{- include "dds-lib.labels" . | nindent 4 }}
spec:
  type: {{ $v.service.type | default "ClusterIP" }}
  selector:
    {{- include "dds-lib.selectorLabels" . | nindent 4 }}
  ports:
    {{- range $v.ports }}
    - name: {{ .name }}
      port: {{ .servicePort | default .containerPort }}
      targetPort: {{ printf "%s-%s" $prefix .name | trunc 15 | trimSuffix "-" }}
      protocol: {{ .protocol | default "TCP" }}
    {{- end }}
{{- end }}
{{- end -}}
