package main

import (
	"embed"
	"io/fs"
	"os"
	"path"
)

// defaults holds configs/ and schemas/ as shipped, so the binary works from
// any directory; --config-dir overlays files from disk on top of them.
//
//go:embed configs schemas
var defaults embed.FS

// overlayFS serves a file from dir when it exists there and from the
// embedded defaults otherwise. A file is looked up both at its full path
// (dir/configs/thresholds.yaml) and by base name (dir/thresholds.yaml), so
// --config-dir may point at a checkout root or at a folder of YAML files.
type overlayFS struct {
	dir  fs.FS
	base fs.FS
}

// Open implements fs.FS.
func (o overlayFS) Open(name string) (fs.File, error) {
	if f, err := o.dir.Open(name); err == nil {
		return f, nil
	}
	if b := path.Base(name); b != name {
		if f, err := o.dir.Open(b); err == nil {
			if st, err := f.Stat(); err == nil && !st.IsDir() {
				return f, nil
			}
			f.Close()
		}
	}
	return o.base.Open(name)
}

// ReadDir implements fs.ReadDirFS by listing the embedded defaults, so the
// set of known config files stays the shipped one.
func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(o.base, name)
}

// configFS returns the config tree: the embedded defaults, overlaid by dir
// when one is given.
func configFS(dir string) fs.FS {
	if dir == "" {
		return defaults
	}
	return overlayFS{dir: os.DirFS(dir), base: defaults}
}
