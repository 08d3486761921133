package mapping

import (
	"regexp"
	"strings"
	"testing"
)

// normalForm is what Normalize may return: lower-case alphanumeric words
// joined by single underscores, or nothing.
var normalForm = regexp.MustCompile(`^([a-z0-9]+(_[a-z0-9]+)*)?$`)

// FuzzNormalize checks the column-name normalisation on any text: it never
// panics, returns the normal form, is idempotent (aliases are normalised
// once at load and source names once at ingest, so a second pass must not
// change them), ignores a BOM, and for ASCII names ignores letter case and
// which separator (space, dash, dot, slash) joins the words.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Planet Radius (R_earth)", "planet-radius", "koi_prad", "\ufeffkepid", "pl_orbper [days]",
		"(ppm)", "a__b", "  Teff  (K) ", "st.rad/Rsun", "ÄÖÜ name", "x (y) (z)", "[a] b", "", "___", "İstanbul"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Normalize(s)
		if !normalForm.MatchString(got) {
			t.Fatalf("Normalize(%q) = %q, not in normal form", s, got)
		}
		if again := Normalize(got); again != got {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q", s, got, again)
		}
		if b := Normalize("\ufeff" + s); b != got && !strings.HasPrefix(s, "\ufeff") {
			t.Fatalf("a BOM changes Normalize(%q): %q vs %q", s, b, got)
		}
		if !isASCII(s) {
			return
		}
		if up := Normalize(strings.ToUpper(s)); up != got {
			t.Fatalf("case changes Normalize(%q): %q vs %q", s, got, up)
		}
		for _, sep := range []string{" ", ".", "/"} {
			if other := Normalize(strings.ReplaceAll(s, "-", sep)); other != got {
				t.Fatalf("separator %q for '-' changes Normalize(%q): %q vs %q", sep, s, got, other)
			}
		}
	})
}

// isASCII reports whether s is 7-bit ASCII.
func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
