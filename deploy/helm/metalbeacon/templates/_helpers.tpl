{{/* Labels on every object (metadata only; selectors use metalbeacon.selectorLabels). */}}
{{- define "metalbeacon.labels" -}}
app.kubernetes.io/name: metalbeacon
app.kubernetes.io/part-of: metalbeacon
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: fixed by the speaker contract, no release name. */}}
{{- define "metalbeacon.selectorLabels" -}}
app.kubernetes.io/name: metalbeacon
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image of a component: its own override, else the chart-wide image. Arg: dict root, component values. */}}
{{- define "metalbeacon.image" -}}
{{- $image := merge (dict) (.values.image | default dict) .root.Values.image -}}
{{- printf "%s:%s" $image.repository (($image.tag | toString) | default .root.Chart.AppVersion) -}}
{{- end -}}

{{/*
Objects from config/ (files/crd and files/rbac link there, so the chart always ships the
repository's CRDs and RBAC): each YAML document with the chart's labels added, the
namespace set to the release namespace (also in ServiceAccount subjects), and the
Namespace object dropped (Helm installs into an existing or --create-namespace namespace).
Arg: dict root, glob, annotations.
*/}}
{{- define "metalbeacon.configObjects" -}}
{{- $root := .root -}}
{{- $annotations := .annotations -}}
{{- range $path, $_ := $root.Files.Glob .glob }}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" ($root.Files.Get $path) -1 }}
{{- $obj := fromYaml $doc }}
{{- if hasKey $obj "Error" }}
{{- fail (printf "%s: %s" $path $obj.Error) }}
{{- end }}
{{- if and $obj.kind (ne $obj.kind "Namespace") }}
{{- $meta := $obj.metadata }}
{{- $_ := set $meta "labels" (merge (dict) (include "metalbeacon.labels" $root | fromYaml) ($meta.labels | default dict)) }}
{{- if $annotations }}
{{- $_ := set $meta "annotations" (merge (dict) $annotations ($meta.annotations | default dict)) }}
{{- end }}
{{- if hasKey $meta "namespace" }}
{{- $_ := set $meta "namespace" $root.Release.Namespace }}
{{- end }}
{{- range $subject := ($obj.subjects | default list) }}
{{- if eq $subject.kind "ServiceAccount" }}
{{- $_ := set $subject "namespace" $root.Release.Namespace }}
{{- end }}
{{- end }}
{{- if and (eq $obj.kind "Role") (eq $meta.name "speaker") }}
{{- include "metalbeacon.speakerSecretRules" (dict "root" $root "role" $obj) }}
{{- end }}
---
# Source: {{ $path }}
{{ toYaml $obj }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The speaker Role's Secret rules follow the values (it reads Secrets by name only): the rule on
the membership Secret names speaker.membership.secretName, and speaker.bgpPasswordSecrets adds
a rule naming the BGPPeers' password Secrets. Never a Secret rule without resourceNames (that
would allow every Secret). Mutates the role in place. Arg: dict root, role.
*/}}
{{- define "metalbeacon.speakerSecretRules" -}}
{{- $s := .root.Values.speaker }}
{{- range $rule := .role.rules }}
{{- if has "secrets" ($rule.resources | default list) }}
{{- $_ := set $rule "resourceNames" (list $s.membership.secretName) }}
{{- end }}
{{- end }}
{{- with $s.bgpPasswordSecrets }}
{{- $rule := dict "apiGroups" (list "") "resources" (list "secrets") "resourceNames" . "verbs" (list "get") }}
{{- $_ := set $.role "rules" (append $.role.rules $rule) }}
{{- end }}
{{- end -}}

{{/*
Where a program serves /metrics, /healthz and /readyz: its own address from the downward API
(brackets: it may be IPv6), or 127.0.0.1 behind the metrics proxy. Arg: dict root, port,
upstreamPort, addressVar (HOST_IP or POD_IP).
*/}}
{{- define "metalbeacon.metricsListen" -}}
{{- if .root.Values.metricsProxy.enabled -}}
127.0.0.1:{{ .upstreamPort }}
{{- else -}}
[$({{ .addressVar }})]:{{ .port }}
{{- end -}}
{{- end -}}

{{/*
The kubelet's probes of a program: its metrics port by name, or through the proxy (HTTPS on
the port number: the port is the sidecar's). Arg: dict root, port.
*/}}
{{- define "metalbeacon.probes" -}}
{{- $proxy := .root.Values.metricsProxy.enabled -}}
{{- range $probe := list (list "livenessProbe" "/healthz" 10) (list "readinessProbe" "/readyz" 5) }}
{{ index $probe 0 }}:
  httpGet:
    path: {{ index $probe 1 }}
    port: {{ if $proxy }}{{ $.port }}{{ else }}metrics{{ end }}
    {{- if $proxy }}
    scheme: HTTPS
    {{- end }}
  periodSeconds: {{ index $probe 2 }}
  failureThreshold: 3
{{- end }}
{{- end -}}

{{/*
The kube-rbac-proxy sidecar in front of a program's metrics server. Arg: dict root, port,
upstreamPort, addressVar, fieldPath (of the address).
*/}}
{{- define "metalbeacon.metricsProxyContainer" -}}
{{- $p := .root.Values.metricsProxy -}}
{{- if not $p.image }}
{{- fail "metricsProxy.image: set the kube-rbac-proxy image (repository:tag) to use metricsProxy.enabled" }}
{{- end }}
- name: metrics-proxy
  image: {{ $p.image }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  args:
    - --secure-listen-address=[$({{ .addressVar }})]:{{ .port }}
    - --upstream=http://127.0.0.1:{{ .upstreamPort }}/
    # The kubelet's probes carry no token.
    - --ignore-paths=/healthz,/readyz
  env:
    - name: {{ .addressVar }}
      valueFrom:
        fieldRef:
          fieldPath: {{ .fieldPath }}
  ports:
    - name: metrics
      containerPort: {{ .port }}
      protocol: TCP
  resources:
    {{- toYaml $p.resources | nindent 4 }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    allowPrivilegeEscalation: false
    privileged: false
    readOnlyRootFilesystem: true
    capabilities:
      drop: [ALL]
{{- end -}}
