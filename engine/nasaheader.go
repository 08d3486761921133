package engine

import (
	"bytes"
	"regexp"
	"strings"
	"time"
)

// NASAHeader is the leading # block of a NASA Exoplanet Archive download:
// a banner, the export time, one "# COLUMN name: label [unit]" line per
// column (a free data dictionary) and sometimes user-preference and
// constraint lines. Any other leading # lines are kept as notes.
type NASAHeader struct {
	// Lines is the number of leading lines skipped (# lines and blank lines).
	Lines int `json:"lines"`
	// Banner is the "This file was produced by ..." line, if present.
	Banner string `json:"banner,omitempty"`
	// ExportTime is the export time as written, e.g. "Mon Sep 29 12:55:59 2025".
	ExportTime string `json:"export_time,omitempty"`
	// ExportedAt is ExportTime as "2006-01-02T15:04:05", in the archive's
	// local time (the file does not say which zone).
	ExportedAt string `json:"exported_at,omitempty"`
	// Columns lists the COLUMN lines in file order.
	Columns []NASAColumn `json:"columns"`
	// Notes holds every other non-empty comment line, without the "#".
	Notes []string `json:"notes,omitempty"`
}

// NASAColumn is one "# COLUMN name: label [unit]" line.
type NASAColumn struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Unit  string `json:"unit,omitempty"`
}

// Column returns the dictionary entry of a column, if the header has one.
func (h *NASAHeader) Column(name string) (NASAColumn, bool) {
	if h == nil {
		return NASAColumn{}, false
	}
	for _, c := range h.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return NASAColumn{}, false
}

// exportTimeLayouts are the export time formats seen in archive files.
var exportTimeLayouts = []string{time.ANSIC, time.UnixDate, "2006-01-02 15:04:05", time.RFC3339}

// ParseNASAHeader parses a leading comment block (the lines before the CSV
// header, with their "#"). It returns nil when block has no "#" line.
func ParseNASAHeader(block []byte) *NASAHeader {
	block = bytes.TrimPrefix(block, utf8BOM)
	h := &NASAHeader{Columns: []NASAColumn{}}
	sawHash := false
	text := strings.TrimSuffix(string(block), "\n")
	if text == "" {
		return nil
	}
	for _, line := range strings.Split(text, "\n") {
		h.Lines++
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "#") {
			continue
		}
		sawHash = true
		h.addLine(strings.TrimSpace(strings.TrimLeft(t, "#")))
	}
	if !sawHash {
		return nil
	}
	return h
}

// addLine files one comment line (without "#") into the header.
func (h *NASAHeader) addLine(text string) {
	if text == "" {
		return
	}
	if rest, ok := strings.CutPrefix(text, "COLUMN "); ok {
		if c, ok := parseColumnLine(rest); ok {
			h.Columns = append(h.Columns, c)
			return
		}
	}
	if h.Banner == "" && strings.Contains(text, "produced by") {
		h.Banner = text
		return
	}
	if h.ExportTime == "" {
		for _, layout := range exportTimeLayouts {
			if ts, err := time.Parse(layout, text); err == nil {
				h.ExportTime = text
				h.ExportedAt = ts.Format("2006-01-02T15:04:05")
				return
			}
		}
	}
	h.Notes = append(h.Notes, text)
}

// parseColumnLine parses "name:   label [unit]".
func parseColumnLine(s string) (NASAColumn, bool) {
	name, label, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return NASAColumn{}, false
	}
	c := NASAColumn{Name: name, Label: strings.TrimSpace(label)}
	if strings.HasSuffix(c.Label, "]") {
		if i := strings.LastIndex(c.Label, "["); i >= 0 {
			c.Unit = strings.TrimSpace(c.Label[i+1 : len(c.Label)-1])
			c.Label = strings.TrimSpace(c.Label[:i])
		}
		return c, true
	}
	// note: uncertainties put the unit before their kind, "Distance [pc]
	// Upper Unc"; a "[Earth Mass] Limit Flag" is a flag and has none.
	if m := uncUnitRe.FindStringSubmatch(c.Label); m != nil {
		c.Unit = strings.TrimSpace(m[2])
		c.Label = strings.TrimSpace(m[1]) + " " + m[3]
	}
	return c, true
}

// uncUnitRe matches an uncertainty's label with its unit in the middle.
var uncUnitRe = regexp.MustCompile(`^(.*?)\s*\[([^\]]+)\]\s*((?:Upper|Lower) Unc\.?)$`)
