package main

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/exohunter/exohunter/engine/spec"
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

// configDirFiles returns the config files dir overrides, as paths in the
// config tree (configs/thresholds.yaml), and refuses a YAML file there that
// overlayFS would never read (thresholds.yml, threshold.yaml, a config in
// the wrong one of configs/ and schemas/): its edits would be ignored
// without a word, the embedded default applying instead. dir itself,
// configs/ and schemas/ are looked at; other folders (a checkout's
// engine/, say) and hidden files are not.
func configDirFiles(dir string) ([]string, error) {
	known := map[string]string{} // base name → path in the tree
	for _, sub := range []string{"configs", "schemas"} {
		entries, err := fs.ReadDir(defaults, sub)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if isYAML(e.Name()) {
				known[e.Name()] = sub + "/" + e.Name()
			}
		}
	}
	var found, bad []string
	for _, sub := range []string{"", "configs", "schemas"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if sub != "" && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("--config-dir %s: %w", dir, err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || !isYAML(name) {
				continue
			}
			rel := path.Join(sub, name)
			p, ok := known[name]
			switch {
			case ok && (sub == "" || path.Dir(p) == sub):
				found = append(found, p)
			case ok:
				bad = append(bad, fmt.Sprintf("%s belongs in %s/", rel, path.Dir(p)))
			default:
				// note: at the top level only a near miss of a config's
				// name (thresholds.yml, threshold.yaml) is refused: a
				// project folder also holds environment.yml and the like.
				near := nearConfig(name, known)
				if sub == "" && near == "" {
					continue
				}
				why := rel + " is no config file ExoHunter reads"
				if near != "" {
					why += " (name it " + near + ")"
				}
				bad = append(bad, why)
			}
		}
	}
	if len(bad) > 0 {
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("--config-dir %s: %s, so the embedded default would apply in its place. "+
			"The config files are %s, in that folder or in its configs/ (columns.yaml: schemas/)",
			dir, strings.Join(bad, "; "), strings.Join(names, ", "))
	}
	return found, nil
}

// nearConfig returns the config file name that name probably misspells
// (thresholds.yml, threshold.yaml, Thresholds.yaml), or "".
func nearConfig(name string, known map[string]string) string {
	base := strings.ToLower(strings.TrimSuffix(name, path.Ext(name)))
	best, dist := "", 3
	for k := range known {
		if d := spec.EditDistance(base, strings.TrimSuffix(k, path.Ext(k))); d < dist || d == dist && k < best {
			best, dist = k, d
		}
	}
	return best
}

// isYAML reports whether name has a YAML extension.
func isYAML(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}
