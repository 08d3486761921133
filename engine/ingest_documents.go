package engine

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"unicode"

	"github.com/exohunter/exohunter/remote"
)

// checkNotDocument refuses text that is a web page, a JSON document or an
// XML document rather than a table: what a server answers in place of the
// file (a login or error page, {"error":"rate limited"}, an S3 <Error> or a
// VOTable error), saved or fetched with a 200. Read as CSV it would fail
// later with a message about headers or columns that hides the cause.
// source is the URL the bytes came from, "" for a file or an upload; the
// message then quotes the answer's first bytes.
func checkNotDocument(prefix []byte, original, source string) error {
	name := displayName(original)
	if looksLikeHTML(prefix) {
		return Errorf(BadRequest, "%s is an HTML web page, not a CSV file: check the URL or the downloaded file (a login, error or landing page is often saved in place of the data).", name)
	}
	what := ""
	switch root, isXML := xmlRoot(prefix); {
	case looksLikeJSON(prefix):
		what = "JSON"
	case isXML && root != "":
		what = "XML (a <" + root + "> document)"
	case isXML:
		what = "XML"
	default:
		return nil
	}
	if source != "" {
		return Errorf(BadRequest, "The server answered %s with %s, not a catalog table; it begins: %s. Such an answer usually reports an error or a limit: check the URL, and what the server says.",
			remote.Redact(source), what, firstBytes(prefix))
	}
	return Errorf(BadRequest, "%s holds %s, not a CSV table; it begins: %s. ExoHunter reads CSV and Parquet files; a file saved from a server may hold its answer (often an error) in place of the data.",
		name, what, firstBytes(prefix))
}

// trimText drops a BOM and leading blank space.
func trimText(text []byte) []byte {
	return bytes.TrimLeft(bytes.TrimPrefix(text, utf8BOM), " \t\r\n")
}

// looksLikeHTML reports whether text starts (after a BOM and blank space)
// with an HTML document's opening tag, or with an XML declaration or a
// comment followed by one.
func looksLikeHTML(text []byte) bool {
	t := bytes.ToLower(trimText(text))
	t = t[:min(len(t), 1024)]
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body"} {
		if bytes.HasPrefix(t, []byte(p)) {
			return true
		}
	}
	// XHTML starts with an XML declaration; pages may open with a comment.
	return (bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<!--"))) && bytes.Contains(t, []byte("<html"))
}

// looksLikeJSON reports whether text starts with a JSON object or array:
// its first two tokens parse. A CSV header such as "[Fe/H],teff" does not.
func looksLikeJSON(text []byte) bool {
	t := trimText(text)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	for range 2 {
		if _, err := dec.Token(); err != nil {
			return false
		}
	}
	return true
}

// xmlRoot reports whether text is an XML document and names its root
// element ("" when the first bytes hold none). A document starts with an
// XML declaration, or with an element and holds a closing tag, so that a
// header such as "<teff>,logg" is not taken for one.
func xmlRoot(text []byte) (string, bool) {
	t := trimText(text)
	decl := bytes.HasPrefix(t, []byte("<?xml"))
	elem := len(t) > 1 && t[0] == '<' && (unicode.IsLetter(rune(t[1])) || t[1] == '_')
	if !decl && !(elem && (bytes.Contains(t, []byte("</")) || bytes.Contains(t, []byte("/>")))) {
		return "", false
	}
	dec := xml.NewDecoder(bytes.NewReader(t))
	dec.Strict = false
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", true
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local, true
		}
	}
}

// firstBytes quotes the start of a document for a message: at most 200
// characters on one line, with URLs and secret-looking values redacted
// (before the cut, so that a cut cannot hide a value from the redaction).
func firstBytes(text []byte) string {
	t := trimText(text)
	t = bytes.ToValidUTF8(t[:min(len(t), 4096)], nil)
	s := strings.Join(strings.Fields(strings.Map(dropControl, string(t))), " ")
	s = remote.RedactText(s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// dropControl is a strings.Map function that turns control characters
// into spaces.
func dropControl(r rune) rune {
	if unicode.IsControl(r) {
		return ' '
	}
	return r
}
