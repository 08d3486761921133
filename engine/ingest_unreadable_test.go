package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngest_unreadableNumbers: numbers that cannot be read are counted in
// the mapping report, with an example, and read as missing; the usual
// spellings of "missing" and empty cells are not counted, nor is a clean
// numeric column.
func TestIngest_unreadableNumbers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "koi_bad.csv")
	text := "kepid,kepoi_name,koi_disposition,koi_period,koi_prad,koi_srad\n" +
		"1,K00001.01,CANDIDATE,10,abc,1\n" +
		"2,K00002.01,CANDIDATE,11,NA,1\n" +
		"3,K00003.01,CANDIDATE,12,,1\n" +
		"4,K00004.01,CANDIDATE,13,2.5,1\n" +
		"5,K00005.01,CANDIDATE,14,-inf,1\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	e := MustOpenEngine(t)
	ds := MustIngest(t, e, IngestInput{Path: path, Name: "bad"})
	var prad, period int64 = -1, -1
	for _, r := range ds.Mapping {
		switch r.Source {
		case "koi_prad":
			prad = r.Unreadable
			if !strings.Contains(r.Reason, `2 values are not numbers (e.g. "-inf"), read as missing`) {
				t.Errorf("koi_prad reason %q", r.Reason)
			}
		case "koi_period":
			period = r.Unreadable
		}
	}
	if prad != 2 || period != 0 {
		t.Errorf("unreadable koi_prad %d, koi_period %d; want 2 (abc, -inf) and 0", prad, period)
	}
	again, err := e.Dataset(context.Background(), "bad")
	if err != nil || len(again.Mapping) != len(ds.Mapping) {
		t.Fatalf("dataset read back: %v", err)
	}
	for i := range again.Mapping {
		if again.Mapping[i] != ds.Mapping[i] {
			t.Errorf("stored report %+v, ingest answered %+v", again.Mapping[i], ds.Mapping[i])
		}
	}
	var got int64
	if err := e.db.QueryRow(`SELECT count(koi_prad) FROM normalized.bad`).Scan(&got); err != nil || got != 1 {
		t.Errorf("%d radii read (%v), want 1 (2.5)", got, err)
	}
}
