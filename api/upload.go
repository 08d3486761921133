package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// Upload limits besides Config.UploadLimit.
const (
	// multipartSlack is the multipart framing allowed on top of the file
	// when Content-Length is checked up front.
	multipartSlack = 1 << 20
	// maxFieldBytes caps a text field of an upload form (name, mission, unit).
	maxFieldBytes = 1 << 10
	// maxFileNameBytes caps the client file name kept for display.
	maxFileNameBytes = 255
	// ingestTimeout bounds one ingest (upload, URL or NASA import) once its
	// bytes flow; stalls are cut earlier by Config.StreamIdleTimeout.
	ingestTimeout = 2 * time.Hour
)

// uploadForm is what an upload's multipart body carries besides the file.
type uploadForm struct {
	in engine.IngestInput
}

// ingestUpload parses a multipart body as it streams in and hands the
// "file" part to the engine as a reader: the file goes to disk without ever
// being held whole in memory (never c.FormFile, which buffers). The fields
// (name, mission, unit=COL=UNIT) apply to it whether they come before the
// file or after it (curl sends them in the order of its -F options); the
// ones after it are read once the file is stored, before the engine
// decides anything.
func (s *Server) ingestUpload(c *fiber.Ctx, boundary string) (*engine.Dataset, error) {
	if boundary == "" {
		return nil, engine.Errorf(engine.BadRequest, "The multipart body has no boundary in its Content-Type.")
	}
	body := &idleReader{r: bodyReader(c), conn: c.Context().Conn(), idle: s.cfg.StreamIdleTimeout}
	mr := multipart.NewReader(body, boundary)
	ctx, cancel := context.WithTimeout(c.UserContext(), ingestTimeout)
	defer cancel()
	var form uploadForm
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, engine.Errorf(engine.BadRequest, "The upload has no \"file\" part: send the catalog as multipart/form-data field \"file\".")
		}
		if err != nil {
			return nil, multipartError(err)
		}
		if part.FormName() == "file" {
			// note: checked here, not before the first part, so that an
			// oversized field before the file is named as such (field
			// refuses it after maxFieldBytes); nothing of the file is read.
			if cl := c.Request().Header.ContentLength(); cl > 0 && int64(cl) > s.cfg.UploadLimit+multipartSlack {
				return nil, engine.Errorf(engine.TooLarge, "The upload is %s, larger than this server's upload limit of %s.", humanBytes(int64(cl)), humanBytes(s.cfg.UploadLimit))
			}
			// note: the body's length, a little more than the file's
			// (the fields and boundaries): near enough to refuse a file
			// the disk cannot hold before reading it.
			form.in.Size = int64(max(c.Request().Header.ContentLength(), 0))
			form.in.OriginalName = clientFileName(part)
			form.in.Reader = &limitReader{r: part, left: s.cfg.UploadLimit, err: s.uploadTooLarge()}
			form.in.AfterBody = func(in *engine.IngestInput) error { return lateFields(mr, in) }
			// note: what lateFields leaves (the closing boundary) is
			// drained by drainBody, within its bounds.
			return s.eng.Ingest(ctx, form.in)
		}
		if err := form.field(part); err != nil {
			return nil, err
		}
	}
}

// lateFields reads the form fields that follow the file part into in.
func lateFields(mr *multipart.Reader, in *engine.IngestInput) error {
	late := uploadForm{in: *in}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			in.Name, in.Mission, in.Units = late.in.Name, late.in.Mission, late.in.Units
			return nil
		}
		if err != nil {
			return multipartError(err)
		}
		if part.FormName() == "file" {
			return engine.Errorf(engine.BadRequest, "The upload has two \"file\" parts; send one catalog per request.")
		}
		if err := late.field(part); err != nil {
			return err
		}
	}
}

// uploadTooLarge is the 413 of a file over the upload limit.
func (s *Server) uploadTooLarge() error {
	return engine.Errorf(engine.TooLarge, "The file is larger than this server's upload limit of %s.", humanBytes(s.cfg.UploadLimit))
}

// field reads one text field of the form.
func (f *uploadForm) field(part *multipart.Part) error {
	b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
	if err != nil {
		return multipartError(err)
	}
	if len(b) > maxFieldBytes {
		return engine.Errorf(engine.BadRequest, "The form field %q is too long: a form field holds at most %d bytes.", part.FormName(), maxFieldBytes)
	}
	v := strings.TrimSpace(string(b))
	switch part.FormName() {
	case "name":
		f.in.Name = v
	case "mission":
		f.in.Mission = v
	case "unit":
		col, unit, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(col) == "" {
			return engine.Errorf(engine.BadRequest, "The form field unit must be COLUMN=UNIT, e.g. koi_depth=percent (got %q).", v)
		}
		if f.in.Units == nil {
			f.in.Units = map[string]string{}
		}
		f.in.Units[strings.TrimSpace(col)] = strings.TrimSpace(unit)
	}
	return nil
}

// clientFileName is the file name the client sent, kept only for display
// and to derive a dataset name: the engine stores the bytes under a
// generated safe name, so "../../etc/passwd" is harmless. (Go's
// Part.FileName would already strip directories; the raw value is kept so
// the record shows what was sent.)
func clientFileName(part *multipart.Part) string {
	_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	name := params["filename"]
	if err != nil || name == "" {
		name = part.FileName()
	}
	if len(name) > maxFileNameBytes {
		name = name[len(name)-maxFileNameBytes:]
	}
	if strings.TrimSpace(name) == "" {
		return "upload"
	}
	return name
}

// multipartError explains a malformed or interrupted multipart body.
func multipartError(err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return engine.Wrap(engine.BadRequest, err, "The upload stalled and was cut off.")
	}
	return engine.Wrap(engine.BadRequest, err, "The multipart body is malformed or was cut short: %s.", err.Error())
}

// limitReader passes at most left bytes and then fails with err (a 413),
// so that a chunked upload without Content-Length is bounded too.
type limitReader struct {
	r    io.Reader
	left int64
	err  error
}

// Read implements io.Reader.
func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.err
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, l.err
	}
	return n, err
}

// idleReader extends the connection's read deadline before every read, so
// that a long upload may take as long as it needs while bytes keep coming,
// and a stalled one is cut after idle (the server's ReadTimeout alone
// would cut every upload longer than it).
type idleReader struct {
	r    io.Reader
	conn net.Conn
	idle time.Duration
}

// Read implements io.Reader.
func (ir *idleReader) Read(p []byte) (int, error) {
	if ir.conn != nil {
		_ = ir.conn.SetReadDeadline(time.Now().Add(ir.idle))
	}
	return ir.r.Read(p)
}
