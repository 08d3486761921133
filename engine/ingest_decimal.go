package engine

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"strconv"
)

// decimalCommaRe matches a number written with a decimal comma, as
// spreadsheets in much of Europe save it: 9,488035570 or -1,5E-05.
var decimalCommaRe = regexp.MustCompile(`^[+-]?[0-9]+,[0-9]+([eE][+-]?[0-9]+)?$`)

// checkDecimalComma refuses a file whose numbers use a decimal comma. Such
// a file (a KOI table re-saved by a spreadsheet set to German, with ";"
// between values) reads without error, but every number becomes text and
// then empty: all 9,564 KOIs were no_result, with no word of why. It
// looks at the rows of the scanned prefix; a column counts when most of
// its values there are decimal-comma numbers and none is a plain number.
func checkDecimalComma(t *textScan, h *headerInfo) error {
	if h.delim == ',' || !t.bodyFound {
		return nil
	}
	body := t.prefix[t.bodyOffset:]
	if int64(len(t.prefix)) != t.total {
		if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
			body = body[:i+1]
		}
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma = rune(h.delim)
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil {
		return nil
	}
	comma := make([]int, len(h.names))
	plain := make([]int, len(h.names))
	first := make([]string, len(h.names))
	rows := 0
	for rows < 200 {
		rec, err := r.Read()
		if err != nil {
			break
		}
		rows++
		for i, v := range rec[:min(len(rec), len(h.names))] {
			switch {
			case decimalCommaRe.MatchString(v):
				comma[i]++
				if first[i] == "" {
					first[i] = v
				}
			case v != "":
				if _, err := strconv.ParseFloat(v, 64); err == nil {
					plain[i]++
				}
			}
		}
	}
	for i := range h.names {
		if comma[i] > 0 && plain[i] == 0 && 2*comma[i] >= rows {
			return Errorf(BadRequest, "The numbers in this file are written with a decimal comma (column %s holds %q): ExoHunter reads numbers with a decimal point, so they would all be empty. Save the file as CSV with \".\" as the decimal separator (in a spreadsheet, set the language or the number format to English), or download it from the archive again.",
				h.names[i], first[i])
		}
	}
	return nil
}
