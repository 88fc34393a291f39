{{/* Names, labels, images and the checks every template shares. */}}

{{- define "katha.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "katha.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "katha.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "katha.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: katha
{{- end }}

{{/* Selector labels of one component: include with (dict "context" $ "component" "router"). */}}
{{- define "katha.selectorLabels" -}}
app.kubernetes.io/name: {{ include "katha.name" .context }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "katha.componentLabels" -}}
{{ include "katha.labels" .context }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "katha.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "katha.agentImage" -}}
{{- $repository := default .Values.image.repository .Values.operator.agentImage.repository }}
{{- $tag := default (default .Chart.AppVersion .Values.image.tag) .Values.operator.agentImage.tag }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{- define "katha.operator.fullname" -}}
{{- printf "%s-operator" (include "katha.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "katha.router.fullname" -}}
{{- printf "%s-router" (include "katha.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "katha.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "katha.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "katha.router.serviceAccountName" -}}
{{- if .Values.router.serviceAccount.create }}
{{- default (include "katha.router.fullname" .) .Values.router.serviceAccount.name }}
{{- else }}
{{- required "router.serviceAccount.name is required when router.serviceAccount.create is false" .Values.router.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The routing-table Secret: its name is fixed by the operator (business_operator/routing_table.py). */}}
{{- define "katha.routesSecret" -}}
katha-routes
{{- end }}

{{- define "katha.router.secretName" -}}
{{- default (printf "%s-secrets" (include "katha.router.fullname" .)) .Values.router.secrets.existingSecret }}
{{- end }}

{{- define "katha.router.usesRedis" -}}
{{- if or .Values.router.inbox.redis.url .Values.router.inbox.redis.existingSecret.name }}true{{ end }}
{{- end }}

{{/* More than one router pod at any time: a fixed replica count above one, or an HPA. */}}
{{- define "katha.router.highlyAvailable" -}}
{{- if or .Values.router.autoscaling.enabled (gt (int .Values.router.replicas) 1) }}true{{ end }}
{{- end }}

{{/* Fails the render on combinations the schema cannot express. */}}
{{- define "katha.validate" -}}
{{- if and (include "katha.router.highlyAvailable" .) (not (include "katha.router.usesRedis" .)) }}
{{- fail "router: more than one replica (router.replicas > 1 or router.autoscaling.enabled) needs a shared inbox: set router.inbox.redis.url or router.inbox.redis.existingSecret.name. The SQLite inbox belongs to one pod." }}
{{- end }}
{{- if and .Values.router.inbox.redis.url .Values.router.inbox.redis.existingSecret.name }}
{{- fail "router.inbox.redis: set either url or existingSecret.name, not both" }}
{{- end }}
{{- if and .Values.router.autoscaling.enabled (gt (int .Values.router.autoscaling.minReplicas) (int .Values.router.autoscaling.maxReplicas)) }}
{{- fail "router.autoscaling.minReplicas must not exceed router.autoscaling.maxReplicas" }}
{{- end }}
{{- if and .Values.router.autoscaling.enabled (not .Values.router.autoscaling.targetCPUUtilizationPercentage) (not .Values.router.autoscaling.requestsPerSecond.enabled) }}
{{- fail "router.autoscaling needs a metric: targetCPUUtilizationPercentage or requestsPerSecond.enabled" }}
{{- end }}
{{- end }}

{{/* Namespaces the operator watches in namespaced mode: the listed ones and the release's own. */}}
{{- define "katha.operator.namespaces" -}}
{{- $namespaces := list .Release.Namespace }}
{{- range .Values.operator.watchNamespaces }}
{{- $namespaces = append $namespaces . }}
{{- end }}
{{- $namespaces | uniq | toJson }}
{{- end }}

{{/* Volumes every Katha container needs with a read-only root filesystem. */}}
{{- define "katha.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/* A value as an environment string: whole numbers without an exponent (1048576, not 1.048576e+06). */}}
{{- define "katha.envValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 .) (floor .)) }}
{{- int64 . }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/* The conversation store's CloudNativePG Cluster (its Secret `<name>-app` and Services
`<name>-rw` follow from it; CloudNativePG keeps Cluster names short). */}}
{{- define "katha.store.clusterName" -}}
{{- printf "%s-store" (include "katha.fullname" .) | trunc 50 | trimSuffix "-" }}
{{- end }}

{{- define "katha.store.migrationsName" -}}
{{- printf "%s-store-migrations" (include "katha.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Where the store's URL is: the app Secret CloudNativePG generates for the Cluster, or
the Secret the platform team names. A `secretKeyRef` body (name, key). */}}
{{- define "katha.store.urlSecretKeyRef" -}}
{{- if .Values.store.cloudNativePG.enabled }}
name: {{ include "katha.store.clusterName" . }}-app
key: uri
{{- else }}
name: {{ .Values.store.urlSecretRef.name }}
key: {{ .Values.store.urlSecretRef.key }}
{{- end }}
{{- end }}

{{/* Labels CloudNativePG gives every pod of the store's Cluster. */}}
{{- define "katha.store.podLabels" -}}
cnpg.io/cluster: {{ include "katha.store.clusterName" . }}
{{- end }}

{{- define "katha.console.fullname" -}}
{{- printf "%s-console" (include "katha.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "katha.console.serviceAccountName" -}}
{{- if .Values.console.serviceAccount.create }}
{{- default (include "katha.console.fullname" .) .Values.console.serviceAccount.name }}
{{- else }}
{{- required "console.serviceAccount.name is required when console.serviceAccount.create is false" .Values.console.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The console's own Secret (key `sessionSecret`); the router's admin token it shares
lives in the router's Secret, so that there is one of it. */}}
{{- define "katha.console.secretName" -}}
{{- default (printf "%s-secrets" (include "katha.console.fullname" .)) .Values.console.existingSecret }}
{{- end }}

{{/* Where owners reach the console: `console.publicUrl`, else the first Ingress host, else
the local end of the `kubectl port-forward` the install notes print. */}}
{{- define "katha.console.publicUrl" -}}
{{- $console := .Values.console }}
{{- if $console.publicUrl }}
{{- $console.publicUrl | trimSuffix "/" }}
{{- else if and $console.ingress.enabled $console.ingress.hosts }}
{{- printf "%s://%s" (ternary "https" "http" (not (empty $console.ingress.tls))) (first $console.ingress.hosts).host }}
{{- else }}
{{- include "katha.console.portForwardUrl" . }}
{{- end }}
{{- end }}

{{/* The router's admin API as the console calls it: the router's Service in this namespace. */}}
{{- define "katha.console.routerUrl" -}}
{{- printf "http://%s:%d" (include "katha.router.fullname" .) (int .Values.router.service.port) }}
{{- end }}

{{/* More than one console pod: a PodDisruptionBudget and a spread over nodes. */}}
{{- define "katha.console.highlyAvailable" -}}
{{- if gt (int .Values.console.replicas) 1 }}true{{ end }}
{{- end }}

{{- define "katha.console.portForwardUrl" -}}
http://localhost:8081
{{- end }}
