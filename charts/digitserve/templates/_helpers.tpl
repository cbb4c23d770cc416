{{/* Chart name, truncated to 63 characters (a label value). */}}
{{- define "digitserve.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified name: <release>-<chart>, or the release name alone when it already contains the
chart name. Kept to 52 characters so suffixed names (-metrics, -leader-election) stay valid.
*/}}
{{- define "digitserve.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "digitserve.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every resource. */}}
{{- define "digitserve.labels" -}}
helm.sh/chart: {{ include "digitserve.chart" . }}
{{ include "digitserve.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: digitserve
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of the operator's pods (never change them: a Deployment selector is immutable). */}}
{{- define "digitserve.selectorLabels" -}}
app.kubernetes.io/name: {{ include "digitserve.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "digitserve.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "digitserve.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "digitserve.leaseName" -}}
{{- default (include "digitserve.fullname" .) .Values.operator.leaderElection.leaseName -}}
{{- end -}}

{{/* repository:tag or repository@digest; the tag defaults to the chart's appVersion. */}}
{{- define "digitserve.operatorImage" -}}
{{- $img := .Values.operator.image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{- define "digitserve.runtimeImage" -}}
{{- printf "%s:%s" .Values.runtime.image.repository (default .Chart.AppVersion .Values.runtime.image.tag) -}}
{{- end -}}

{{/* The converter image, or nothing when converter.image.repository is empty. */}}
{{- define "digitserve.converterImage" -}}
{{- with .Values.converter.image.repository -}}
{{- printf "%s:%s" . (default $.Chart.AppVersion $.Values.converter.image.tag) -}}
{{- end -}}
{{- end -}}
