// Package spec turns ExoHunter's YAML configuration into validated values.
//
// The load pipeline is fixed: Default → read bytes → decode strictly
// (yaml.Decoder with KnownFields) → normalize → Validate. Every problem found
// along the way is collected as an *Error carrying file, line, column and a
// field path such as "rules.categories[3].when"; positions come from a second
// pass over the file's yaml.Node tree, so the config structs stay plain.
//
// The package is pure: it reads through io.Reader or fs.FS and never touches
// DuckDB. The SQL it validates is checked again by DuckDB in the engine.
//
// Files are registered in a table (see Register), so that configs owned by
// other parts of the project (labeling, features, ...) can join the Bundle
// from their own file with an init function instead of editing this package's
// loader.
package spec
