package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseNASAHeader parses archive blocks and generic comments.
func TestParseNASAHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		block string
		want  *NASAHeader
	}{
		{name: "archive", block: "# This file was produced by the NASA Exoplanet Archive  http://exoplanetarchive.ipac.caltech.edu\n# Mon Sep 29 12:55:59 2025\n#\n# User preference: *\n# COLUMN kepid:          KepID\n# COLUMN koi_period:     Orbital Period [days]\n# COLUMN koi_depth:      Transit Depth [ppm]\n# COLUMN st_metratio:    Stellar Metallicity Ratio\n#\n",
			want: &NASAHeader{Lines: 9, Banner: "This file was produced by the NASA Exoplanet Archive  http://exoplanetarchive.ipac.caltech.edu",
				ExportTime: "Mon Sep 29 12:55:59 2025", ExportedAt: "2025-09-29T12:55:59", Notes: []string{"User preference: *"},
				Columns: []NASAColumn{{Name: "kepid", Label: "KepID"}, {Name: "koi_period", Label: "Orbital Period", Unit: "days"}, {Name: "koi_depth", Label: "Transit Depth", Unit: "ppm"}, {Name: "st_metratio", Label: "Stellar Metallicity Ratio"}}}},
		{name: "padded day and crlf", block: "# Sat Oct  4 22:17:01 2025\r\n#\r\n", want: &NASAHeader{Lines: 2, ExportTime: "Sat Oct  4 22:17:01 2025", ExportedAt: "2025-10-04T22:17:01", Columns: []NASAColumn{}}},
		{name: "generic comments", block: "# exported by my script\n\n# COLUMN bad line\n", want: &NASAHeader{Lines: 3, Notes: []string{"exported by my script", "COLUMN bad line"}, Columns: []NASAColumn{}}},
		{name: "unit before an uncertainty's kind", block: "# COLUMN sy_disterr1:    Distance [pc] Upper Unc\n# COLUMN pl_bmasseerr2:  Planet Mass or Mass*sin(i) [Earth Mass] Lower Unc.\n# COLUMN pl_bmasselim:   Planet Mass or Mass*sin(i) [Earth Mass] Limit Flag\n",
			want: &NASAHeader{Lines: 3, Columns: []NASAColumn{{Name: "sy_disterr1", Label: "Distance Upper Unc", Unit: "pc"},
				{Name: "pl_bmasseerr2", Label: "Planet Mass or Mass*sin(i) Lower Unc.", Unit: "Earth Mass"},
				{Name: "pl_bmasselim", Label: "Planet Mass or Mass*sin(i) [Earth Mass] Limit Flag"}}}},
		{name: "no block", block: "", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseNASAHeader([]byte(tc.block))); diff != "" {
				t.Errorf("ParseNASAHeader (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseNASAHeader_RealFiles reads the dictionary of every commented
// archive file: one entry per column, export time present.
func TestParseNASAHeader_RealFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range nasaFiles {
		if tc.skip == 0 {
			continue
		}
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(sharedData, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitAfterN(string(b), "\n", tc.skip+1)
			h := ParseNASAHeader([]byte(strings.Join(lines[:tc.skip], "")))
			if h == nil || h.Lines != tc.skip || len(h.Columns) != tc.cols || h.ExportedAt != tc.exported {
				t.Fatalf("header = %+v", h)
			}
			if c, ok := h.Column("pl_orbper"); ok && c.Unit != "days" {
				t.Errorf("pl_orbper unit = %q, want days", c.Unit)
			}
		})
	}
}

// FuzzParseNASAHeader checks that any block parses without panicking and
// that every line is accounted for.
func FuzzParseNASAHeader(f *testing.F) {
	for _, s := range []string{"# COLUMN a: b [c]\n#\n", "#\n", "# Mon Sep 29 12:55:59 2025\n", "# COLUMN : [\n", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, block string) {
		h := ParseNASAHeader([]byte(block))
		if h == nil {
			return
		}
		want := strings.Count(strings.TrimSuffix(strings.TrimPrefix(block, "\xEF\xBB\xBF"), "\n"), "\n") + 1
		if h.Lines != want {
			t.Fatalf("Lines = %d, want %d for %q", h.Lines, want, block)
		}
		for _, c := range h.Columns {
			if c.Name == "" || strings.ContainsAny(c.Name, " \t") {
				t.Fatalf("bad column %+v", c)
			}
		}
	})
}
