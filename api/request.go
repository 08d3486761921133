package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// param returns a path parameter, percent-decoded (object ids may hold
// spaces, and %2F stays inside the segment it was escaped in).
func param(c *fiber.Ctx, name string) string {
	raw := c.Params(name)
	if v, err := url.PathUnescape(raw); err == nil {
		return v
	}
	return raw
}

// boolQuery reads a true/false query parameter; absent or empty, it is def.
func boolQuery(c *fiber.Ctx, name string, def bool) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, engine.Errorf(engine.BadRequest, "%s must be true or false, not %q.", name, v)
	}
	return b, nil
}

// bodyReader returns the request body as a stream: with StreamRequestBody
// it is read from the connection as the handler consumes it.
func bodyReader(c *fiber.Ctx) io.Reader {
	if st := c.Context().RequestBodyStream(); st != nil {
		return st
	}
	return bytes.NewReader(c.Request().Body())
}

// readBody reads at most limit bytes of the body: TooLarge beyond it.
func readBody(c *fiber.Ctx, limit int) ([]byte, error) {
	if cl := c.Request().Header.ContentLength(); cl > limit {
		return nil, tooLargeBody(limit)
	}
	data, err := io.ReadAll(io.LimitReader(bodyReader(c), int64(limit)+1))
	if err != nil {
		return nil, engine.Wrap(engine.BadRequest, err, "The request body could not be read to the end.")
	}
	if len(data) > limit {
		return nil, tooLargeBody(limit)
	}
	if !utf8.Valid(data) {
		// note: encoding/json would quietly turn the bad bytes into U+FFFD
		// and store an annotator or note other than the one sent.
		return nil, engine.Errorf(engine.BadRequest, "The request body is not valid UTF-8 text; JSON must be sent as UTF-8.")
	}
	return data, nil
}

// tooLargeBody is the 413 of a JSON body over the limit.
func tooLargeBody(limit int) error {
	return engine.Errorf(engine.TooLarge, "The request body is larger than %s; JSON bodies are limited to that size.", humanBytes(int64(limit)))
}

// readJSON decodes a JSON body of at most limit bytes into dst. Strict
// decoding refuses unknown fields, so a misspelled key is a 400 rather
// than silently ignored.
func readJSON(c *fiber.Ctx, limit int, dst any, strict bool) error {
	data, err := readBody(c, limit)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return engine.Errorf(engine.BadRequest, "The request needs a JSON body.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, dst)
	}
	if dec.More() {
		return engine.Errorf(engine.BadRequest, "The request body holds more than one JSON value.")
	}
	return nil
}

// jsonError explains a JSON decoding failure into dst (a pointer to the
// request's struct) in JSON's terms: the body's shape, a field's type, an
// unknown field with the known ones; never Go type names.
func jsonError(err error, dst any) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return engine.Wrap(engine.BadRequest, err, "The request body must be a JSON %s, not %s.", jsonKind(reflect.TypeOf(dst)), withArticle(te.Value))
	case errors.As(err, &te) && strings.HasPrefix(te.Value, "number "):
		return engine.Wrap(engine.BadRequest, err, "The field %q holds the %s, which is out of range.", te.Field, te.Value)
	case errors.As(err, &te):
		return engine.Wrap(engine.BadRequest, err, "The field %q must be %s, not %s.", te.Field, fieldShape(dst, te), withArticle(te.Value))
	case errors.As(err, &se):
		return engine.Wrap(engine.BadRequest, err, "The request body is not valid JSON (at byte %d).", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return engine.Wrap(engine.BadRequest, err, "The request body is not valid JSON: it ends in the middle of a value.")
	}
	// note: encoding/json has no type for this error, only its text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, uerr := strconv.Unquote(name); uerr == nil {
			name = n
		}
		return engine.Wrap(engine.BadRequest, err, "Unknown field %q; the fields are %s.", name, strings.Join(jsonFields(dst), ", "))
	}
	return engine.Wrap(engine.BadRequest, err, "The request body is not valid JSON: %s.", err.Error())
}

// fieldShape says what te's field must hold: "a JSON number", or for a
// map or list field whose element was wrong, "a JSON object whose values
// are strings" or "a JSON array of strings".
func fieldShape(dst any, te *json.UnmarshalTypeError) string {
	t := fieldType(reflect.TypeOf(dst), te.Field)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil || t == te.Type:
		return "a JSON " + jsonKind(te.Type)
	case t.Kind() == reflect.Map:
		return "a JSON object whose values are " + jsonKind(t.Elem()) + "s"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "a JSON array of " + jsonKind(t.Elem()) + "s"
	}
	return "a JSON " + jsonKind(te.Type)
}

// fieldType follows a dotted JSON field path ("a.b") through struct
// types; nil when the path leaves them.
func fieldType(t reflect.Type, path string) reflect.Type {
	for _, name := range strings.Split(path, ".") {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			return nil
		}
		var next reflect.Type
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && jsonName(f) == name {
				next = f.Type
				break
			}
		}
		t = next
	}
	return t
}

// jsonFields lists the JSON names of dst's struct fields, in order.
func jsonFields(dst any) []string {
	t := reflect.TypeOf(dst)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && jsonName(f) != "-" {
			names = append(names, jsonName(f))
		}
	}
	return names
}

// jsonName is the name encoding/json gives a struct field.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// jsonKind names a Go type the way a JSON user knows it.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "value"
}

// withArticle turns encoding/json's name of what it found ("array",
// "bool") into words: "an array", "a boolean".
func withArticle(v string) string {
	switch v {
	case "array", "object":
		return "an " + v
	case "bool":
		return "a boolean"
	case "string", "number":
		return "a " + v
	}
	return v
}

// queryInt parses an optional integer query parameter within [lo, hi].
func queryInt(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, engine.Errorf(engine.BadRequest, "Parameter %s must be an integer between %d and %d (got %q).", name, lo, hi, s)
	}
	return n, nil
}

// humanBytes formats a byte count for messages.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}

// created renders v with 201 Created.
func created(c *fiber.Ctx, v any) error { return c.Status(fiber.StatusCreated).JSON(v) }

// queryValues parses the request's query string strictly (Go refuses ';'
// separators and bad % escapes), with a message that says how to encode.
func queryValues(c *fiber.Ctx) (url.Values, error) {
	v, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return nil, engine.Wrap(engine.BadRequest, err, "The query string is malformed (%v): percent-encode special characters in values, e.g. %% as %%25, ; as %%3B and & as %%26.", err)
	}
	return v, nil
}
