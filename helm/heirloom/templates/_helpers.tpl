{{/* The chart's name, or nameOverride. */}}
{{- define "heirloom.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The release's full name: fullnameOverride, else RELEASE-CHART, else RELEASE when it
already contains the chart's name. At most 63 characters (DNS label).
*/}}
{{- define "heirloom.fullname" -}}
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

{{- define "heirloom.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select this release's pods. */}}
{{- define "heirloom.selectorLabels" -}}
app.kubernetes.io/name: {{ include "heirloom.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "heirloom.labels" -}}
helm.sh/chart: {{ include "heirloom.chart" . }}
{{ include "heirloom.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "heirloom.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "heirloom.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "heirloom.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The Secret passed to the pods as environment: existingSecret or the chart's own. */}}
{{- define "heirloom.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else if .Values.secretEnv -}}
{{- include "heirloom.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "heirloom.claimName" -}}
{{- default (printf "%s-data" (include "heirloom.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}
