package spec

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// pos is a 1-based line and column in a YAML file.
type pos struct{ line, col int }

// source is one parsed file: its name and where every field path sits in it.
// It is the "second pass over yaml.Node" that gives errors their positions
// while the config structs stay plain.
type source struct {
	file   string
	paths  map[string]pos
	byLine map[int][]keyAt // keys by line, to place decoder errors
	// blockAt is the path of a key whose block mapping or list starts on
	// a line (below the key): a decoder error about that value's shape
	// names the key, not the first key inside the value.
	blockAt map[int]string
	// names holds the name: of each list item that has one, so messages
	// say metrics[2] (radius_ratio), not only metrics[2].
	names map[string]string
}

// keyAt records a mapping key, its path and position.
type keyAt struct {
	key, path string
	at        pos
}

// newSource indexes the YAML text. A syntax error leaves an empty index; the
// strict decode reports it.
func newSource(file string, data []byte) *source {
	s := &source{file: file, paths: map[string]pos{}, byLine: map[int][]keyAt{}, blockAt: map[int]string{}, names: map[string]string{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err == nil && len(doc.Content) > 0 {
		s.walk(doc.Content[0], "")
	}
	return s
}

// walk records the position of every mapping key and sequence item.
func (s *source) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			s.paths[p] = pos{k.Line, k.Column}
			s.byLine[k.Line] = append(s.byLine[k.Line], keyAt{k.Value, p, pos{k.Line, k.Column}})
			if (v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode) && v.Line != k.Line && s.blockAt[v.Line] == "" {
				s.blockAt[v.Line] = p
			}
			s.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			s.paths[p] = pos{c.Line, c.Column}
			if name := mappingScalar(c, "name"); name != "" && len(name) <= 64 && !strings.ContainsAny(name, "\n()") {
				s.names[p] = name
			}
			s.walk(c, p)
		}
	case yaml.AliasNode:
		// note: anchors are followed only for positions of the anchor itself.
	}
}

// at returns the position of path, or of its nearest recorded parent.
func (s *source) at(path string) pos {
	for p := path; p != ""; p = parentPath(p) {
		if q, ok := s.paths[p]; ok {
			return q
		}
	}
	return pos{1, 1}
}

// parentPath strips the last ".key" or "[i]" from a path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// mappingScalar returns the scalar value under key in mapping n, or "".
func mappingScalar(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// errorf returns an *Error positioned at path.
func (s *source) errorf(path string, err error) *Error {
	q := s.at(path)
	return &Error{File: s.file, Line: q.line, Col: q.col, Path: s.display(path), Err: err}
}

// display adds each named list item's name to a path for messages:
// "metrics[2].sql" becomes "metrics[2] (radius_ratio).sql". The name's own
// field is left as it is: its message quotes the name already.
func (s *source) display(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		b.WriteByte(path[i])
		if path[i] != ']' {
			continue
		}
		if name, ok := s.names[path[:i+1]]; ok && path[i+1:] != ".name" {
			b.WriteString(" (" + name + ")")
		}
	}
	return b.String()
}

// lineRe splits yaml.v3 messages of the form "line N: text".
var (
	lineRe    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownRe = regexp.MustCompile(`^field (\S+) not found in type`)
)

// decodeStrict decodes data into v with unknown keys refused, converting
// every decoder message into a positioned *Error. Node.Decode is not used on
// purpose: it drops KnownFields (go-yaml issue #460). fatal is false when
// only field-level problems occurred: v is then decoded except for those
// fields, and validation can go on to find more problems.
func (s *source) decodeStrict(data []byte, v any) (errs Errors, fatal bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	switch {
	case err == nil:
		return nil, false
	case errors.Is(err, io.EOF):
		return Errors{{File: s.file, Line: 1, Col: 1, Err: ErrEmpty}}, true
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, msg := range te.Errors {
			errs = append(errs, s.decodeError(msg))
		}
		return errs, false
	}
	return Errors{s.decodeError(err.Error())}, true
}

// decodeError turns one decoder message into an *Error with the cause
// classified: unknown keys, non-numbers, other type problems, syntax.
func (s *source) decodeError(msg string) *Error {
	m := lineRe.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: s.file, Line: 1, Col: 1, Err: errf(ErrSyntax, "%s", strings.TrimPrefix(msg, "yaml: "))}
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	e := &Error{File: s.file, Line: line, Col: 1}
	if keys := s.byLine[line]; len(keys) > 0 {
		e.Col, e.Path = keys[0].at.col, keys[0].path
	}
	tm := typeRe.FindStringSubmatch(text)
	if tm != nil && (tm[1] == "map" || tm[1] == "seq") && !isScalarType(tm[3]) {
		// a block of the wrong shape: blame its key (metrics), not the
		// first key inside it (metrics.name)
		if p, ok := s.blockAt[line]; ok {
			q := s.paths[p]
			e.Line, e.Col, e.Path = q.line, q.col, p
		}
	}
	switch {
	case unknownRe.MatchString(text):
		key := unknownRe.FindStringSubmatch(text)[1]
		for _, k := range s.byLine[line] {
			if k.key == key {
				e.Col, e.Path = k.at.col, k.path
			}
		}
		e.Err = errf(ErrUnknownKey, "%q", key)
	case tm != nil && shapeName(tm[3]) == "a number":
		e.Err = errf(ErrNotNumber, "(got %s)", gotName(tm))
	case tm != nil:
		e.Err = errf(ErrInvalidValue, "(got %s, want %s)", gotName(tm), shapeName(tm[3]))
	default:
		e.Err = errf(ErrSyntax, "(%s)", text)
	}
	e.Path = s.display(e.Path)
	return e
}

// typeRe splits yaml.v3's "cannot unmarshal !!str `x` into float64" into
// the YAML kind, the value and the Go type, which messages translate into
// shapes ("got a mapping, want a list", not "!!map into []spec.Metric").
var typeRe = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")

// gotName says what a value was, without YAML tags: "a mapping", "a
// list", or the value quoted ("thirty ...", as the decoder shortens it).
func gotName(m []string) string {
	switch kind, value := m[1], m[2]; {
	case kind == "map":
		return "a mapping"
	case kind == "seq":
		return "a list"
	case kind == "null" || value == "":
		return "nothing"
	default:
		return strconv.Quote(value)
	}
}

// shapeName names the YAML shape a Go type is decoded from.
func shapeName(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "string":
		return "text"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "float") || strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a number"
	}
	return "a mapping" // a map or a struct
}

// isScalarType reports whether a Go type is decoded from a single value.
func isScalarType(goType string) bool {
	switch shapeName(goType) {
	case "a list", "a mapping":
		return false
	}
	return true
}
