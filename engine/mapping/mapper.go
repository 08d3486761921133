package mapping

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/exohunter/exohunter/engine/spec"
)

// mapper holds the state of one Map call.
type mapper struct {
	cols       []Column
	normalized []string
	c          *spec.Columns
	opt        Options
	mission    string
	lineage    []string // mission, then what it is like

	used    []string      // canonical name each source column feeds, "" if none
	entries []ReportEntry // per source column
	extra   []ReportEntry // constant / generated entries
	ids     []string
}

// candidate is an alias with its rank and where it came from.
type candidate struct {
	alias, from string
}

// candidates returns the aliases of col in priority order: the mission's
// own (or the nearest mission it is like), the canonical name, then generic.
func (mp *mapper) candidates(col *spec.Column) []candidate {
	var out []candidate
	seen := map[string]bool{}
	add := func(alias, from string) {
		n := Normalize(alias)
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, candidate{n, from})
		}
	}
	for _, m := range mp.lineage {
		if as, ok := col.Aliases[m]; ok {
			for _, a := range as {
				add(a, m)
			}
			break
		}
	}
	add(col.Name, "canonical name")
	for _, a := range col.Aliases[spec.GenericMission] {
		add(a, spec.GenericMission)
	}
	return out
}

// lookup returns the nearest value along the mission lineage.
func lookup(m map[string]string, lineage []string) (string, bool) {
	for _, mission := range lineage {
		if v, ok := m[mission]; ok {
			return v, true
		}
	}
	return "", false
}

// mapColumn finds the source of one canonical column and of its
// companions (errors, limit), marking winners mapped and other matches shadowed.
func (mp *mapper) mapColumn(col *spec.Column) []Target {
	t := Target{Canonical: col.Name, Spec: col, Factor: 1}
	if col.Role == spec.RoleMission {
		// note: the detected mission, so that rules and users can tell the
		// catalogs' conventions apart; a source column of that name passes
		// through under its own name only if it does not collide.
		t.Constant = mp.mission
		return []Target{t}
	}
	cands := mp.candidates(col)
	winner := -1
	// note: candidates are scanned in priority order and source columns in
	// file order, so the winner depends only on columns.yaml and the file,
	// never on which column happens to be examined last.
	for rank, cand := range cands {
		for i, n := range mp.normalized {
			if n != cand.alias || mp.used[i] != "" {
				continue
			}
			if col.Role == spec.RoleID {
				// shadowed ids are read as text too: they pass through
				// and must not lose digits either
				mp.ids = append(mp.ids, mp.cols[i].Name)
			}
			if winner < 0 {
				winner = i
				t.Source, t.Alias = mp.cols[i].Name, cand.alias
				mp.used[i] = col.Name
				mp.entries[i] = ReportEntry{Source: t.Source, Canonical: col.Name, Alias: cand.alias, Status: StatusMapped,
					Reason: fmt.Sprintf("alias %s (%s, priority %d of %d)", cand.alias, cand.from, rank+1, len(cands))}
				continue
			}
			reason := fmt.Sprintf("%s comes from %s, whose alias %s has higher priority than %s (priority %d)",
				col.Name, t.Source, t.Alias, cand.alias, rank+1)
			if cand.alias == t.Alias {
				reason = fmt.Sprintf("%s comes from %s, which matches the same alias %s earlier in the file", col.Name, t.Source, t.Alias)
			}
			mp.entries[i] = ReportEntry{Source: mp.cols[i].Name, Canonical: col.Name, Alias: cand.alias, Status: StatusShadowed, Reason: reason}
			mp.used[i] = "-" // matched: not available to other canonical columns
		}
	}
	if winner >= 0 {
		mp.convert(&t, col, winner)
		if len(col.Values) > 0 {
			mp.entries[winner].Conversion = describeValues(col.Values)
		}
	} else {
		mp.fillMissing(&t, col)
	}
	out := []Target{t}
	for k, name := range col.ErrorNames() {
		et := Target{Canonical: name, Spec: col, Factor: t.Factor}
		if winner >= 0 {
			mp.mapError(&et, mp.normalized[winner], k+1)
		}
		out = append(out, et)
	}
	if name := col.LimitName(); name != "" {
		lt := Target{Canonical: name, Spec: col, Factor: 1, Limit: true}
		if winner >= 0 {
			base := mp.normalized[winner]
			mp.mapCompanion(&lt, []string{base + "_lim", base + "lim"}, "limit flag of "+base)
		}
		out = append(out, lt)
	}
	return out
}

// convert applies the source unit (override, else the mission's).
func (mp *mapper) convert(t *Target, col *spec.Column, i int) {
	unit, ok := mp.opt.Units[col.Name]
	if !ok {
		unit, ok = lookup(col.SourceUnits, mp.lineage)
	}
	if !ok || unit == col.Unit {
		return // already in the canonical unit
	}
	conv := col.Units[unit]
	t.Factor, t.Offset = conv.Factor, conv.Offset
	mp.entries[i].Conversion = describe(unit, col.Unit, conv)
}

// describe prints a conversion for the report, e.g. "percent -> ppm (x10000)".
func describe(from, to string, c spec.Conversion) string {
	var parts []string
	if c.Factor != 1 {
		parts = append(parts, "x"+strconv.FormatFloat(c.Factor, 'g', -1, 64))
	}
	if c.Offset != 0 {
		parts = append(parts, fmt.Sprintf("%+g", c.Offset))
	}
	return fmt.Sprintf("%s -> %s (%s)", from, to, strings.Join(parts, " "))
}

// describeValues prints a value map for the report, e.g. "values: CP, KP ->
// CONFIRMED; FA, FP -> FALSE POSITIVE; other values -> NULL": a reader
// must see that a TESS false alarm (FA) was counted as a false positive.
// Values kept as they are (CONFIRMED -> CONFIRMED) are not listed.
func describeValues(values map[string]string) string {
	by := map[string][]string{}
	for from, to := range values {
		if from != to {
			by[to] = append(by[to], from)
		}
	}
	var parts []string
	for _, to := range slices.Sorted(maps.Keys(by)) {
		slices.Sort(by[to])
		parts = append(parts, strings.Join(by[to], ", ")+" -> "+to)
	}
	parts = append(parts, "other values -> NULL")
	return "values: " + strings.Join(parts, "; ")
}

// fillMissing sets a constant or generated value for a column without source.
func (mp *mapper) fillMissing(t *Target, col *spec.Column) {
	if v, ok := lookup(col.Constant, mp.lineage); ok {
		t.Constant = v
		mp.extra = append(mp.extra, ReportEntry{Canonical: col.Name, Conversion: "constant " + v, Status: StatusConstant,
			Reason: fmt.Sprintf("every %s row is %s", mp.mission, v)})
		return
	}
	if col.Fallback != "" {
		t.Generated = col.Fallback
		mp.extra = append(mp.extra, ReportEntry{Canonical: col.Name, Conversion: "from " + col.Fallback, Status: StatusGenerated,
			Reason: "no source column; the row number stands in"})
	}
}

// mapError attaches the k-th error companion found next to the winner:
// <alias>_errK (KOI style) or <alias>errK (archive style).
func (mp *mapper) mapError(t *Target, base string, k int) {
	mp.mapCompanion(t, []string{fmt.Sprintf("%s_err%d", base, k), fmt.Sprintf("%serr%d", base, k)}, "error column of "+base)
}

// mapCompanion maps the first free source column whose normalized name is
// one of wants to the companion t.
func (mp *mapper) mapCompanion(t *Target, wants []string, reason string) {
	for _, want := range wants {
		for i, n := range mp.normalized {
			if n != want || mp.used[i] != "" {
				continue
			}
			t.Source, t.Alias = mp.cols[i].Name, want
			mp.used[i] = t.Canonical
			mp.entries[i] = ReportEntry{Source: t.Source, Canonical: t.Canonical, Alias: want, Status: StatusMapped, Reason: reason}
			if t.Factor != 1 {
				mp.entries[i].Conversion = fmt.Sprintf("x%g", t.Factor)
			}
			return
		}
	}
}

// finish completes the report for unmapped columns and decides which
// columns pass through: unmapped and shadowed ones, unless their name
// collides (case-insensitively, as DuckDB compares) with a pipeline column.
func (mp *mapper) finish(c *spec.Columns) ([]ReportEntry, []string) {
	taken := map[string]bool{}
	for _, n := range append(c.OutputNames(), c.Reserved...) {
		taken[strings.ToLower(n)] = true
	}
	var pass []string
	for i, col := range mp.cols {
		e := &mp.entries[i]
		if e.Status == "" {
			*e = ReportEntry{Source: col.Name, Status: StatusUnmapped, Reason: "passed through unchanged"}
		}
		if e.Status == StatusMapped {
			continue
		}
		if taken[strings.ToLower(col.Name)] {
			reason := "name collides with a pipeline column: not in the runs, only in the raw view"
			if e.Status == StatusShadowed {
				reason = e.Reason + "; " + reason
			}
			e.Status, e.Reason = StatusDropped, reason
			continue
		}
		taken[strings.ToLower(col.Name)] = true
		pass = append(pass, col.Name)
	}
	return append(mp.entries, mp.extra...), pass
}
