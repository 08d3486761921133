package engine

import (
	"slices"
	"strings"

	"github.com/exohunter/exohunter/engine/mapping"
)

// checkUnitOverrides refuses a unit override (ingest --unit COL=UNIT) that
// does nothing or that the file itself contradicts. Before, --unit
// koi_depth=percent on the TOI table, whose # header says pl_trandep is in
// [ppm], multiplied every depth by 10,000 and made 6,408 of its 7,703
// objects anomalous, and the same override on a table with no depth
// column was silently ignored.
func checkUnitOverrides(ds *Dataset, m *mapping.Mapping) error {
	names := make([]string, 0, len(ds.Units))
	for name := range ds.Units {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		unit := ds.Units[name]
		i := slices.IndexFunc(m.Report, func(r mapping.ReportEntry) bool {
			return r.Canonical == name && r.Status == mapping.StatusMapped
		})
		if i < 0 {
			return Errorf(BadRequest, "The unit override %s=%s names a column this file does not have: no column is mapped to %s. Leave the override out, or see the mapping for the file's columns.", name, unit, name)
		}
		src := m.Report[i].Source
		col, ok := ds.NASAHeader.Column(src)
		if !ok || col.Unit == "" {
			continue
		}
		if stated := headerUnit(col.Unit); stated != "" && stated != unit {
			return Errorf(BadRequest, "The unit override %s=%s contradicts the file: its # header gives %s in [%s]. Leave the override out.", name, unit, src, col.Unit)
		}
	}
	return nil
}

// headerUnit spells a unit of a NASA # header as the unit overrides do,
// or "" when it is not one of theirs.
func headerUnit(u string) string {
	switch strings.ToLower(strings.TrimSpace(u)) {
	case "ppm":
		return "ppm"
	case "%", "percent":
		return "percent"
	case "fraction":
		return "fraction"
	}
	return ""
}
