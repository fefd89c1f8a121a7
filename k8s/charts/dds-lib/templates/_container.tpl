{{/*
One dds container, the block users put into their own pod spec. Takes a dict:
  root:         the chart's root context ($)
  component:    the dds component name; also the container name
  values:       the component's values (image, admin, ports, args, env, resources, probes, ...)
  args:         component-specific flags computed by the subchart (list of strings, optional)
  volumeMounts: extra volume mounts (list)
  native:       true to render a Kubernetes native sidecar (for initContainers; restartPolicy: Always)
Port names carry the component's short prefix (.values.portPrefix) so that several dds sidecars
fit into one pod: container port names must be unique within a pod.
*/}}
{{- define "dds-lib.container" -}}
{{- $v := .values -}}
{{- $prefix := $v.portPrefix | default .component -}}
- name: {{ .component }}
  image: {{ printf "%s:%s" $v.image.repository ($v.image.tag | default .root.Chart.AppVersion) | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy | default "IfNotPresent" }}
  {{- if .native }}
  restartPolicy: Always
  {{- end }}
  args:
    {{- with include "dds-lib.configArgs" . | trim }}
    {{- . | nindent 4 }}
    {{- end }}
    - {{ printf "--admin=0.0.0.0:%v" $v.admin.port | quote }}
    {{- if and $v.listenHost $v.ports }}
    - {{ printf "--listen=%s:%v" $v.listenHost (first $v.ports).containerPort | quote }}
    {{- end }}
    {{- with include "dds-lib.flagArgs" $v.flags | trim }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- range .args }}
    - {{ . | quote }}
    {{- end }}
    {{- range $v.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  {{- $nodeOptions := include "dds-lib.nodeOptions" $v | trim }}
  {{- if or $v.env $nodeOptions }}
  env:
    {{- with $nodeOptions }}
    - name: NODE_OPTIONS
      value: {{ . | quote }}
    {{- end }}
    {{- with $v.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  ports:
    {{- range $v.ports }}
    - name: {{ .fullName | default (printf "%s-%s" $prefix .name | trunc 15 | trimSuffix "-") }}
      containerPort: {{ .containerPort }}
      protocol: {{ .protocol | default "TCP" }}
    {{- end }}
    - name: {{ printf "%s-admin" $prefix | trunc 15 | trimSuffix "-" }}
      containerPort: {{ $v.admin.port }}
      protocol: TCP
  {{- with include "dds-lib.probes" $v | trim }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- with $v.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- include "dds-lib.securityContext" $v | nindent 4 }}
  volumeMounts:
    {{- include "dds-lib.configVolumeMounts" . | nindent 4 }}
    {{- with .volumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
