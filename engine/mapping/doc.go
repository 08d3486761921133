// Package mapping maps a source table's columns onto ExoHunter's canonical
// KOI-standard columns (schemas/columns.yaml): it normalises names, detects
// the mission from the column signature, resolves collisions by explicit
// priority, attaches error columns and unit conversions, and reports what
// happened to every source column.
//
// The package is pure: it sees column names and types, never data.
package mapping
