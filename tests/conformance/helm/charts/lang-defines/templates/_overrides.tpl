{{/* Defines the same name as _helpers.tpl: which definition wins depends on the order
     in which Helm parses the template files. */}}
{{- define "lang-defines.overridden" -}}second definition{{- end }}
