package engine

import (
	"strings"
	"testing"
)

// TestDeriveDatasetName turns client file names into safe identifiers.
func TestDeriveDatasetName(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "nasa", in: "koi_cumulative_2025-09-29_commented.csv", want: "koi_cumulative_2025_09_29_commented"},
		{name: "gzip", in: "TOI.csv.gz", want: "toi"},
		{name: "spaces and brackets", in: "My KOI (2025).csv", want: "my_koi_2025"},
		{name: "windows path", in: `C:\Users\me\k2.csv`, want: "k2"},
		{name: "traversal", in: "../../etc/passwd", want: "passwd"},
		{name: "digit first", in: "2025.parquet", want: "d_2025"},
		{name: "nothing usable", in: "..", want: "dataset"},
		{name: "unicode", in: "Étoiles☉.csv", want: "toiles"},
		{name: "long", in: strings.Repeat("a", 200) + ".csv", want: strings.Repeat("a", maxDerivedName)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := deriveDatasetName(tc.in); got != tc.want {
				t.Errorf("deriveDatasetName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestSafeFileName keeps stored file names inside their folder and gives
// them the extension of their content.
func TestSafeFileName(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, format, compression, want string }{
		{name: "plain", in: "koi.csv", format: FormatCSV, compression: CompressionNone, want: "koi.csv"},
		{name: "traversal", in: "../../x/../evil.csv", format: FormatCSV, compression: CompressionNone, want: "evil.csv"},
		{name: "hidden", in: ".bashrc", format: FormatCSV, compression: CompressionNone, want: "bashrc.csv"},
		{name: "no extension", in: "sync", format: FormatCSV, compression: CompressionNone, want: "sync.csv"},
		{name: "tsv kept", in: "a b.tsv", format: FormatCSV, compression: CompressionNone, want: "a_b.tsv"},
		{name: "gzip", in: "toi.csv.gz", format: FormatCSV, compression: CompressionGzip, want: "toi.csv.gz"},
		{name: "gzip without name", in: "download", format: FormatCSV, compression: CompressionGzip, want: "download.csv.gz"},
		{name: "parquet", in: "x", format: FormatParquet, compression: CompressionNone, want: "x.parquet"},
		{name: "empty", in: "", format: FormatCSV, compression: CompressionNone, want: "data.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := safeFileName(tc.in, tc.format, tc.compression); got != tc.want {
				t.Errorf("safeFileName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzDatasetNames checks that derived names are always valid and stored
// file names never escape their folder.
func FuzzDatasetNames(f *testing.F) {
	for _, s := range []string{"koi.csv", "../../etc/passwd", `..\..\x.csv.gz`, "", "ÿ.parquet", "a/b/.", "…"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if n := deriveDatasetName(in); !ValidDatasetName(n) {
			t.Fatalf("deriveDatasetName(%q) = %q is not valid", in, n)
		}
		for _, format := range []string{FormatCSV, FormatParquet} {
			fn := safeFileName(in, format, CompressionNone)
			if fn == "" || len(fn) > 100 || strings.ContainsAny(fn, `/\`) || strings.HasPrefix(fn, ".") || fn == ".." {
				t.Fatalf("safeFileName(%q) = %q", in, fn)
			}
		}
	})
}
