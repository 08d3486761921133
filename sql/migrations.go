package sqltmpl

import "embed"

// Migrations holds the numbered golang-migrate files of the service's own
// tables (NNNN_name.up.sql and NNNN_name.down.sql), read by the engine
// through golang-migrate's source/iofs driver. Numbers are reserved per
// owner: 0001 core, 0002 labels, 0003 features, 0004 models.
//
//go:embed migrations/*.sql
var Migrations embed.FS
