package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
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
		return jsonError(err)
	}
	if dec.More() {
		return engine.Errorf(engine.BadRequest, "The request body holds more than one JSON value.")
	}
	return nil
}

// jsonError explains a JSON decoding failure.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return engine.Wrap(engine.BadRequest, err, "The field %q must be a JSON %s, not %s.", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return engine.Wrap(engine.BadRequest, err, "The request body is not valid JSON (at byte %d).", se.Offset)
	}
	return engine.Wrap(engine.BadRequest, err, "The request body is not valid JSON: %s.", err.Error())
}

// jsonKind names a Go kind the way a JSON user knows it.
func jsonKind(k string) string {
	switch k {
	case "float64", "float32", "int", "int64", "int32":
		return "number"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return k
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
