{{/*
Probes on the component's admin server: /healthz (liveness: the process is alive), /readyz
(readiness: turns 503 at once on SIGTERM and while upstreams are not ready) and a startup probe.
Takes the component's values (uses .admin.port and .probes).
*/}}
{{- define "dds-lib.probes" -}}
{{- $p := .probes | default dict -}}
{{- if ne $p.enabled false }}
startupProbe:
  httpGet: { path: /healthz, port: {{ .admin.port }} }
  periodSeconds: 1
  failureThreshold: {{ $p.startupFailureThreshold | default 30 }}
livenessProbe:
  httpGet: { path: /healthz, port: {{ .admin.port }} }
  periodSeconds: {{ $p.periodSeconds | default 10 }}
  timeoutSeconds: {{ $p.timeoutSeconds | default 2 }}
  failureThreshold: {{ $p.livenessFailureThreshold | default 3 }}
readinessProbe:
  httpGet: { path: /readyz, port: {{ .admin.port }} }
  periodSeconds: {{ $p.readinessPeriodSeconds | default 5 }}
  timeoutSeconds: {{ $p.timeoutSeconds | default 2 }}
  failureThreshold: {{ $p.readinessFailureThreshold | default 2 }}
{{- end }}
{{- end -}}
