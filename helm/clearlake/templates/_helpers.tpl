{{/*
Names. Every object is <fullname>-<component>; fullnameOverride defaults to "clearlake"
because the dagster subtree of the values refers to these names literally.
*/}}
{{- define "clearlake.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "clearlake.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; call with (dict "ctx" $ "component" "<component>"). */}}
{{- define "clearlake.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: clearlake
app.kubernetes.io/version: {{ .ctx.Values.image.tag | quote }}
{{ include "clearlake.selectorLabels" . }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "clearlake.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clearlake.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
clearlake.io/component: {{ .component }}
{{- end -}}

{{/* Image reference: by digest when one is given, else by the commit tag. */}}
{{- define "clearlake.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ required "image.tag is required: set it to the platform git commit (--set image.tag=$(git rev-parse HEAD))" .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/*
Pod-level security baseline. OnRootMismatch: the kubelet fixes the group of a volume that
supports it (the reports claim) once, instead of walking every report at each pod start.
*/}}
{{- define "clearlake.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security baseline. */}}
{{- define "clearlake.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Paths inside every Clearlake pod, defined here only (clearlake_deploy.cluster_paths mirrors
them for the values models). CLEARLAKE_HOME is on the /tmp emptyDir: the root filesystem is
read-only. The reports root is Settings.reports_root, CLEARLAKE_HOME/reports.
*/}}
{{- define "clearlake.home" -}}
/tmp/clearlake
{{- end -}}

{{- define "clearlake.reportsRoot" -}}
{{ include "clearlake.home" . }}/reports
{{- end -}}

{{/* The reports claim: reports.existingClaim, else the one the chart creates. */}}
{{- define "clearlake.reportsClaim" -}}
{{- .Values.reports.existingClaim | default (printf "%s-reports" (include "clearlake.fullname" .)) -}}
{{- end -}}

{{/* The StorageClass the chart may create; cluster-scoped, so the namespace is in its name. */}}
{{- define "clearlake.reportsStorageClass" -}}
{{- list .Release.Namespace (include "clearlake.fullname" .) "reports" | compact | join "-" | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{/*
The reports claim as a pod volume and its mounts, when reports.enabled; call with
(dict "ctx" $ "readOnly" <bool>). The Data API only reads the claim.

The claim sits inside CLEARLAKE_HOME, inside the /tmp emptyDir. A mount point's missing
parents are created by the container runtime as root, mode 0755, which would leave
CLEARLAKE_HOME (cache/, api/) unwritable for the pods' user. So CLEARLAKE_HOME is mounted
too, from the same tmp emptyDir (subPath): kubelet creates a subPath with the emptyDir's
own mode, writable. Same files as before, same size limit.
*/}}
{{- define "clearlake.reportsVolume" -}}
{{- if .ctx.Values.reports.enabled -}}
- name: reports
  persistentVolumeClaim:
    claimName: {{ include "clearlake.reportsClaim" .ctx }}
    {{- if .readOnly }}
    readOnly: true
    {{- end }}
{{- end }}
{{- end -}}

{{- define "clearlake.reportsMount" -}}
{{- if .ctx.Values.reports.enabled -}}
- name: tmp
  mountPath: {{ include "clearlake.home" .ctx }}
  subPath: {{ include "clearlake.home" .ctx | trimPrefix "/tmp/" }}
- name: reports
  mountPath: {{ include "clearlake.reportsRoot" .ctx }}
  {{- if .readOnly }}
  readOnly: true
  {{- end }}
{{- end }}
{{- end -}}

{{/* Environment of every Clearlake container besides the env ConfigMap. */}}
{{- define "clearlake.sourceEnv" -}}
- name: CLEARLAKE_SOURCE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.source.secretName }}
      key: {{ .Values.source.key }}
{{- end -}}

{{/* Checksums that roll the pods when their configuration changes. */}}
{{- define "clearlake.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap-config.yaml") . | sha256sum }}
checksum/env: {{ include (print .Template.BasePath "/configmap-env.yaml") . | sha256sum }}
{{- end -}}

{{/*
NetworkPolicy egress rules, as a YAML list, to targets {cidrs, podLabels, ports}: an ipBlock
per CIDR plus the labelled pods of the release namespace. A target with neither yields no
rule at all, because a rule with an empty `to` would allow every destination.
*/}}
{{- define "clearlake.egressRules" -}}
{{- $rules := list -}}
{{- range . -}}
{{- $to := list -}}
{{- range .cidrs -}}
{{- $to = append $to (dict "ipBlock" (dict "cidr" .)) -}}
{{- end -}}
{{- with .podLabels -}}
{{- $to = append $to (dict "podSelector" (dict "matchLabels" .)) -}}
{{- end -}}
{{- if $to -}}
{{- $ports := list -}}
{{- range .ports -}}
{{- $ports = append $ports (dict "protocol" "TCP" "port" (int .)) -}}
{{- end -}}
{{- $rules = append $rules (dict "to" $to "ports" $ports) -}}
{{- end -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}

{{/* NetworkPolicy peers, as a YAML list, from [{namespaceLabels, podLabels} | {cidr}]. */}}
{{- define "clearlake.allowedPeers" -}}
{{- $peers := list -}}
{{- range . -}}
{{- if .cidr -}}
{{- $peers = append $peers (dict "ipBlock" (dict "cidr" .cidr)) -}}
{{- else -}}
{{- $peer := dict -}}
{{- if kindIs "map" .namespaceLabels -}}
{{- $_ := set $peer "namespaceSelector" (dict "matchLabels" .namespaceLabels) -}}
{{- end -}}
{{- if kindIs "map" .podLabels -}}
{{- $_ := set $peer "podSelector" (dict "matchLabels" .podLabels) -}}
{{- end -}}
{{- $peers = append $peers $peer -}}
{{- end -}}
{{- end -}}
{{- toYaml $peers -}}
{{- end -}}

{{/*
Cross-key checks the JSON schema cannot express. They guard the references from the dagster
subtree (which cannot template names) to the objects of this chart.
*/}}
{{- define "clearlake.validate" -}}
{{- $fullname := include "clearlake.fullname" . -}}
{{- if .Values.dagster.enabled -}}
{{- $launcher := .Values.dagster.runLauncher.config.k8sRunLauncher -}}
{{- $podSpec := $launcher.runK8sConfig.podSpecConfig | default dict -}}
{{- if ne ($podSpec.serviceAccountName | default "") .Values.serviceAccounts.runs.name -}}
{{- fail (printf "dagster.runLauncher.config.k8sRunLauncher.runK8sConfig.podSpecConfig.serviceAccountName is %q: set it to serviceAccounts.runs.name (%q) so run and step pods get the runs role" ($podSpec.serviceAccountName | default "") .Values.serviceAccounts.runs.name) -}}
{{- end -}}
{{- $host := printf "%s-code-location" $fullname -}}
{{- $found := false -}}
{{- range .Values.dagster.dagsterWebserver.workspace.servers -}}
{{- if and (eq .host $host) (eq (int .port) (int $.Values.codeLocation.port)) -}}
{{- $found = true -}}
{{- end -}}
{{- end -}}
{{- if not $found -}}
{{- fail (printf "dagster.dagsterWebserver.workspace.servers must contain host=%s port=%v (the code-location Service)" $host .Values.codeLocation.port) -}}
{{- end -}}
{{- include "clearlake.validateReportsMount" . -}}
{{- if and (not .Values.dagster.postgresql.enabled) (not .Values.dagster.postgresql.postgresqlHost) -}}
{{- fail "dagster.postgresql.postgresqlHost is required when dagster.postgresql.enabled is false: set it to the RDS address (terraform output metadata_db_address)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Run and step pods mount the reports claim, writable, at the reports root, through the run
launcher's volumes/volumeMounts (dagster-k8s copies both into every step Job).
*/}}
{{- define "clearlake.validateReportsMount" -}}
{{- $launcher := .Values.dagster.runLauncher.config.k8sRunLauncher -}}
{{- $root := include "clearlake.reportsRoot" . -}}
{{- $where := "dagster.runLauncher.config.k8sRunLauncher" -}}
{{- $names := list -}}
{{- range $launcher.volumeMounts | default list -}}
{{- if and (eq (.mountPath | default "") $root) (not .readOnly) -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- end -}}
{{- if .Values.reports.enabled -}}
{{- $claim := include "clearlake.reportsClaim" . -}}
{{- $found := false -}}
{{- range $launcher.volumes | default list -}}
{{- if and (has .name $names) .persistentVolumeClaim -}}
{{- if eq (.persistentVolumeClaim.claimName | default "") $claim -}}
{{- $found = true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $found -}}
{{- fail (printf "%s must mount the reports claim %q writable at %s: add volumes [{name: reports, persistentVolumeClaim: {claimName: %s}}] and volumeMounts [{name: reports, mountPath: %s}] so run and step pods keep their reports" $where $claim $root $claim $root) -}}
{{- end -}}
{{- $home := include "clearlake.home" . -}}
{{- $homeMounted := false -}}
{{- $containerMounts := (($launcher.runK8sConfig | default dict).containerConfig | default dict).volumeMounts | default list -}}
{{- range concat ($launcher.volumeMounts | default list) $containerMounts -}}
{{- if eq (.mountPath | default "") $home -}}
{{- $homeMounted = true -}}
{{- end -}}
{{- end -}}
{{- if not $homeMounted -}}
{{- fail (printf "%s.runK8sConfig.containerConfig.volumeMounts must mount %s (CLEARLAKE_HOME) from the tmp emptyDir ({name: tmp, mountPath: %s, subPath: %s}): otherwise the runtime creates it root-owned as the parent of the reports mount, and run and step pods cannot write their cache" $where $home $home ($home | trimPrefix "/tmp/")) -}}
{{- end -}}
{{- else if $names -}}
{{- fail (printf "reports.enabled is false but %s.volumeMounts mounts %q at %s: remove that volume and its mount, or enable reports" $where (first $names) $root) -}}
{{- end -}}
{{- end -}}
