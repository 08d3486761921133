package spec

import (
	"regexp"
	"strings"
)

// unitSuffix matches a trailing unit such as "(R_earth)" or "[ppm]",
// followed by nothing but separators: "x (y)-" ends in its unit as much as
// "x (y) " does, since NormalizeName treats every separator alike.
var (
	unitSuffix = regexp.MustCompile(`(\([^()]*\)|\[[^\[\]]*\])[^a-zA-Z0-9()\[\]]*$`)
	separators = regexp.MustCompile(`[^a-z0-9]+`)
)

// NormalizeName returns the form in which source names and aliases are
// compared, by the column mapper and by the check of aliases: lower case,
// a trailing unit in parentheses or brackets removed, runs of spaces,
// dashes, dots, slashes (any non-alphanumeric) turned into one underscore,
// and no leading or trailing underscore.
// "Planet Radius (R_earth)" and "planet-radius" both become "planet_radius".
func NormalizeName(name string) string {
	s := strings.TrimPrefix(name, "\ufeff")
	// note: the unit goes only when a word remains without it: "(ppm)" and
	// "-(0)" keep theirs, whatever separator precedes the parenthesis.
	if w := words(unitSuffix.ReplaceAllString(s, "")); w != "" {
		return w
	}
	return words(s)
}

// words lower-cases s and joins its alphanumeric runs with underscores.
func words(s string) string {
	return strings.Trim(separators.ReplaceAllString(strings.ToLower(s), "_"), "_")
}
