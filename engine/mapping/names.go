package mapping

import (
	"regexp"
	"strings"
)

// unitSuffix matches a trailing unit such as "(R_earth)" or "[ppm]".
var (
	unitSuffix = regexp.MustCompile(`\s*(\([^()]*\)|\[[^\[\]]*\])\s*$`)
	separators = regexp.MustCompile(`[^a-z0-9]+`)
)

// Normalize returns the form in which source names and aliases are
// compared: lower case, a trailing unit in parentheses or brackets removed,
// runs of spaces, dashes, dots, slashes (any non-alphanumeric) turned into
// one underscore, and no leading or trailing underscore.
// "Planet Radius (R_earth)" and "planet-radius" both become "planet_radius".
func Normalize(name string) string {
	s := strings.TrimPrefix(name, "\ufeff")
	if t := unitSuffix.ReplaceAllString(s, ""); strings.TrimSpace(t) != "" {
		s = t
	}
	s = separators.ReplaceAllString(strings.ToLower(s), "_")
	return strings.Trim(s, "_")
}
