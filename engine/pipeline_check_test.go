package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/engine/spec"
)

// configWith returns the repository configs with text replacements applied
// to one file, as an fs.FS for spec.Load.
func configWith(tb testing.TB, file string, replace ...string) fstest.MapFS {
	tb.Helper()
	fsys := fstest.MapFS{}
	for _, f := range []string{spec.ColumnsFile, spec.MetricsFile, spec.ThresholdsFile, spec.RulesFile} {
		data, err := os.ReadFile("../" + f)
		if err != nil {
			tb.Fatal(err)
		}
		if f == file {
			text := string(data)
			for i := 0; i+1 < len(replace); i += 2 {
				if !strings.Contains(text, replace[i]) {
					tb.Fatalf("%s has no %q", f, replace[i])
				}
				text = strings.Replace(text, replace[i], replace[i+1], 1)
			}
			data = []byte(text)
		}
		fsys[f] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// TestCheckSpec feeds DuckDB configs that pass the static checks but not
// DuckDB's binder, and expects each problem at the YAML line that caused it.
func TestCheckSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fsys fstest.MapFS
		want []string // "file:line:col: path" of each problem
	}{
		{name: "repository config", fsys: configWith(t, spec.RulesFile)},
		{
			name: "unknown function in a metric",
			fsys: configWith(t, spec.MetricsFile, "cbrt(koi_smass", "cube_root(koi_smass"),
			want: []string{fmt.Sprintf("configs/metrics.yaml:%d:5: metrics[1] (sma_derived).sql", engine.ConfigLine(t, spec.MetricsFile, "cbrt(koi_smass"))},
		},
		{
			name: "type errors in two rules",
			fsys: configWith(t, spec.RulesFile,
				"when: koi_prad IS NULL\n", "when: koi_prad + 'abc'\n",
				"when: koi_period > $plausible.max_period OR", "when: koi_period > [1, $plausible.max_period] OR"),
			want: []string{
				fmt.Sprintf("configs/rules.yaml:%d:5: flags[0] (FLAG_MISSING_PRAD).when", engine.ConfigLine(t, spec.RulesFile, "when: koi_prad IS NULL\n")),
				fmt.Sprintf("configs/rules.yaml:%d:5: flags[8] (FLAG_IMPLAUSIBLE_VALUE).when", engine.ConfigLine(t, spec.RulesFile, "when: koi_period > $plausible.max_period OR")),
			},
		},
		{
			name: "score mixing text and numbers",
			fsys: configWith(t, spec.RulesFile, "WHEN no_result THEN $score.unknown", "WHEN no_result THEN koi_disposition"),
			want: []string{fmt.Sprintf("configs/rules.yaml:%d:3: score.sql", engine.ConfigLine(t, spec.RulesFile, "\n  sql: >-")+1)},
		},
	}
	db := mustPipelineDB(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := spec.Load(tc.fsys)
			if err != nil {
				t.Fatalf("static checks should pass: %v", err)
			}
			err = engine.CheckSpec(context.Background(), db, b)
			var got []string
			for _, e := range spec.AsErrors(err) {
				if !errors.Is(e, spec.ErrSQL) {
					t.Errorf("%v does not wrap ErrSQL", e)
				}
				got = append(got, strings.SplitN(e.Error(), ": ", 3)[0]+": "+e.Path)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}
