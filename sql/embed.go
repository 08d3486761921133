package sqltmpl

import (
	"embed"
	"text/template"
)

// files holds every statement and template of the pipeline.
//
//go:embed *.sql.tmpl
var files embed.FS

// templates is parsed once. missingkey=error makes a template that reads an
// absent field fail instead of printing "<no value>" into SQL.
var templates = template.Must(template.New("sql").Option("missingkey=error").ParseFS(files, "*.sql.tmpl"))
