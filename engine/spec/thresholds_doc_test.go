package spec_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/engine/spec"
)

// TestThresholds_documented: every shipped threshold has a unit and a
// one-line description (GET /api/thresholds, the dashboard's run form).
func TestThresholds_documented(t *testing.T) {
	t.Parallel()
	units := []string{"R_earth", "R_sun", "M_sun", "days", "K", "percent", "-", "fraction"}
	all := MustLoadSpec(t).Thresholds.All()
	if len(all) < 20 {
		t.Fatalf("%d thresholds", len(all))
	}
	for _, th := range all {
		if !slices.Contains(units, th.Unit) || len(th.Description) < 10 || strings.Contains(th.Description, "\n") {
			t.Errorf("%s: unit %q, description %q", th.Key, th.Unit, th.Description)
		}
	}
	if got := all[0]; got != (spec.Threshold{Key: "planet_radius.rocky_max", Value: 2, Unit: "R_earth", Description: "rocky_candidate below this radius"}) {
		t.Errorf("first threshold %+v", got)
	}
}

// TestThresholds_comments: where unit and description come from.
func TestThresholds_comments(t *testing.T) {
	t.Parallel()
	text := `a:
  line: 1        # K: hot enough
  # head comment: for a key
  # over two lines
  head: 2
  plain: 3
  sentence: 4    # measured vs expected: a ratio
  dash: 5        # -: no unit
`
	th, err := spec.ParseThresholds(strings.NewReader(text), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Threshold{
		{Key: "a.line", Value: 1, Unit: "K", Description: "hot enough"},
		{Key: "a.head", Value: 2, Description: "head comment: for a key over two lines"},
		{Key: "a.plain", Value: 3},
		{Key: "a.sentence", Value: 4, Description: "measured vs expected: a ratio"},
		{Key: "a.dash", Value: 5, Unit: "-", Description: "no unit"},
	}
	if d := cmp.Diff(want, th.All()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
