package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/exohunter/exohunter/engine/spec"
)

// TestSplits_defaults: the shipped file and DefaultSplits agree, so a
// config FS without splits.yaml behaves like the shipped one.
func TestSplits_defaults(t *testing.T) {
	t.Parallel()
	got := MustLoadSpec(t).SplitsConfig()
	if diff := cmp.Diff(spec.DefaultSplits(), got, cmpopts.IgnoreUnexported(spec.Splits{})); diff != "" {
		t.Errorf("configs/splits.yaml vs DefaultSplits (-default +file):\n%s", diff)
	}
	var nilBundle *spec.Bundle
	if s := nilBundle.SplitsConfig(); s.Seed != 1337 || s.CV.Folds != 5 || s.GroupBy != spec.GroupByStar {
		t.Errorf("a nil bundle must give the defaults, got %+v", s)
	}
}

func TestLoad_splitsErrors(t *testing.T) {
	t.Parallel()
	base := "version: 1\nseed: 1337\ngroup_by: star_id\nstratify: true\ncv:\n  folds: 5\n" +
		"holdout:\n  train: 0.70\n  valid: 0.15\n  test: 0.15\nfilters:\n  - {column: koi_period, min: 0.1, max: 10000}\n"
	if _, err := spec.Load(withFile(t, spec.SplitsFile, base)); err != nil {
		t.Fatalf("the base text must load: %v", err)
	}
	tests := []struct {
		name     string
		text     string
		want     error
		wantText string
	}{
		{
			name: "folds", text: strings.Replace(base, "folds: 5", "folds: 1", 1),
			want: spec.ErrOutOfRange, wantText: `configs/splits.yaml:6:3: cv.folds: out of range 1 (want 2 to 20)`,
		},
		{
			name: "fractions", text: strings.Replace(base, "test: 0.15", "test: 0.25", 1),
			want: spec.ErrOutOfRange, wantText: `configs/splits.yaml:7:1: holdout: out of range train + valid + test = 1.1 (want 1)`,
		},
		{
			name: "group", text: strings.Replace(base, "group_by: star_id", "group_by: kepid", 1),
			want: spec.ErrInvalidValue, wantText: `configs/splits.yaml:3:1: group_by: invalid value "kepid" (want star_id or object_id)`,
		},
		{
			name: "leaky filter", text: strings.Replace(base, "column: koi_period", "column: koi_score", 1),
			want: spec.ErrLeak, wantText: `configs/splits.yaml:12:6: filters[0].column: leaks the label "koi_score" (a row filter on the label's sources selects by the label)`,
		},
		{
			name: "unknown filter column", text: strings.Replace(base, "column: koi_period", "column: koi_mass", 1),
			want: spec.ErrUnknownColumn, wantText: `configs/splits.yaml:12:6: filters[0].column: unknown column "koi_mass"`,
		},
		{
			name: "min above max", text: strings.Replace(base, "min: 0.1, max: 10000", "min: 5, max: 1", 1),
			want: spec.ErrOutOfRange, wantText: `configs/splits.yaml:12:5: filters[0]: out of range min 5 > max 1`,
		},
		{
			name: "unknown key", text: base + "shuffle: true\n",
			want: spec.ErrUnknownKey,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := spec.Load(withFile(t, spec.SplitsFile, tc.text))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.wantText != "" && !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("err = %v\nwant it to contain %s", err, tc.wantText)
			}
		})
	}
}
