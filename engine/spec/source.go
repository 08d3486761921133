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
}

// keyAt records a mapping key, its path and position.
type keyAt struct {
	key, path string
	at        pos
}

// newSource indexes the YAML text. A syntax error leaves an empty index; the
// strict decode reports it.
func newSource(file string, data []byte) *source {
	s := &source{file: file, paths: map[string]pos{}, byLine: map[int][]keyAt{}}
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
			s.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			s.paths[p] = pos{c.Line, c.Column}
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

// errorf returns an *Error positioned at path.
func (s *source) errorf(path string, err error) *Error {
	q := s.at(path)
	return &Error{File: s.file, Line: q.line, Col: q.col, Path: path, Err: err}
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
	switch {
	case unknownRe.MatchString(text):
		key := unknownRe.FindStringSubmatch(text)[1]
		for _, k := range s.byLine[line] {
			if k.key == key {
				e.Col, e.Path = k.at.col, k.path
			}
		}
		e.Err = errf(ErrUnknownKey, "%q", key)
	case strings.Contains(text, "into float64") || strings.Contains(text, "into int"):
		e.Err = errf(ErrNotNumber, "(%s)", cleanTypeMsg(text))
	case strings.HasPrefix(text, "cannot unmarshal"):
		e.Err = errf(ErrInvalidValue, "(%s)", cleanTypeMsg(text))
	default:
		e.Err = errf(ErrSyntax, "(%s)", text)
	}
	return e
}

// cleanTypeMsg shortens yaml.v3's "cannot unmarshal !!str `x` into float64"
// into "got "x"".
func cleanTypeMsg(text string) string {
	if i, j := strings.Index(text, "`"), strings.LastIndex(text, "`"); i >= 0 && j > i {
		return "got " + strconv.Quote(text[i+1:j])
	}
	return text
}
