//go:build !noui

// Package ui holds the web dashboard's built assets (ui/dist), embedded into
// the binary. The sources are in ui/src and are built with esbuild from npm
// (ui/build.sh, `make ui`); ui/dist is committed so that `go build` alone
// produces a working binary. ui/README.md lists every API call the dashboard
// makes.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// FS serves the dashboard: index.html at its root and hashed, immutable files
// under assets/. Serve index.html with Cache-Control: no-cache and assets/*
// with a long max-age; routing is client-side (#/page), so no fallback route
// is needed.
var FS, _ = fs.Sub(dist, "dist")
