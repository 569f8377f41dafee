{{- define "helpers.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: {{ .Chart.Name }}
{{- with .Values.global.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "helpers.greeting" -}}
hello from the helpers library to {{ .who }}
{{- end }}
