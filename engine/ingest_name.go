package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
)

// An upload under an explicit name that a dataset already holds cannot be
// refused before its bytes are read: the same bytes answer as a duplicate
// (Contracts: 200 with duplicate_of), of that dataset or of any other that
// holds them. But they need not be read to the end to know that they are
// not the same: guardTakenName compares them, as they stream in, with the
// stored files they could equal, and refuses the upload as soon as none is
// left, most often within its first read. A 111 MB upload under a taken
// name used to be read whole before its 409.

// guardTakenName makes in.Reader, an upload under an explicit name that a
// dataset holds, fail with that name's Conflict once its bytes differ from
// every stored dataset's (or at once, when none of them is small enough
// for in.Size). The returned func closes the stored files it reads.
// Another ingest taking the name meanwhile is still found by register,
// as for any name.
func (e *Engine) guardTakenName(ctx context.Context, in *IngestInput) (func(), error) {
	noop := func() {}
	if in.Reader == nil || in.Name == "" {
		return noop, nil
	}
	taken, err := e.datasetNameTaken(ctx, in.Name)
	if err != nil {
		return nil, fmt.Errorf("check the dataset name: %w", err)
	}
	if !taken {
		return noop, nil
	}
	files, err := e.storedFilesUpTo(ctx, in.Size)
	if err != nil {
		return nil, err
	}
	g := &sameBytesReader{r: in.Reader, files: files,
		refuse: nameTaken(in.Name, " Nothing was stored: the file differs from every stored dataset, so it is no duplicate of one either, and the rest of it was not read.")}
	if len(files) == 0 {
		return nil, g.refuse
	}
	in.Reader = g
	return g.close, nil
}

// storedFilesUpTo opens the stored file of every dataset of at most max
// bytes (any size when max is 0). A file that cannot be opened is left
// out: its dataset is being deleted.
func (e *Engine) storedFilesUpTo(ctx context.Context, max int64) ([]*os.File, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT path FROM meta.datasets WHERE ? = 0 OR bytes <= ?`, max, max)
	if err != nil {
		return nil, fmt.Errorf("list stored files: %w", err)
	}
	defer rows.Close()
	var files []*os.File
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			closeFiles(files)
			return nil, fmt.Errorf("list stored files: %w", err)
		}
		if f, err := os.Open(e.abs(p)); err == nil {
			files = append(files, f)
		}
	}
	if err := rows.Err(); err != nil {
		closeFiles(files)
		return nil, fmt.Errorf("list stored files: %w", err)
	}
	return files, nil
}

// closeFiles closes every file.
func closeFiles(files []*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

// sameBytesReader passes r through while its bytes so far equal the start
// of at least one of files, and fails with refuse once they equal none.
type sameBytesReader struct {
	r      io.Reader
	files  []*os.File
	off    int64
	buf    []byte
	refuse error
}

// Read implements io.Reader.
func (s *sameBytesReader) Read(p []byte) (int, error) {
	if len(s.files) == 0 {
		return 0, s.refuse
	}
	n, err := s.r.Read(p)
	if n > 0 {
		s.narrow(p[:n])
		if len(s.files) == 0 {
			return 0, s.refuse
		}
		s.off += int64(n)
	}
	return n, err
}

// narrow closes and drops the files whose bytes at the current offset are
// not chunk.
func (s *sameBytesReader) narrow(chunk []byte) {
	if cap(s.buf) < len(chunk) {
		s.buf = make([]byte, len(chunk))
	}
	buf := s.buf[:len(chunk)]
	keep := s.files[:0]
	for _, f := range s.files {
		if k, _ := f.ReadAt(buf, s.off); k == len(chunk) && bytes.Equal(buf, chunk) {
			keep = append(keep, f)
		} else {
			_ = f.Close()
		}
	}
	s.files = keep
}

// close closes the files still compared.
func (s *sameBytesReader) close() {
	closeFiles(s.files)
	s.files = nil
}
