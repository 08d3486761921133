//go:build noui

package ui

import "io/fs"

// FS is nil in API-only builds (go build -tags noui): the server then serves
// no dashboard.
var FS fs.FS
