package engine

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// Formats of a stored file, as recorded in meta.datasets.format.
const (
	FormatCSV     = "csv"
	FormatParquet = "parquet"
)

// Compressions of a stored file, as recorded in meta.datasets.compression.
const (
	CompressionNone = "none"
	CompressionGzip = "gzip"
)

// ingestLimits bound what one ingest may cost. They are fields, not
// constants, so that tests can lower them.
type ingestLimits struct {
	maxColumns     int   // columns in one file
	maxNameBytes   int   // bytes in one column name
	maxExpanded    int64 // bytes a gzip file may expand to
	maxRatio       int64 // expanded/compressed bytes, checked once ratioAfter bytes are out
	ratioAfter     int64
	prefixBytes    int // text kept in memory for the header and the first rows
	headCheckLines int // first data lines checked for a consistent column count
}

// defaultIngestLimits are generous for real catalogs: NASA's widest table
// (ps, all columns) has a few hundred columns, and CSV compresses about
// 5-10x with gzip.
var defaultIngestLimits = ingestLimits{
	maxColumns:     2000,
	maxNameBytes:   256,
	maxExpanded:    64 << 30,
	maxRatio:       200,
	ratioAfter:     64 << 20,
	prefixBytes:    4 << 20,
	headCheckLines: 1000,
}

// stored is what the copy pass learned about one incoming file.
type stored struct {
	partPath    string // DATA/raw/.incoming/<random>.part
	bytes       int64  // stored (possibly compressed) size
	sha256      string
	format      string // FormatCSV or FormatParquet
	compression string // CompressionNone or CompressionGzip
	text        *textScan
}

// magic numbers of formats that are not catalogs ExoHunter reads, with the
// sentence that names them.
var foreignMagic = []struct {
	magic []byte
	what  string
}{
	{[]byte("PK\x03\x04"), "a ZIP archive (or an Excel .xlsx workbook); export the table as CSV, or unzip it first"},
	{[]byte("\xD0\xCF\x11\xE0"), "an old Excel (.xls) workbook; export the table as CSV"},
	{[]byte("%PDF"), "a PDF document"},
	{[]byte("SIMPLE  ="), "a FITS file; convert the table to CSV or Parquet"},
	{[]byte("\x89HDF"), "an HDF5 file; convert the table to CSV or Parquet"},
	{[]byte("ARROW1"), "an Arrow/Feather file; convert it to Parquet"},
	{[]byte("\x28\xB5\x2F\xFD"), "a zstd-compressed file; use gzip or no compression"},
	{[]byte("BZh"), "a bzip2-compressed file; use gzip or no compression"},
	{[]byte("\xFD7zXZ\x00"), "an xz-compressed file; use gzip or no compression"},
	{[]byte("\x00\x00\xFE\xFF"), "UTF-32 text; save it as UTF-8"},
	{[]byte("\xFF\xFE\x00\x00"), "UTF-32 text; save it as UTF-8"},
	{[]byte("\xFF\xFE"), "UTF-16 text; save it as UTF-8 CSV"},
	{[]byte("\xFE\xFF"), "UTF-16 text; save it as UTF-8 CSV"},
}

// copyIn streams src to DATA/raw/.incoming/<random>.part, computing the
// sha256 of the stored bytes and, for CSV, scanning the text (decompressed
// when gzip) in the same pass: the row count, the leading # block and the
// header, NUL bytes and UTF-8 validity. The stored bytes are exactly the
// input bytes. On error nothing is left behind.
func (e *Engine) copyIn(src io.Reader, name string) (_ *stored, err error) {
	br := bufio.NewReaderSize(src, 1<<20)
	head, err := br.Peek(8)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		// note: Peek fills the 1 MiB buffer, so an upload limit below that
		// is met here; its 413 must not turn into a 400.
		var ee *Error
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, Wrap(BadRequest, err, "Cannot read %s", name)
	}
	if len(head) == 0 {
		return nil, Errorf(BadRequest, "%s is empty: there is nothing to ingest.", name)
	}
	st := &stored{format: FormatCSV, compression: CompressionNone}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		st.compression = CompressionGzip
	case bytes.HasPrefix(head, []byte("PAR1")):
		st.format = FormatParquet
	default:
		for _, f := range foreignMagic {
			if bytes.HasPrefix(head, f.magic) {
				return nil, Errorf(BadRequest, "%s is %s. ExoHunter reads CSV (comma, tab, semicolon or pipe separated, optionally gzip-compressed) and Parquet files.", name, f.what)
			}
		}
	}

	part, f, err := e.createPart()
	if err != nil {
		return nil, err
	}
	st.partPath = part
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(part)
		}
	}()
	h := sha256.New()
	var sink textSink
	switch {
	case st.format == FormatParquet:
		sink = &tailSink{}
	case st.compression == CompressionGzip:
		st.text = newTextScan(e.limits)
		sink = newGzipSink(st.text, e.limits)
	default:
		st.text = newTextScan(e.limits)
		sink = st.text
		if gzipNamed(name) {
			// note: a copy, since Peek's bytes are overwritten by later reads.
			sink = notGzipSink{textSink: st.text, name: name, head: bytes.Clone(head[:min(len(head), 4)])}
		}
	}
	n, err := copyChunks(f, h, sink, br)
	if err != nil {
		return nil, err
	}
	if err := sink.finish(n); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, storageError(err, n)
	}
	if t, ok := sink.(*tailSink); ok && !bytes.Equal(t.tail(), []byte("PAR1")) {
		return nil, Errorf(BadRequest, "%s is not a valid Parquet file: its footer is missing or damaged (was the file cut short?).", name)
	}
	st.bytes = n
	st.sha256 = hex.EncodeToString(h.Sum(nil))
	return st, nil
}

// createPart creates a new, exclusive .part file in DATA/raw/.incoming.
func (e *Engine) createPart() (string, *os.File, error) {
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	p := e.path(DirRaw, dirIncoming, hex.EncodeToString(rnd[:])+".part")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return "", nil, storageError(err, 0)
	}
	return p, f, nil
}

// textSink consumes the stored bytes alongside the file and the hash.
type textSink interface {
	io.Writer
	// finish is called once after the last Write with the total bytes.
	finish(total int64) error
}

// copyChunks copies r to f in large chunks, feeding every chunk to the hash
// and the sink. The hash runs in its own goroutine on the same read-only
// buffers, so a large file costs the wall time of the slower of the two
// passes, not their sum. Write errors (a full disk) are reported as such.
func copyChunks(f *os.File, h io.Writer, sink textSink, r io.Reader) (n int64, err error) {
	const nbuf, size = 4, 1 << 20
	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- make([]byte, size)
	}
	work := make(chan []byte, nbuf)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for b := range work {
			_, _ = h.Write(b)
			free <- b[:cap(b)]
		}
	}()
	defer func() {
		close(work)
		<-hashed
	}()
	for {
		buf := <-free
		k, rerr := r.Read(buf)
		if k == 0 {
			free <- buf
		} else {
			chunk := buf[:k]
			work <- chunk
			if _, err := sink.Write(chunk); err != nil {
				return n, err
			}
			if _, err := f.Write(chunk); err != nil {
				return n, storageError(err, n)
			}
			n += int64(k)
		}
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			return n, readError(rerr)
		}
	}
}

// readError wraps a failure of the source reader. Errors that already carry
// a code (an upload limit, a cancelled request) keep it.
func readError(err error) error {
	var ee *Error
	if errors.As(err, &ee) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return Wrap(BadRequest, err, "The upload ended before the file was complete")
	}
	return Wrap(BadRequest, err, "Reading the file failed before it was complete")
}

// tailSink keeps the last four bytes, where Parquet's footer magic lives.
type tailSink struct {
	last [4]byte
	n    int
}

// Write implements io.Writer.
func (t *tailSink) Write(p []byte) (int, error) {
	if len(p) >= 4 {
		copy(t.last[:], p[len(p)-4:])
		t.n = 4
		return len(p), nil
	}
	for _, b := range p {
		copy(t.last[:], t.last[1:])
		t.last[3] = b
		if t.n < 4 {
			t.n++
		}
	}
	return len(p), nil
}

// tail returns the last bytes seen (up to four).
func (t *tailSink) tail() []byte { return t.last[4-t.n:] }

// finish implements textSink.
func (t *tailSink) finish(int64) error {
	if t.n < 4 {
		return Errorf(BadRequest, "This is not a valid Parquet file: it is too short to hold a footer.")
	}
	return nil
}

// gzipNamed reports whether a display name (see displayName) ends in .gz.
func gzipNamed(display string) bool {
	base, err := strconv.Unquote(display)
	if err != nil {
		return false
	}
	_, gz := splitExt(base)
	return gz
}

// notGzipSink scans a file named .gz whose bytes lack gzip's magic number
// as text. When the text scan refuses it too (NUL bytes, not UTF-8), the
// name is the better clue: it is neither gzip nor CSV, most likely damaged
// or another format renamed. Plain CSV text passes, and checkExtension
// then says to drop the .gz.
type notGzipSink struct {
	textSink
	name string
	head []byte
}

// Write implements io.Writer.
func (s notGzipSink) Write(p []byte) (int, error) {
	n, err := s.textSink.Write(p)
	return n, s.explain(err)
}

// finish implements textSink.
func (s notGzipSink) finish(total int64) error { return s.explain(s.textSink.finish(total)) }

// explain replaces a text-scan refusal with the not-gzip sentence.
func (s notGzipSink) explain(err error) error {
	if err == nil || ErrorCode(err) != BadRequest {
		return err
	}
	return Wrap(BadRequest, err, "%s is named like a gzip file but is not one: a gzip file starts with the bytes 1f 8b, and this one starts with % x. It is not CSV text either, so it may be damaged or another format renamed; download it again", s.name, s.head)
}

// gzipSink decompresses the stored bytes in a goroutine and feeds the text
// to a textScan, refusing archives that expand beyond the limits (a zip
// bomb) before DuckDB ever sees them: DuckDB decompresses without bound.
type gzipSink struct {
	pw     *io.PipeWriter
	done   chan error
	in     atomic.Int64 // compressed bytes written so far
	limits ingestLimits
	scan   *textScan
}

// newGzipSink starts the decompressing goroutine.
func newGzipSink(scan *textScan, l ingestLimits) *gzipSink {
	pr, pw := io.Pipe()
	g := &gzipSink{pw: pw, done: make(chan error, 1), limits: l, scan: scan}
	go func() {
		err := g.inflate(pr)
		// note: unblock the writer if we stopped early.
		_ = pr.CloseWithError(errStopped)
		g.done <- err
	}()
	return g
}

// errStopped tells the copy loop that the decompressor has already failed;
// the decompressor's own error is the one reported.
var errStopped = errors.New("decompression stopped")

// Write implements io.Writer.
func (g *gzipSink) Write(p []byte) (int, error) {
	g.in.Add(int64(len(p)))
	n, err := g.pw.Write(p)
	if err != nil {
		// note: the decompressor failed; report its error, not the pipe's.
		return n, <-g.done
	}
	return n, nil
}

// finish closes the pipe, waits for the decompressor and finishes the
// text scan (which counts a last record without a final newline).
func (g *gzipSink) finish(int64) error {
	_ = g.pw.Close()
	if err := <-g.done; err != nil {
		return err
	}
	return g.scan.finish(g.scan.total)
}

// inflate decompresses r into the text scan, enforcing the size and ratio
// caps as it goes.
func (g *gzipSink) inflate(r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Wrap(BadRequest, err, "The file starts like gzip but its header is damaged")
	}
	buf := make([]byte, 1<<20)
	var out int64
	for {
		k, rerr := zr.Read(buf)
		if k > 0 {
			out += int64(k)
			if err := g.checkExpansion(out); err != nil {
				return err
			}
			if _, err := g.scan.Write(buf[:k]); err != nil {
				return err
			}
		}
		switch {
		case errors.Is(rerr, io.EOF):
			return nil
		case errors.Is(rerr, io.ErrUnexpectedEOF):
			return Wrap(BadRequest, rerr, "The gzip file is truncated: it ends before its compressed data does (was the download cut short?)")
		case rerr != nil:
			return Wrap(BadRequest, rerr, "The gzip file is damaged and cannot be decompressed")
		}
	}
}

// checkExpansion enforces the gzip caps after out bytes of text.
func (g *gzipSink) checkExpansion(out int64) error {
	if out > g.limits.maxExpanded {
		return Errorf(TooLarge, "The gzip file expands to more than %s; ExoHunter refuses it to protect the disk and memory.", humanBytes(g.limits.maxExpanded))
	}
	if in := g.in.Load(); out > g.limits.ratioAfter && in > 0 && out/in > g.limits.maxRatio {
		return Errorf(TooLarge, "The gzip file expands more than %d times its size (a compression bomb?); ExoHunter refuses it.", g.limits.maxRatio)
	}
	return nil
}

// humanBytes formats n as a short size such as 64 GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.4g %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// removeFile deletes a file, ignoring one that is already gone.
func removeFile(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// storageError explains a failure to write under the data dir, after
// written bytes of the file were stored. A full disk and a read-only or
// forbidden data dir are the server's condition (Storage, 507), not the
// upload's fault.
func storageError(err error, written int64) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		filled := ""
		if written > 0 {
			filled = fmt.Sprintf(": the disk filled after %s of it had been written", humanBytes(written))
		}
		return Wrap(Storage, err, "There is not enough free disk space in the data dir to store this file%s; nothing was stored. Free some space, then try again.", filled)
	case errors.Is(err, syscall.EROFS), errors.Is(err, fs.ErrPermission):
		return Wrap(Storage, err, "The data dir is read-only or not writable; nothing was stored.")
	}
	return Wrap(Internal, err, "Cannot store the file under the data dir")
}
