package engine

import (
	"path"
	"regexp"
	"strings"
)

// datasetNameRe is the shape of a dataset name: a safe SQL identifier and
// file name, lowercase because SQL identifiers are case-insensitive.
var datasetNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// maxDerivedName leaves room for a _NN suffix under 63 characters.
const maxDerivedName = 56

// knownExtensions are stripped from file names to derive dataset names.
var knownExtensions = []string{".gz", ".gzip", ".csv", ".tsv", ".tab", ".psv", ".txt", ".dat", ".parquet", ".pq"}

// ValidDatasetName reports whether name can be used as a dataset name.
func ValidDatasetName(name string) bool { return datasetNameRe.MatchString(name) }

// checkDatasetName refuses a user-chosen name that is not a safe
// identifier, suggesting one that is.
func checkDatasetName(name string) error {
	if ValidDatasetName(name) {
		return nil
	}
	return Errorf(BadRequest, "%q cannot be a dataset name: use lowercase letters, digits and underscores, starting with a letter, at most 63 characters (for example %q).", name, deriveDatasetName(name))
}

// deriveDatasetName turns a client file name into a safe identifier:
// "KOI cumulative (2025).csv.gz" becomes "koi_cumulative_2025". It never
// fails; an unusable name becomes "dataset".
func deriveDatasetName(original string) string {
	base := baseName(original)
	lower := strings.ToLower(base)
	for changed := true; changed; {
		changed = false
		for _, ext := range knownExtensions {
			if strings.HasSuffix(lower, ext) && len(lower) > len(ext) {
				lower = strings.TrimSuffix(lower, ext)
				changed = true
			}
		}
	}
	var b strings.Builder
	under := false
	for _, r := range lower {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		switch {
		case ok:
			b.WriteRune(r)
			under = false
		case !under && b.Len() > 0:
			b.WriteByte('_')
			under = true
		}
	}
	name := strings.Trim(b.String(), "_")
	if name == "" {
		return "dataset"
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "d_" + name
	}
	if len(name) > maxDerivedName {
		name = strings.TrimRight(name[:maxDerivedName], "_")
	}
	return name
}

// baseName returns the last element of a client-supplied name, whichever
// separator it uses. The result is never a path.
func baseName(original string) string {
	s := strings.ReplaceAll(original, `\`, "/")
	s = path.Base(s)
	if s == "." || s == "/" || s == ".." {
		return ""
	}
	return s
}

// csvExtensions are the extensions of CSV-like text files.
var csvExtensions = []string{".csv", ".tsv", ".tab", ".psv", ".txt", ".dat"}

// foreignExtensions name formats that are not catalogs ExoHunter reads.
var foreignExtensions = map[string]string{
	".xlsx": "an Excel workbook", ".xls": "an Excel workbook", ".ods": "a spreadsheet",
	".json": "a JSON file", ".ndjson": "a JSON file", ".jsonl": "a JSON file", ".xml": "an XML file",
	".vot": "a VOTable", ".votable": "a VOTable", ".fits": "a FITS file", ".fit": "a FITS file",
	".h5": "an HDF5 file", ".hdf5": "an HDF5 file", ".feather": "an Arrow file", ".arrow": "an Arrow file",
	".zip": "a ZIP archive", ".pdf": "a PDF document", ".pkl": "a Python pickle", ".npy": "a NumPy array",
	".duckdb": "a DuckDB database", ".db": "a database file", ".sqlite": "a database file",
}

// splitExt returns the lowercase extension of a client file name and
// whether it ended in .gz (the extension is then the one before .gz).
func splitExt(original string) (ext string, gz bool) {
	lower := strings.ToLower(baseName(original))
	if strings.HasSuffix(lower, ".gz") {
		gz = true
		lower = strings.TrimSuffix(lower, ".gz")
	}
	return path.Ext(lower), gz
}

// checkExtension refuses a file whose name says it is something other than
// what its bytes are: a .json or .xlsx name, a .parquet name on text, a
// .csv name on Parquet bytes, a .gz name on uncompressed bytes. A missing
// or unknown extension is fine: the content decides.
func checkExtension(original, format, compression string) error {
	ext, gz := splitExt(original)
	name := baseName(original)
	if what, ok := foreignExtensions[ext]; ok {
		return Errorf(BadRequest, "%q is named like %s. ExoHunter reads CSV (comma, tab, semicolon or pipe separated, optionally .gz) and Parquet files; export the table as CSV or Parquet.", name, what)
	}
	isParquetName := ext == ".parquet" || ext == ".pq"
	isCSVName := false
	for _, x := range csvExtensions {
		isCSVName = isCSVName || ext == x
	}
	switch {
	case isParquetName && format != FormatParquet:
		return Errorf(BadRequest, "%q is named like a Parquet file, but its content is not Parquet (it looks like text). Rename it to .csv if it is a CSV table.", name)
	case isCSVName && format == FormatParquet:
		return Errorf(BadRequest, "%q is named like a CSV file, but its content is a Parquet file. Rename it to .parquet.", name)
	case gz && compression != CompressionGzip:
		return Errorf(BadRequest, "%q is named like a gzip file, but its content is not gzip-compressed. Remove the .gz from its name.", name)
	}
	return nil
}

// safeFileName returns the name under which the stored file is kept: the
// client's base name reduced to [A-Za-z0-9._-], without leading dots, at
// most 100 bytes, ending in an extension that matches the content.
func safeFileName(original, format, compression string) string {
	var b strings.Builder
	for _, r := range baseName(original) {
		ok := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '.' || r == '_' || r == '-'
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := strings.TrimLeft(b.String(), "._-")
	lower := strings.ToLower(name)
	ext := ""
	switch {
	case format == FormatParquet:
		if !strings.HasSuffix(lower, ".parquet") && !strings.HasSuffix(lower, ".pq") {
			ext = ".parquet"
		}
	case compression == CompressionGzip:
		if !strings.HasSuffix(lower, ".gz") {
			ext = ".csv.gz"
		}
	default:
		e, _ := splitExt(lower)
		ok := false
		for _, x := range csvExtensions {
			ok = ok || e == x
		}
		if !ok {
			ext = ".csv"
		}
	}
	stem := name
	if max := 100 - len(ext); len(stem) > max {
		stem = stem[len(stem)-max:]
		stem = strings.TrimLeft(stem, "._-")
	}
	if stem == "" || strings.HasPrefix(stem, ".") {
		stem = "data" + stem
	}
	return stem + ext
}
