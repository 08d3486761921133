package spec_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/exohunter/exohunter/engine/spec"
)

// TestLabeling_defaults: the shipped file and DefaultLabeling agree, so a
// config FS without labeling.yaml behaves like the shipped one.
func TestLabeling_defaults(t *testing.T) {
	t.Parallel()
	b := MustLoadSpec(t)
	got := b.LabelingConfig()
	if diff := cmp.Diff(spec.DefaultLabeling(), got, cmpopts.IgnoreUnexported(spec.Labeling{})); diff != "" {
		t.Errorf("configs/labeling.yaml vs DefaultLabeling (-default +file):\n%s", diff)
	}
	if got.Claims.Expiry != 30*time.Minute || got.Batch.Size != 50 {
		t.Errorf("claims %v, batch %d", got.Claims.Expiry, got.Batch.Size)
	}
	var nilBundle *spec.Bundle
	if nilBundle.LabelingConfig().Batch.Strategy != spec.StrategyPriority {
		t.Error("a nil bundle must give the defaults")
	}
}

// TestFeatures_defaults: the shipped feature spec loads and reads nothing
// leaky.
func TestFeatures_defaults(t *testing.T) {
	t.Parallel()
	fs := MustLoadSpec(t).FeaturesConfig()
	if fs == nil || len(fs.OutputNames()) < 30 {
		t.Fatalf("features = %+v", fs)
	}
	for _, f := range fs.All() {
		for _, c := range f.Expr.Columns {
			if spec.IsLeaky(c) {
				t.Errorf("%s reads %s", f.Name, c)
			}
		}
	}
	for _, name := range []string{"koi_fpflag_nt", "KOI_SCORE", "category", "koi_disposition", "koi_pdisposition"} {
		if !spec.IsLeaky(name) {
			t.Errorf("IsLeaky(%q) = false", name)
		}
	}
}

func TestLoad_labelingAndFeatureErrors(t *testing.T) {
	t.Parallel()
	// lab is a minimal valid labeling.yaml; each case changes one line.
	lab := "version: 1\nbatch:\n  size: 50\n  strategy: priority\ncategory_weights:\n  candidate: 3\n  rocky_candidate: 2\n" +
		"interesting_flags:\n  FLAG_DEPTH_TOO_DEEP: 0.5\nexclude:\n  nasa_dispositions: [CONFIRMED, FALSE POSITIVE]\n" +
		"claims:\n  expire_after: 30m\n"
	if _, err := spec.Load(withFile(t, spec.LabelingFile, lab)); err != nil {
		t.Fatalf("the base text must load: %v", err)
	}
	tests := []struct {
		name     string
		file     string
		text     string
		want     error
		wantText string
	}{
		{
			name: "category as exclusion", file: spec.LabelingFile,
			text: strings.Replace(lab, "nasa_dispositions: [CONFIRMED, FALSE POSITIVE]", "nasa_dispositions: [confirmed_planet]", 1),
			want: spec.ErrNotDisposition,
			wantText: `configs/labeling.yaml:11:23: exclude.nasa_dispositions[0]: not a catalog disposition "confirmed_planet" is a category; ` +
				`exclusions compare NASA dispositions: write CONFIRMED, CANDIDATE or FALSE POSITIVE`,
		},
		{
			name: "unknown flag", file: spec.LabelingFile,
			text: strings.Replace(lab, "FLAG_DEPTH_TOO_DEEP: 0.5", "FLAG_DEPTH_TOO_SHALLOW: 0.5", 1),
			want: spec.ErrUnknownFlag, wantText: `configs/labeling.yaml:9:3: interesting_flags.FLAG_DEPTH_TOO_SHALLOW: unknown flag "FLAG_DEPTH_TOO_SHALLOW" (not in configs/rules.yaml)`,
		},
		{
			name: "unknown category weight", file: spec.LabelingFile,
			text: strings.Replace(lab, "  candidate: 3", "  candidates: 3", 1),
			want: spec.ErrUnknownCategory, wantText: `configs/labeling.yaml:6:3: category_weights.candidates: unknown category "candidates"`,
		},
		{
			name: "strategy", file: spec.LabelingFile,
			text: strings.Replace(lab, "strategy: priority", "strategy: loudest", 1),
			want: spec.ErrInvalidValue, wantText: `configs/labeling.yaml:4:3: batch.strategy: invalid value "loudest" (want one of [priority random uncertainty])`,
		},
		{
			name: "claim expiry", file: spec.LabelingFile,
			text: strings.Replace(lab, "expire_after: 30m", "expire_after: forever", 1),
			want: spec.ErrInvalidValue, wantText: `configs/labeling.yaml:13:3: claims.expire_after: invalid value "forever" (want a duration such as 30m or 2h)`,
		},
		{
			name: "weight not a number", file: spec.LabelingFile,
			text: strings.Replace(lab, "rocky_candidate: 2\n", "rocky_candidate: high\n", 1),
			want: spec.ErrNotNumber, wantText: `configs/labeling.yaml:7:3: category_weights.rocky_candidate: not a number (got "high")`,
		},
		{
			name: "leaky numeric", file: spec.FeaturesFile,
			text: "version: 1\nnumeric:\n  - name: koi_score\n",
			want: spec.ErrLeak, wantText: `configs/features.yaml:3:5: numeric[0].name: leaks the label "koi_score"`,
		},
		{
			name: "leaky derived", file: spec.FeaturesFile,
			text: "version: 1\nderived:\n  - name: x\n    sql: koi_prad * koi_fpflag_ss\n",
			want: spec.ErrLeak, wantText: `configs/features.yaml:4:5: derived[0] (x).sql: leaks the label "koi_fpflag_ss"`,
		},
		{
			name: "unknown column", file: spec.FeaturesFile,
			text: "version: 1\nderived:\n  - name: x\n    sql: ln(koi_mass)\n",
			want: spec.ErrUnknownColumn, wantText: `configs/features.yaml:4:5: derived[0] (x).sql: unknown column "koi_mass"`,
		},
		{
			name: "imputation", file: spec.FeaturesFile,
			text: "version: 1\nnumeric:\n  - name: koi_prad\n    impute: mode\n",
			want: spec.ErrInvalidValue, wantText: `configs/features.yaml:4:5: numeric[0] (koi_prad).impute: invalid value "mode" (want one of [median mean zero constant none])`,
		},
		{
			name: "constant without value", file: spec.FeaturesFile,
			text: "version: 1\nnumeric:\n  - name: koi_prad\n    impute: constant\n",
			want: spec.ErrMissingKey, wantText: `configs/features.yaml:3:5: numeric[0] (koi_prad).value: missing required key (value, for impute: constant)`,
		},
		{
			name: "one-hot collides", file: spec.FeaturesFile,
			text: "version: 1\nnumeric:\n  - name: t_a\n    sql: ''\ncategorical:\n  - name: t\n    sql: \"'a'\"\n    values: [A]\n",
			want: spec.ErrDuplicateName, wantText: `configs/features.yaml:8:14: categorical[0] (t).values[0]: duplicate name "t_A"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := spec.Load(withFile(t, tc.file, tc.text))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var es spec.Errors
			if !errors.As(err, &es) {
				t.Fatalf("err is %T, want spec.Errors", err)
			}
			var lines []string
			for _, e := range es {
				if e.File == tc.file && errors.Is(e, tc.want) {
					lines = append(lines, e.Error())
				}
			}
			if diff := cmp.Diff([]string{tc.wantText}, lines); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
