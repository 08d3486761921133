package mapping

import "github.com/exohunter/exohunter/engine/spec"

// Normalize returns the form in which source names and aliases are
// compared (spec.NormalizeName): "Planet Radius (R_earth)" and
// "planet-radius" both become "planet_radius".
func Normalize(name string) string { return spec.NormalizeName(name) }
