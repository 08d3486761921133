package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/exohunter/exohunter/engine/spec"
)

// Sentinel errors of Map.
var (
	// ErrNoKnownColumns means the file has none of the measurements the
	// pipeline needs; the engine turns it into a "bad input" message.
	ErrNoKnownColumns = errors.New("none of the columns is a known catalog column")
	ErrUnknownMission = errors.New("unknown mission")
	ErrUnknownUnit    = errors.New("unknown unit")
	ErrUnknownColumn  = errors.New("unknown canonical column")
)

// Report statuses.
const (
	StatusMapped    = "mapped"    // the source column feeds a canonical column
	StatusShadowed  = "shadowed"  // it matched, but a higher-priority column won; passed through
	StatusUnmapped  = "unmapped"  // no alias matched; passed through unchanged
	StatusDropped   = "dropped"   // its name collides with a pipeline column; not passed through
	StatusConstant  = "constant"  // canonical column set from the mission (no source column)
	StatusGenerated = "generated" // canonical column generated (object_id from row_id)
)

// Column is a source column as sniffed by the engine.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Options steer Map.
type Options struct {
	// Mission overrides detection; "" detects it from the columns.
	Mission string
	// Units overrides the unit a canonical column is stored in, e.g.
	// {"koi_depth": "percent"} from `ingest --unit koi_depth=percent`.
	Units map[string]string
}

// ReportEntry says what happened to one source column (or, for constant and
// generated entries, how a canonical column without source was filled).
type ReportEntry struct {
	Source     string `json:"source"`
	Canonical  string `json:"canonical"`
	Alias      string `json:"alias"`
	Conversion string `json:"conversion"`
	Status     string `json:"status"`
	Reason     string `json:"reason,omitempty"`
	// Unreadable counts the source's values that are not numbers, read as
	// missing (set at ingest, for a numeric column read as text).
	Unreadable int64 `json:"unreadable,omitempty"`
}

// Target is how the normalized view builds one canonical column.
type Target struct {
	Canonical string
	// Spec is the canonical column (for error companions, their parent).
	Spec *spec.Column
	// Source is the source column, "" when none maps.
	Source string
	Alias  string
	// Factor and Offset convert the source unit: v*Factor + Offset.
	Factor, Offset float64
	// Constant is the value when no source maps (e.g. CONFIRMED for ps).
	Constant string
	// Generated is "row_id" when the value is the row number as text.
	Generated string
	// Limit marks the limit companion <name>_lim (spec.Column.Limits):
	// an INTEGER read as it is, never converted.
	Limit bool
}

// Mapping is the result of Map.
type Mapping struct {
	Mission string
	Report  []ReportEntry
	// Columns are the source columns in file order.
	Columns []Column
	// Targets are the canonical columns in columns.yaml order, each
	// followed by its companions (errors, then limit).
	Targets []Target
	// PassThrough lists source columns copied unchanged, in file order.
	PassThrough []string

	ids []string
}

// IDColumns returns the source columns that hold identifiers and must be
// read as VARCHAR (so TOI 1000.10 stays "1000.10"): every column matching an
// id alias, whether it won or was shadowed.
func (m *Mapping) IDColumns() []string { return slices.Clone(m.ids) }

// Target returns the target of a canonical column.
func (m *Mapping) Target(canonical string) (Target, bool) {
	for _, t := range m.Targets {
		if t.Canonical == canonical {
			return t, true
		}
	}
	return Target{}, false
}

// Map maps source columns onto the canonical columns of c. It returns an
// error wrapping ErrNoKnownColumns when no measurement maps, and
// ErrUnknownMission or ErrUnknownUnit for bad options.
func Map(cols []Column, c *spec.Columns, opt Options) (*Mapping, error) {
	if err := checkUnits(c, opt.Units); err != nil {
		return nil, err
	}
	mission := opt.Mission
	if mission == "" {
		mission = Detect(cols, c)
	} else if _, ok := c.Mission(mission); !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownMission, mission)
	}
	mp := &mapper{cols: cols, c: c, opt: opt, mission: mission, lineage: c.Lineage(mission),
		used: make([]string, len(cols)), entries: make([]ReportEntry, len(cols))}
	mp.normalized = make([]string, len(cols))
	for i, col := range cols {
		mp.normalized[i] = Normalize(col.Name)
	}
	m := &Mapping{Mission: mission, Columns: slices.Clone(cols)}
	for i := range c.Columns {
		m.Targets = append(m.Targets, mp.mapColumn(&c.Columns[i])...)
	}
	m.ids = mp.ids
	m.Report, m.PassThrough = mp.finish(c)
	if !hasMeasure(m.Targets) {
		return nil, fmt.Errorf("%w: expected names such as koi_period, pl_orbper or orbital_period, koi_prad, pl_rade or planet_radius", ErrNoKnownColumns)
	}
	return m, nil
}

// checkUnits validates the unit overrides against the columns spec.
func checkUnits(c *spec.Columns, units map[string]string) error {
	for _, name := range sortedKeys(units) {
		col, ok := c.Column(name)
		if !ok {
			return fmt.Errorf("%w %q in unit override", ErrUnknownColumn, name)
		}
		if _, ok := col.Units[units[name]]; !ok {
			if len(col.Units) == 0 {
				return fmt.Errorf("%w %q for %s: it takes no unit override (the columns that do: %s)", ErrUnknownUnit, units[name], name,
					strings.Join(unitColumns(c), ", "))
			}
			return fmt.Errorf("%w %q for %s (known: %s)", ErrUnknownUnit, units[name], name,
				strings.Join(sortedKeys(col.Units), ", "))
		}
	}
	return nil
}

// unitColumns lists the columns that take a unit override.
func unitColumns(c *spec.Columns) []string {
	var out []string
	for _, col := range c.Columns {
		if len(col.Units) > 0 {
			out = append(out, col.Name)
		}
	}
	return out
}

// hasMeasure reports whether any of the signalMeasures found a source.
func hasMeasure(ts []Target) bool {
	for _, t := range ts {
		if t.Source != "" && t.Spec.Role == spec.RoleMeasure && slices.Contains(signalMeasures, t.Canonical) {
			return true
		}
	}
	return false
}

// signalMeasures are the measurements that make a file a catalog of
// signals: without one of them the pipeline has nothing to compute from.
// A file that only matches a short generic alias (a column "b", read as the
// impact parameter) or only stellar columns is not one.
var signalMeasures = []string{"koi_period", "koi_prad", "koi_depth", "koi_duration"}

// Detect returns the first mission, in columns.yaml order, whose required
// columns are all present; generic when none matches.
func Detect(cols []Column, c *spec.Columns) string {
	have := map[string]bool{}
	for _, col := range cols {
		have[Normalize(col.Name)] = true
	}
	for _, m := range c.Missions {
		if len(m.Requires) == 0 {
			continue
		}
		ok := true
		for _, r := range m.Requires {
			ok = ok && have[Normalize(r)]
		}
		if ok {
			return m.Name
		}
	}
	return spec.GenericMission
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
