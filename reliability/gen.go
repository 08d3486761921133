package reliability

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// KOIHeader is the header of the synthetic KOI tables: the columns the
// mapping needs to classify every row, with error columns (the _err2 ones
// are negative, as in the archive) and one free-text column.
const KOIHeader = "kepid,kepoi_name,kepler_name,koi_disposition,koi_period,koi_period_err1,koi_period_err2," +
	"koi_duration,koi_depth,koi_impact,koi_prad,koi_prad_err1,koi_prad_err2,koi_teq,koi_insol," +
	"koi_steff,koi_slogg,koi_srad\n"

// dispositions cycle through the catalog values, and an empty one.
var dispositions = []string{"CONFIRMED", "CANDIDATE", "FALSE POSITIVE", "CANDIDATE", ""}

// WriteKOI writes a synthetic KOI-like CSV of n rows with the given seed:
// the same seed gives the same bytes, another seed other bytes (and so
// another sha256: no duplicate-upload shortcut). Object ids are unique per
// seed ("K<seed><row>.01").
func WriteKOI(w io.Writer, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	if _, err := bw.WriteString(KOIHeader); err != nil {
		return err
	}
	var b []byte
	for i := range n {
		period := 0.5 + rng.Float64()*400
		prad := 0.5 + rng.ExpFloat64()*3
		steff := 3000 + rng.Float64()*4000
		b = b[:0]
		b = strconv.AppendInt(b, int64(10000000+i), 10)
		b = fmt.Appendf(b, ",K%d%08d.01,", seed, i)
		if i%7 == 0 {
			b = fmt.Appendf(b, "Kepler-%d b", i)
		}
		b = append(b, ',')
		b = append(b, dispositions[i%len(dispositions)]...)
		for _, v := range []float64{period, 1e-4, -1e-4, 1 + rng.Float64()*8, 50 + rng.Float64()*20000,
			rng.Float64(), prad, 0.1, -0.1, 200 + rng.Float64()*2000, rng.ExpFloat64() * 100,
			steff, 3.5 + rng.Float64()*1.5, 0.3 + rng.Float64()*2} {
			b = append(b, ',')
			b = strconv.AppendFloat(b, v, 'g', 8, 64)
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// KOIString returns WriteKOI's table as a string (small tables).
func KOIString(n int, seed uint64) string {
	var sb strings.Builder
	_ = WriteKOI(&sb, n, seed)
	return sb.String()
}

// MultipartStream returns a multipart/form-data body with an optional
// "name" field and the "file" part, produced while it is read (through a
// pipe: never held whole in memory), and its content type. The file name
// goes into Content-Disposition as given, so tests can send hostile names.
func MultipartStream(name, fileName string, content io.Reader) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if name != "" {
				if err := mw.WriteField("name", name); err != nil {
					return err
				}
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(fileName)))
			h.Set("Content-Type", "application/octet-stream")
			part, err := mw.CreatePart(h)
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, content); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

// quoteEscaper escapes a quoted-string's quote and backslash, as
// mime/multipart does.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

// SlowReader trickles R: at most Chunk bytes per Every. Before each chunk
// it calls Tick (if set) with the bytes sent so far; a Tick that returns
// an error ends the stream with it.
type SlowReader struct {
	R     io.Reader
	Chunk int
	Every time.Duration
	Tick  func(sent int64) error

	sent int64
}

// Read implements io.Reader.
func (s *SlowReader) Read(p []byte) (int, error) {
	if s.Tick != nil {
		if err := s.Tick(s.sent); err != nil {
			return 0, err
		}
	}
	if s.sent > 0 {
		time.Sleep(s.Every)
	}
	if len(p) > s.Chunk {
		p = p[:s.Chunk]
	}
	n, err := s.R.Read(p)
	s.sent += int64(n)
	return n, err
}
