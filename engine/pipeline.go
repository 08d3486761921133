package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Bundle returns the validated pipeline configuration, or nil when the
// engine was opened without Options.Config.
func (e *Engine) Bundle() *spec.Bundle { return e.bundle }

// loadPipeline loads configs/ and schemas/ from Options.Config. A broken
// config fails Open with every problem listed (code Invalid).
func (e *Engine) loadPipeline(ctx context.Context) error {
	if e.opts.Config == nil {
		e.log.Warn("no config: only raw views are registered")
		return nil
	}
	b, err := spec.Load(e.opts.Config)
	if err != nil {
		return specError(err)
	}
	if err := CheckSpec(ctx, e.db, b); err != nil {
		return specError(err)
	}
	e.bundle = b
	return nil
}

// specError turns spec problems into one Invalid error whose details carry
// each "file:line:col: path: message".
func specError(err error) error {
	var ee *Error
	if errors.As(err, &ee) {
		return err
	}
	list := spec.AsErrors(err)
	out := &Error{Code: Invalid, Err: err, Details: make([]Detail, 0, len(list))}
	for _, p := range list {
		field := p.File
		if p.Line > 0 {
			field = fmt.Sprintf("%s:%d:%d", p.File, p.Line, max(p.Col, 1))
		}
		if p.Path != "" {
			field += ": " + p.Path
		}
		msg := ""
		if p.Err != nil {
			msg = p.Err.Error()
		}
		out.Details = append(out.Details, Detail{Field: field, Message: msg})
	}
	out.Msg = fmt.Sprintf("The configuration has %d problem(s); the first: %s", len(list), list[0].Error())
	return out
}

// mapColumns maps a file's columns onto the canonical columns. Without a
// config there is no mapping: the mission is generic and ids unknown.
func (e *Engine) mapColumns(cols []Column, in IngestInput) (*mapping.Mapping, error) {
	if e.bundle == nil {
		return &mapping.Mapping{Mission: spec.GenericMission, Report: []mapping.ReportEntry{}}, nil
	}
	mc := make([]mapping.Column, len(cols))
	for i, c := range cols {
		mc[i] = mapping.Column{Name: c.Name, Type: c.Type}
	}
	m, err := mapping.Map(mc, e.bundle.Columns, mapping.Options{Mission: in.Mission, Units: in.Units})
	switch {
	case errors.Is(err, mapping.ErrNoKnownColumns):
		return nil, Wrap(BadRequest, err, "None of the columns is one ExoHunter knows, so nothing can be computed; %s", afterColon(err))
	case errors.Is(err, mapping.ErrUnknownMission):
		names := make([]string, len(e.bundle.Columns.Missions))
		for i, ms := range e.bundle.Columns.Missions {
			names[i] = ms.Name
		}
		return nil, Wrap(BadRequest, err, "Unknown mission %q: use %s, or leave it out to detect it.", in.Mission, strings.Join(names, ", "))
	case errors.Is(err, mapping.ErrUnknownUnit), errors.Is(err, mapping.ErrUnknownColumn):
		return nil, Wrap(BadRequest, err, "Bad unit override: %s", err.Error())
	case err != nil:
		return nil, fmt.Errorf("map columns: %w", err)
	}
	return m, nil
}

// afterColon returns the text after the first ": " of err, or all of it.
func afterColon(err error) string {
	s := err.Error()
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ':' && s[i+1] == ' ' {
			return s[i+2:]
		}
	}
	return s
}

// pipelineViews renders the CREATE VIEW statements of normalized.D,
// metrics.D and classified.D (default thresholds and albedo) for a dataset
// whose raw view exists.
func (e *Engine) pipelineViews(ds *Dataset, m *mapping.Mapping) ([]string, error) {
	return sqltmpl.Views(sqltmpl.PipelineInput{Dataset: ds.Name, Bundle: e.bundle, Mapping: m})
}
