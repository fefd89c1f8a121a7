{{/*
Pod mode (app.sidecarMode: pod): the enabled sidecar components of the app pod run in one dds/pod
container (one Node, one admin port, one /metrics, one drain) instead of one container each. Its
pod file holds one section per component, made from the same values that component's chart
takes, so switching modes changes no setting:
  config / configText   the section's base (the component's own YAML file; for the shard
                        ambassador a nutcracker.yaml)
  listenHost + ports    listen: HOST:PORT, as the container's --listen
  flags, the chart's own arguments (tls.secretName -> --tls-dir), extraArgs
                        each flag at its YAML path (files/flag-paths.json, generated from the
                        settings by scripts/config-docs.mjs), later ones winning as on a command
                        line; the shard ambassador's under dds:
admin, workers and the drain timings are the pod's (pod.*): a component that sets them fails
the render, and so does one with env (environment variables do not reach pod sections).
*/}}

{{/* The components of the app pod: [{key, chart}] of the enabled ones in app.sidecars. */}}
{{- define "dds.podMembers" -}}
{{- $charts := dict
  "tlsSidecar" "tls-sidecar"
  "shardAmbassador" "shard-ambassador"
  "experimentSplitter" "experiment-splitter"
  "rateLimiter" "rate-limiter"
  "metricsAdapter" "metrics-adapter"
  "logAdapter" "log-adapter"
  "healthAdapter" "health-adapter"
}}
{{- $out := list }}
{{- range .Values.app.sidecars }}
{{- $v := index $.Values . }}
{{- if $v.enabled }}{{ $out = append $out (dict "key" . "chart" (index $charts .)) }}{{ end }}
{{- end }}
{{- toJson $out }}
{{- end -}}

{{/* Sets one flag's value at its YAML path in .into; .value may be text from an argument list. */}}
{{- define "dds.podSetFlag" -}}
{{- $spec := index .paths .name | default dict }}
{{- if not $spec.path }}{{ fail (printf "%s: unknown flag --%s (see the component's --help)" .key .name) }}{{ end }}
{{- if has .name (list "admin" "workers" "shutdown-delay" "drain-timeout" "reload-interval" "config") }}
{{- fail (printf "%s: --%s is set once for the whole pod in pod mode (pod.* values)" .key .name) }}
{{- end }}
{{- $v := .value }}
{{- if kindIs "string" $v }}
{{- if eq $spec.type "list" }}{{ $v = splitList "," $v }}
{{- else if eq $spec.type "boolean" }}{{ $v = ne $v "false" }}
{{- else if eq $spec.type "number" }}{{ $v = float64 $v }}
{{- end }}
{{- end }}
{{- $target := .into }}
{{- /* the shard ambassador's settings sit under dds: by flag name, camel-cased */}}
{{- $parts := .shard | ternary (list (include "dds.podCamel" .name)) (splitList "." $spec.path) }}
{{- range $i, $p := initial $parts }}
{{- if not (hasKey $target $p) }}{{ $_ := set $target $p dict }}{{ end }}
{{- $target = index $target $p }}
{{- end }}
{{- $_ := set $target (last $parts) $v }}
{{- end -}}

{{/* min-tls-version -> minTlsVersion */}}
{{- define "dds.podCamel" -}}
{{- $parts := splitList "-" . }}
{{- first $parts }}{{ range rest $parts }}{{ title . }}{{ end }}
{{- end -}}

{{/* One component's pod section, as YAML. Takes dict root, key (its values key), chart. */}}
{{- define "dds.podSection" -}}
{{- $v := index .root.Values .key }}
{{- $paths := index (.root.Files.Get "files/flag-paths.json" | fromJson) .chart }}
{{- $shard := eq .chart "shard-ambassador" }}
{{- if $v.env }}{{ fail (printf "%s.env: environment variables do not reach a component in pod mode; use flags or config" .key) }}{{ end }}
{{- $section := dict }}
{{- if $v.configText }}{{ $section = $v.configText | fromYaml }}
{{- else if $v.config }}{{ $section = deepCopy $v.config }}{{ end }}
{{- $into := $section }}
{{- if $shard }}
{{- if not (hasKey $section "dds") }}{{ $_ := set $section "dds" dict }}{{ end }}
{{- $into = index $section "dds" }}
{{- end }}
{{- $args := list }}
{{- if and $v.listenHost $v.ports }}
{{- $args = append $args (dict "name" "listen" "value" (printf "%s:%v" $v.listenHost (first $v.ports).containerPort)) }}
{{- end }}
{{- range $name, $value := $v.flags }}
{{- if and (not (kindIs "invalid" $value)) (ne (toString $value) "") (not (and (kindIs "slice" $value) (empty $value))) }}
{{- $args = append $args (dict "name" $name "value" $value) }}
{{- end }}
{{- end }}
{{- range concat (include (printf "%s.args" .chart) $v | fromYamlArray) ($v.extraArgs | default list) }}
{{- $kv := splitn "=" 2 (trimPrefix "--" .) }}
{{- $args = append $args (dict "name" $kv._0 "value" (contains "=" . | ternary $kv._1 "true")) }}
{{- end }}
{{- range $args }}
{{- include "dds.podSetFlag" (dict "paths" $paths "name" .name "value" .value "into" $into "key" $.key "shard" $shard) }}
{{- end }}
{{- if and $shard (empty (index $section "dds")) }}{{ $_ := unset $section "dds" }}{{ end }}
{{- toYaml $section }}
{{- end -}}

{{/* The dds/pod container's values, as dds-lib.container takes them. */}}
{{- define "dds.podValues" -}}
{{- $p := .Values.pod }}
{{- $components := dict }}
{{- $ports := list }}
{{- range include "dds.podMembers" . | fromJsonArray }}
{{- $v := index $.Values .key }}
{{- $_ := set $components .chart (include "dds.podSection" (dict "root" $ "key" .key "chart" .chart) | fromYaml) }}
{{- range $v.ports }}
{{- $ports = append $ports (dict "name" .name "fullName" (printf "%s-%s" $v.portPrefix .name | trunc 15 | trimSuffix "-") "containerPort" .containerPort "protocol" (.protocol | default "TCP")) }}
{{- end }}
{{- end }}
{{- $file := dict "logLevel" $p.logLevel "components" $components }}
{{- with $p.shutdownDelay }}{{ $_ := set $file "shutdownDelay" . }}{{ end }}
{{- with $p.drainTimeout }}{{ $_ := set $file "drainTimeout" . }}{{ end }}
{{- $values := merge (dict "ports" $ports "config" $file "configText" "" "configFile" "pod.yaml" "configFlag" "--config" "portPrefix" "pod" "flags" dict) (omit $p "logLevel" "shutdownDelay" "drainTimeout") }}
{{- toYaml $values }}
{{- end -}}

{{/* Volumes the member components mount (their certificates, the app's logs), not their own config. */}}
{{- define "dds.podExtraVolumes" -}}
{{- $out := list }}
{{- range include "dds.podMembers" . | fromJsonArray }}
{{- $out = concat $out (include (printf "%s.extraVolumes" .chart) (index $.Values .key) | fromYamlArray) }}
{{- end }}
{{- with $out }}{{ toYaml . }}{{ end }}
{{- end -}}

{{- define "dds.podVolumeMounts" -}}
{{- $out := list }}
{{- range include "dds.podMembers" . | fromJsonArray }}
{{- $out = concat $out (include (printf "%s.volumeMounts" .chart) (index $.Values .key) | fromYamlArray) }}
{{- end }}
{{- with $out }}{{ toYaml . }}{{ end }}
{{- end -}}
