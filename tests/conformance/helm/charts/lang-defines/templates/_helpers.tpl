{{/* Classic helpers as `helm create` writes them */}}
{{- define "lang-defines.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lang-defines.fullname" -}}
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

{{- define "lang-defines.labels" -}}
app.kubernetes.io/name: {{ include "lang-defines.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* a template taking a dict as its context */}}
{{- define "lang-defines.pair" -}}
{{ .key }}={{ .value }} (root release {{ .root.Release.Name }})
{{- end }}

{{/* recursion through include */}}
{{- define "lang-defines.countdown" -}}
{{ . }}{{ if gt . 0 }},{{ include "lang-defines.countdown" (sub . 1) }}{{ end }}
{{- end }}

{{/* what .Template looks like from inside a define */}}
{{- define "lang-defines.where" -}}
name={{ .Template.Name }} base={{ .Template.BasePath }}
{{- end }}

{{- define "lang-defines.overridden" -}}first definition{{- end }}

{{/* a define that returns YAML for fromYaml */}}
{{- define "lang-defines.asYaml" -}}
a: 1
b:
  - x
  - y
{{- end }}

{{- define "lang-defines.nocontext" -}}
[{{ . }}]
{{- end }}
