package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/remote"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// IngestInput is one file to ingest. Exactly one of Path, Reader and URL is
// set.
type IngestInput struct {
	// Path is a local file (CLI).
	Path string
	// Reader streams the bytes (API uploads). It is read once, to EOF.
	Reader io.Reader
	// URL is fetched with Options.Fetcher (s3://, gs://, https://).
	URL string
	// OriginalName is the client's file name, kept for display and used to
	// derive the dataset name; it is never used as a path. Default: the
	// base name of Path or URL.
	OriginalName string
	// Name is the dataset name; "" derives one from OriginalName. An
	// explicit name that exists is a Conflict.
	Name string
	// Units overrides the units of canonical columns, e.g.
	// {"koi_depth": "percent"}.
	Units map[string]string
	// Mission forces the mission (a name in schemas/columns.yaml: koi, toi, k2, ps, pscomppars, generic); "" detects it.
	Mission string
	// Size is the input's size when known beforehand (an upload's
	// Content-Length), 0 otherwise; a local Path's is read from the file.
	// A file larger than the free disk is refused before a byte is stored.
	Size int64
	// source is where Reader's bytes are fetched from (IngestNASA sets
	// it); Ingest records it, or URL, as the dataset's Source.
	source string
	// AfterBody, when set, is called once Reader has been read to its end
	// and before anything is decided or registered: an upload's form
	// fields that follow the file (curl -F file=@x -F name=y sends them in
	// that order) set Name, Mission and Units here.
	AfterBody func(*IngestInput) error
}

// pendingMarker sits in DATA/raw/<dataset>/ while a dataset is being
// registered. Open removes directories that still hold one and have no
// meta row: the leftovers of a process killed in the middle of an ingest.
const pendingMarker = ".pending"

// Ingest stores a catalog file under DATA/raw/<dataset>/, records it in
// meta.datasets and registers its views. The bytes are streamed once to a
// .part file (sha256, row count and gzip bound computed on the way), then
// sniffed by DuckDB and renamed into place. Bytes already held by a dataset
// are not stored twice: the existing dataset is returned with DuplicateOf
// set, and no error. A failed ingest leaves nothing behind and never
// touches existing datasets.
func (e *Engine) Ingest(ctx context.Context, in IngestInput) (*Dataset, error) {
	if in.Name != "" {
		if err := checkDatasetName(in.Name); err != nil {
			return nil, err
		}
		if err := e.checkNameBeforeFetch(ctx, in); err != nil {
			return nil, err
		}
		done, err := e.guardTakenName(ctx, &in)
		if err != nil {
			return nil, err
		}
		defer done()
	}
	start := time.Now()
	st, name, err := e.receive(ctx, &in)
	if err != nil {
		return nil, err
	}
	defer os.Remove(st.partPath) // note: a no-op once renamed into place
	if in.AfterBody != nil {
		if err := in.AfterBody(&in); err != nil {
			return nil, err
		}
		if in.Name != "" {
			if err := checkDatasetName(in.Name); err != nil {
				return nil, err
			}
		}
	}
	if dup, err := e.duplicate(ctx, st.sha256, in); dup != nil || err != nil {
		return dup, err
	}
	copied := time.Now()
	ds, m, err := e.inspect(ctx, st, in, name)
	if err != nil {
		return nil, err
	}
	ds.Source = in.sourceURL()
	inspected := time.Now()
	ds, err = e.register(ctx, st, ds, m, in.Name)
	if err == nil && ds.DuplicateOf == "" {
		// note: after the register step and its lock: the count reads the
		// whole file (5 s for 3M rows), and ingests, deletes and run starts
		// would wait for it. It is a report; without it the dataset stands.
		if uerr := e.noteUnreadable(ctx, ds, m); uerr != nil {
			e.log.Warn("cannot count unreadable numbers", "dataset", ds.Name, "err", uerr)
		}
		e.log.Info("dataset ingested", "dataset", ds.Name, "rows", ds.Rows, "mission", ds.Mission, "bytes", ds.Bytes,
			"copy", copied.Sub(start), "sniff", inspected.Sub(copied), "register", time.Since(inspected))
	}
	return ds, err
}

// sourceURL is the redacted address the input was fetched from, "" for a
// file or an upload.
func (in IngestInput) sourceURL() string {
	if in.source != "" {
		return in.source
	}
	if in.URL != "" {
		return remote.Redact(strings.TrimSpace(in.URL))
	}
	return ""
}

// receive streams the input into a .part file and returns what the copy
// pass learned plus the display name of the file.
func (e *Engine) receive(ctx context.Context, in *IngestInput) (*stored, string, error) {
	set := 0
	for _, b := range []bool{in.Path != "", in.Reader != nil, in.URL != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, "", Errorf(BadRequest, "Give exactly one file to ingest: a path, an upload or a URL.")
	}
	switch {
	case in.URL != "":
		return e.receiveURL(ctx, in)
	case in.Path != "":
		f, err := openLocal(in.Path)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		if in.OriginalName == "" {
			in.OriginalName = filepath.Base(in.Path)
		}
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			in.Size = fi.Size()
		}
		if err := e.checkRoom(in.Size, displayName(in.OriginalName)); err != nil {
			return nil, "", err
		}
		st, err := e.copyIn(ctxReader{ctx, f}, displayName(in.OriginalName))
		return st, in.OriginalName, err
	}
	if in.OriginalName == "" {
		in.OriginalName = "upload"
	}
	if err := e.checkRoom(in.Size, displayName(in.OriginalName)); err != nil {
		return nil, "", err
	}
	st, err := e.copyIn(ctxReader{ctx, in.Reader}, displayName(in.OriginalName))
	return st, in.OriginalName, err
}

// checkRoom refuses, before a byte is stored, a file of known size that
// the data dir's disk cannot hold, and says both sizes.
func (e *Engine) checkRoom(size int64, name string) error {
	if size <= 0 {
		return nil
	}
	need, free, ok, err := diskShortfall(diskNeed{e.path(DirRaw), size})
	if err != nil || ok {
		return nil
	}
	return Errorf(Storage, "%s needs %s of disk space and the data dir's disk has %s free; nothing was stored. Free some space, then try again.", name, humanBytes(need), humanBytes(free))
}

// displayName is a client file name as messages quote it.
func displayName(original string) string {
	if b := baseName(original); b != "" {
		return fmt.Sprintf("%q", b)
	}
	return "The file"
}

// openLocal opens a local regular file for reading.
func openLocal(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, Errorf(NotFound, "There is no file at %s.", path)
	case err != nil:
		return nil, Wrap(BadRequest, err, "Cannot read %s", path)
	case fi.IsDir():
		return nil, Errorf(BadRequest, "%s is a folder; give the path of one CSV or Parquet file.", path)
	case !fi.Mode().IsRegular():
		return nil, Errorf(BadRequest, "%s is not a regular file.", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, Wrap(BadRequest, err, "Cannot read %s", path)
	}
	return f, nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read implements io.Reader.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// duplicate returns the dataset that already holds these bytes, marked
// with DuplicateOf, or nil.
func (e *Engine) duplicate(ctx context.Context, sha string, in IngestInput) (*Dataset, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT name FROM meta.datasets WHERE sha256 = ? ORDER BY created_at, name`, sha)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		ds, err := e.Dataset(ctx, n)
		if err != nil {
			return nil, err
		}
		// note: the same bytes read with other units or as another mission
		// are another table; answering with the old dataset would drop the
		// request's options without a word (a depth in percent stays ppm).
		if !maps.Equal(ds.Units, in.Units) && len(ds.Units)+len(in.Units) > 0 || in.Mission != "" && in.Mission != ds.Mission {
			continue
		}
		ds.DuplicateOf = ds.Name
		if in.Name != "" && in.Name != ds.Name {
			ds.Note = fmt.Sprintf("These bytes are already dataset %q: nothing new was stored and no dataset %q was created; use %q.", ds.Name, in.Name, ds.Name)
		}
		return ds, nil
	}
	return nil, nil
}

// inspect reads the stored file's structure: format checks, header,
// DuckDB sniff, row count, NASA # block and the column mapping. It returns
// the dataset to register (without name and path) and its mapping.
func (e *Engine) inspect(ctx context.Context, st *stored, in IngestInput, name string) (*Dataset, *mapping.Mapping, error) {
	if err := checkExtension(name, st.format, st.compression); err != nil {
		return nil, nil, err
	}
	ds := &Dataset{
		OriginalName: name, Format: st.format, Compression: st.compression, Bytes: st.bytes, SHA256: st.sha256,
		Units: in.Units, Columns: []Column{}, Mapping: []mapping.ReportEntry{},
	}
	var cols []Column
	var err error
	if st.format == FormatParquet {
		cols, ds.Rows, err = e.sniffParquet(ctx, st.partPath)
		if err == nil {
			err = checkParquetColumns(cols, e.limits)
		}
	} else {
		cols, err = e.inspectCSV(ctx, st, ds, in.URL)
	}
	if err != nil {
		return nil, nil, err
	}
	if ds.Rows == 0 {
		return nil, nil, Errorf(BadRequest, "%s has a header but no data rows.", displayName(name))
	}
	m, err := e.mapColumns(cols, in)
	if err != nil {
		return nil, nil, err
	}
	ds.Columns = servedTypes(ds.Format, cols, m.IDColumns())
	// note: map again over the served types, exactly as Open and Process
	// will, so the views rendered now are the ones they render.
	if m, err = e.mapColumns(ds.Columns, in); err != nil {
		return nil, nil, err
	}
	ds.Mission, ds.Mapping = m.Mission, m.Report
	if err := checkUnitOverrides(ds, m); err != nil {
		return nil, nil, err
	}
	return ds, m, nil
}

// inspectCSV checks the header in Go, sniffs the dialect and types with
// DuckDB and sets the row count, the CSV options and the NASA header.
// source is the URL the bytes came from, "" for a file or an upload.
func (e *Engine) inspectCSV(ctx context.Context, st *stored, ds *Dataset, source string) ([]Column, error) {
	t := st.text
	if err := checkNotDocument(t.prefix, ds.OriginalName, source); err != nil {
		return nil, err
	}
	h, err := readHeader(t)
	if err != nil {
		return nil, err
	}
	if err := checkDecimalComma(t, h); err != nil {
		return nil, err
	}
	if t.recLines <= 1 && t.recQuoted <= 1 {
		return nil, Errorf(BadRequest, "%s has a header line but no data rows.", displayName(ds.OriginalName))
	}
	opts, cols, err := e.sniffCSV(ctx, st.partPath, st.compression, h, t)
	if err != nil {
		return nil, err
	}
	if !t.crOnly() {
		if err := checkFields(ctx, st.partPath, opts, h); err != nil {
			return nil, err
		}
	}
	ds.CSV = opts
	if t.skip > 0 {
		ds.NASAHeader = ParseNASAHeader(t.prefix[:t.bodyOffset])
	}
	quoted := opts.Quote == `"` && (opts.Escape == `"` || opts.Escape == "")
	rows, ok := t.dataRows(quoted)
	if !ok || (opts.Quote != "" && !quoted) {
		// note: a dialect the Go counter does not model (bare CR line ends,
		// backslash escapes, single quotes): let DuckDB count, once.
		tmp := *ds
		tmp.Columns = cols
		q := "SELECT count(*) FROM " + rawSource(st.partPath, &tmp, nil)
		if err := e.db.QueryRowContext(ctx, q).Scan(&rows); err != nil {
			return nil, csvReadError(err, h.delim)
		}
	}
	ds.Rows = rows
	return cols, nil
}

// checkParquetColumns applies the header checks to columns read from a Parquet
// footer.
func checkParquetColumns(cols []Column, l ingestLimits) error {
	h := &headerInfo{delim: ',', line: 1}
	for _, c := range cols {
		h.names = append(h.names, c.Name)
	}
	if len(cols) == 0 {
		return Errorf(BadRequest, "The Parquet file has no columns.")
	}
	return h.checkNames(l)
}

// register names the dataset, moves the stored file into
// DATA/raw/<name>/ and, in one transaction, creates its views and its meta
// row. It runs under ingestMu so that names and duplicates are decided
// once.
func (e *Engine) register(ctx context.Context, st *stored, ds *Dataset, m *mapping.Mapping, explicit string) (_ *Dataset, err error) {
	e.ingestMu.Lock()
	defer e.ingestMu.Unlock()
	if dup, err := e.duplicate(ctx, st.sha256, IngestInput{Name: explicit, Units: ds.Units, Mission: ds.Mission}); dup != nil || err != nil {
		return dup, err
	}
	if ds.Name, err = e.chooseName(ctx, explicit, ds.OriginalName); err != nil {
		return nil, err
	}
	dir := e.path(DirRaw, ds.Name)
	_ = os.RemoveAll(dir) // note: chooseName only returns names without a meta row
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, Wrap(Internal, err, "Cannot create the dataset folder")
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	marker := filepath.Join(dir, pendingMarker)
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return nil, Wrap(Internal, err, "Cannot write to the dataset folder")
	}
	final := filepath.Join(dir, safeFileName(ds.OriginalName, ds.Format, ds.Compression))
	if err := os.Rename(st.partPath, final); err != nil {
		return nil, Wrap(Internal, err, "Cannot move the file into place")
	}
	ds.Path = e.rel(final)
	ds.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	err = e.inTx(ctx, func(tx *sql.Tx) error {
		if err := e.createViews(ctx, tx, ds, m); err != nil {
			return err
		}
		return insertDataset(ctx, tx, ds)
	})
	if err != nil {
		return nil, e.viewError(err, ds)
	}
	_ = os.Remove(marker)
	for _, hook := range datasetIngestHooks {
		if err := hook(ctx, e, ds); err != nil {
			e.log.Warn("after-ingest hook failed", "dataset", ds.Name, "err", err)
		}
	}
	return ds, nil
}

// viewError explains a failure to create a new dataset's views. DuckDB
// errors about the file are the user's; the rest are internal.
func (e *Engine) viewError(err error, ds *Dataset) error {
	msg := err.Error()
	if strings.Contains(msg, "CSV") || strings.Contains(msg, "Parquet") || strings.Contains(msg, "Conversion") {
		d := byte(',')
		if ds.CSV != nil && ds.CSV.Delimiter != "" {
			d = ds.CSV.Delimiter[0]
		}
		return csvReadError(err, d)
	}
	return err
}

// chooseName returns the explicit name if it is free (Conflict if not), or
// a unique name derived from the file name: koi, koi_2, koi_3, ...
func (e *Engine) chooseName(ctx context.Context, explicit, original string) (string, error) {
	taken := func(n string) (bool, error) { return e.datasetNameTaken(ctx, n) }
	if explicit != "" {
		t, err := taken(explicit)
		if err != nil {
			return "", err
		}
		if t {
			return "", nameTaken(explicit, "")
		}
		return explicit, nil
	}
	base := deriveDatasetName(original)
	for i := 1; ; i++ {
		n := base
		if i > 1 {
			n = fmt.Sprintf("%s_%d", base, i)
		}
		t, err := taken(n)
		if err != nil {
			return "", err
		}
		if !t {
			return n, nil
		}
	}
}

// nameTaken is the Conflict for an explicit name a dataset holds; more
// is added to the sentence.
func nameTaken(name, more string) error {
	return Errorf(Conflict, "A dataset named %q already exists; choose another name (--name on the command line, the name field of an upload or an import) or delete it first.%s", name, more)
}

// checkNameBeforeFetch refuses an explicit name that a dataset from
// elsewhere holds before a byte is fetched: a download may be large, or
// stall until the idle timeout, only to be refused at the end. A dataset
// from the same source is let through, since the fetch may bring the same
// bytes, which are answered as a duplicate (and other bytes are refused by
// register, which checks again: another ingest may take the name
// meanwhile). Uploads and local files are checked only then, because the
// same bytes under the same name must answer as a duplicate and whether
// they are the same is known once they are read (an upload is refused as
// soon as its bytes differ from every stored file: guardTakenName).
func (e *Engine) checkNameBeforeFetch(ctx context.Context, in IngestInput) error {
	src := in.sourceURL()
	if src == "" {
		return nil
	}
	var n int
	err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM meta.datasets WHERE lower(name) = lower(?) AND source IS DISTINCT FROM ?`, in.Name, src).Scan(&n)
	if err != nil {
		return fmt.Errorf("check the dataset name: %w", err)
	}
	if n > 0 {
		return nameTaken(in.Name, " Nothing was downloaded.")
	}
	return nil
}

// datasetNameTaken reports whether a dataset holds name; names compare
// without case, as the views' names do.
func (e *Engine) datasetNameTaken(ctx context.Context, name string) (bool, error) {
	var c int
	err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM meta.datasets WHERE lower(name) = lower(?)`, name).Scan(&c)
	return c > 0, err
}

// recoverIngests cleans up after a process killed in the middle of an
// ingest: .part files in DATA/raw/.incoming, and dataset folders that still
// hold the pending marker but have no meta row. It runs in Open, and only
// when no other process uses the data dir (engine/dirlock.go): the
// database lock alone does not say that, since a process with another
// --db may share the folder.
func (e *Engine) recoverIngests(ctx context.Context) error {
	if !e.aloneInDataDir() {
		return nil
	}
	inc := e.path(DirRaw, dirIncoming)
	parts, _ := os.ReadDir(inc)
	for _, p := range parts {
		_ = os.RemoveAll(filepath.Join(inc, p.Name()))
	}
	dirs, err := os.ReadDir(e.path(DirRaw))
	if err != nil {
		return fmt.Errorf("recover ingests: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() || !ValidDatasetName(d.Name()) {
			continue
		}
		marker := e.path(DirRaw, d.Name(), pendingMarker)
		if _, err := os.Stat(marker); err != nil {
			continue
		}
		_, err := e.Dataset(ctx, d.Name())
		switch {
		case err == nil:
			_ = os.Remove(marker)
		case ErrorCode(err) == NotFound:
			e.log.Warn("removing a half-registered dataset left by an interrupted ingest", "dataset", d.Name())
			_ = os.RemoveAll(e.path(DirRaw, d.Name()))
		default:
			return err
		}
	}
	return nil
}

// quoteView returns schema."name" for a dataset view.
func quoteView(schema, name string) string {
	return sqltmpl.QualifiedIdent{Schema: sqltmpl.Ident(schema), Name: sqltmpl.Ident(name)}.String()
}
