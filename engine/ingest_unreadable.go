package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// noteUnreadable counts, for each numeric canonical column whose source
// column was read as text, the values that are not numbers ("abc", "1.2.3",
// "inf"), and says so in the dataset's mapping report. The normalized view
// reads them as missing, where "the catalog left it empty" and "it could not
// be read" would otherwise look alike. Only text sources are scanned: a file
// whose numeric columns DuckDB read as numbers costs nothing (a bad value
// past DuckDB's sample makes the whole column text, so it is scanned).
// The counts go into ds.Mapping and its meta.datasets row.
func (e *Engine) noteUnreadable(ctx context.Context, ds *Dataset, m *mapping.Mapping) error {
	text := map[string]bool{}
	for _, c := range ds.Columns {
		text[c.Name] = strings.EqualFold(c.Type, "VARCHAR")
	}
	var sources []string
	for _, t := range m.Targets {
		if t.Source != "" && !t.Limit && t.Spec != nil && t.Spec.Role == spec.RoleMeasure && text[t.Source] && !slices.Contains(sources, t.Source) {
			sources = append(sources, t.Source)
		}
	}
	if len(sources) == 0 {
		return nil
	}
	query, err := sqltmpl.UnreadableNumbers(ds.Name, sources)
	if err != nil {
		return err
	}
	counts := make([]int64, len(sources))
	examples := make([]sql.NullString, len(sources))
	dest := make([]any, 0, 2*len(sources))
	for i := range sources {
		dest = append(dest, &counts[i], &examples[i])
	}
	if err := e.db.QueryRowContext(ctx, query).Scan(dest...); err != nil {
		return fmt.Errorf("count unreadable numbers of %s: %w", ds.Name, err)
	}
	changed := false
	for i, s := range sources {
		if counts[i] == 0 {
			continue
		}
		for j := range ds.Mapping {
			r := &ds.Mapping[j]
			if r.Source != s || r.Status != mapping.StatusMapped {
				continue
			}
			r.Unreadable = counts[i]
			r.Reason += fmt.Sprintf("; %s (e.g. %q), read as missing", notNumbers(counts[i]), examples[i].String)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	report, err := json.Marshal(ds.Mapping)
	if err != nil {
		return err
	}
	_, err = e.db.ExecContext(ctx, `UPDATE meta.datasets SET mapping = ?::JSON WHERE name = ?`, string(report), ds.Name)
	return err
}

// notNumbers says "1 value is not a number" or "12 values are not numbers".
func notNumbers(n int64) string {
	if n == 1 {
		return "1 value is not a number"
	}
	return fmt.Sprintf("%d values are not numbers", n)
}
