package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Label sources (Contracts: a label's source).
const (
	SourceHuman     = "human"
	SourceHeuristic = "heuristic"
	SourceNASA      = "nasa"
	SourceModel     = "model"
)

// LabelSources lists the sources a label may have.
var LabelSources = []string{SourceHuman, SourceHeuristic, SourceNASA, SourceModel}

// Review statuses of a label: pending until its first review; the latest
// review decides.
const (
	ReviewPending  = "pending"
	ReviewAccepted = "accepted"
	ReviewRejected = "rejected"
)

// Limits of label fields and listings.
const (
	MaxLabelsLimit     = 100000
	defaultLabelsLimit = 100
	maxLabelText       = 256  // object_id, annotator, reviewer
	maxLabelNote       = 4000 // note
)

// LabelValues lists the values a label may take: the nine categories, then
// the three catalog dispositions.
func LabelValues() []string {
	return append(append([]string{}, spec.Categories...), spec.Confirmed, spec.Candidate, spec.FalsePositive)
}

// Label is one row of labels.labels as the API shows it (Contracts), plus
// the label's review status.
type Label struct {
	ID        int64     `json:"id"`
	ObjectID  string    `json:"object_id"`
	Dataset   string    `json:"dataset"`
	RunID     *string   `json:"run_id"`
	Label     string    `json:"label"`
	Source    string    `json:"source"`
	Annotator string    `json:"annotator"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
	// ReviewStatus is pending, accepted or rejected.
	ReviewStatus string `json:"review_status"`
}

// LabelInput is a label to record. Source defaults to human; RunID is
// optional; Annotator is required for human labels.
type LabelInput struct {
	ObjectID  string `json:"object_id"`
	Dataset   string `json:"dataset"`
	RunID     string `json:"run_id"`
	Label     string `json:"label"`
	Source    string `json:"source"`
	Annotator string `json:"annotator"`
	Note      string `json:"note"`
}

// AddLabel validates and records one label. It answers only after the
// insert has committed, so an acknowledged label survives a crash right
// after. Unknown labels, sources, datasets, runs and objects are a
// BadRequest and nothing is stored.
func (e *Engine) AddLabel(ctx context.Context, in LabelInput) (*Label, error) {
	in, err := e.checkLabel(ctx, in)
	if err != nil {
		return nil, err
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("add label: %w", err)
	}
	defer tx.Rollback()
	l := &Label{ObjectID: in.ObjectID, Dataset: in.Dataset, Label: in.Label, Source: in.Source,
		Annotator: in.Annotator, Note: in.Note, ReviewStatus: ReviewPending}
	if in.RunID != "" {
		l.RunID = &in.RunID
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO labels.labels (object_id, dataset, run_id, label, source, annotator, note)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, created_at`,
		in.ObjectID, in.Dataset, nullIfEmpty(in.RunID), in.Label, in.Source, nullIfEmpty(in.Annotator), nullIfEmpty(in.Note),
	).Scan(&l.ID, &l.CreatedAt)
	if err != nil {
		return nil, e.labelWriteError(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, e.labelWriteError(ctx, err)
	}
	return l, nil
}

// labelWriteError classifies a failed label write.
func (e *Engine) labelWriteError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return Wrap(Timeout, err, "The label was not stored: the request was cancelled or timed out.")
	}
	return fmt.Errorf("store label: %w", err)
}

// checkLabel trims and validates a label, normalizing the label's case and
// defaulting the source.
func (e *Engine) checkLabel(ctx context.Context, in LabelInput) (LabelInput, error) {
	for _, p := range []*string{&in.ObjectID, &in.Dataset, &in.RunID, &in.Label, &in.Source, &in.Annotator} {
		*p = strings.TrimSpace(*p)
	}
	if in.Source == "" {
		in.Source = SourceHuman
	}
	src, ok := matchFold(LabelSources, in.Source)
	if !ok {
		return in, Errorf(BadRequest, "Unknown label source %q: use human, heuristic, nasa or model.", in.Source)
	}
	in.Source = src
	switch src {
	case SourceNASA:
		// note: a nasa label says the catalog's disposition; a client
		// could otherwise pass its own opinion off as NASA's.
		return in, Errorf(BadRequest, "Labels with source nasa come from the catalog's disposition: import them with POST /api/labels/import (exohunter labels import-nasa DATASET). A person's label has source human.")
	case SourceHeuristic:
		// note: likewise, a heuristic label is a run's category, and the
		// agreement tables compare it with the other sources.
		return in, Errorf(BadRequest, "Labels with source heuristic are the categories of a run: import them with POST /api/labels/import {\"source\":\"heuristic\",\"run_id\":...} (exohunter labels import-run RUN). A person's label has source human.")
	}
	if err := checkLabelText(map[string]string{"object_id": in.ObjectID, "dataset": in.Dataset, "label": in.Label, "annotator": in.Annotator, "note": in.Note}); err != nil {
		return in, err
	}
	lab, err := normalizeLabel(in.Label)
	if err != nil {
		return in, err
	}
	in.Label = lab
	switch {
	case in.Dataset == "":
		return in, Errorf(BadRequest, "A label needs the dataset of its object (dataset).")
	case in.ObjectID == "":
		return in, Errorf(BadRequest, "A label needs the object it labels (object_id).")
	case len(in.ObjectID) > maxLabelText || len(in.Annotator) > maxLabelText:
		return in, Errorf(BadRequest, "object_id and annotator are limited to %d bytes.", maxLabelText)
	case len(in.Note) > maxLabelNote:
		return in, Errorf(BadRequest, "The note is limited to %d bytes.", maxLabelNote)
	case in.Source == SourceHuman && in.Annotator == "":
		return in, Errorf(BadRequest, "A human label needs the annotator who gave it (annotator).")
	}
	path, err := e.labelTarget(ctx, in)
	if err != nil {
		return in, err
	}
	if err := e.checkObject(ctx, in, path); err != nil {
		return in, err
	}
	return in, nil
}

// checkLabelText refuses text fields that are not valid UTF-8 or hold a
// NUL byte, naming the field.
func checkLabelText(fields map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if v := fields[name]; !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return &Error{Code: BadRequest, Msg: fmt.Sprintf("The %s is not valid UTF-8 text (or holds a NUL byte).", name),
				Details: []Detail{{Field: name, Message: "not valid UTF-8 text"}}}
		}
	}
	return nil
}

// normalizeLabel accepts a category or a disposition, in its own case or
// in any case that names only one of them. "candidate" (the category) and
// "CANDIDATE" (NASA's disposition) differ only in case: each matches
// itself, and "Candidate" is refused as ambiguous.
func normalizeLabel(s string) (string, error) {
	s = strings.TrimSpace(s)
	for _, v := range []string{s, strings.ReplaceAll(s, "_", " ")} {
		if slices.Contains(LabelValues(), v) {
			return v, nil
		}
		var folded []string
		for _, l := range LabelValues() {
			if strings.EqualFold(l, v) {
				folded = append(folded, l)
			}
		}
		switch len(folded) {
		case 1:
			return folded[0], nil // note: FALSE_POSITIVE is the usual spelling in code
		case 2:
			return "", &Error{Code: BadRequest, Msg: fmt.Sprintf("Label %q is ambiguous: write %q for the category or %q for NASA's disposition.", s, folded[0], folded[1]),
				Details: []Detail{{Field: "label", Message: "ambiguous: " + folded[0] + " or " + folded[1]}}}
		}
	}
	if s == "" {
		return "", Errorf(BadRequest, "A label needs a value (label): one of the nine categories or CONFIRMED, CANDIDATE, FALSE POSITIVE.")
	}
	return "", &Error{Code: BadRequest, Msg: fmt.Sprintf("Unknown label %q: use one of the nine categories or CONFIRMED, CANDIDATE, FALSE POSITIVE.", s),
		Details: []Detail{{Field: "label", Message: "one of " + strings.Join(LabelValues(), ", ")}}}
}

// matchFold returns the element of xs equal to s ignoring case.
func matchFold(xs []string, s string) (string, bool) {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return x, true
		}
	}
	return "", false
}

// checkLabelDataset refuses a dataset filter ("" is all datasets) that
// names neither a dataset nor the labels of one: a mistyped name would
// otherwise give an empty export or all-zero tables. Labels outlive their
// dataset, so a deleted dataset's labels can still be exported.
func (e *Engine) checkLabelDataset(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	_, err := e.Dataset(ctx, name)
	if ErrorCode(err) != NotFound {
		return err
	}
	var labeled bool
	if qerr := e.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM labels.labels WHERE dataset = ?)`, name).Scan(&labeled); qerr != nil {
		return fmt.Errorf("look up the labels of %s: %w", name, qerr)
	}
	if labeled {
		return nil
	}
	return err
}

// labelTarget checks the dataset and the optional run and returns the run
// file that lists the dataset's objects: the given run, else the latest
// complete run, else "" (the normalized view is used).
func (e *Engine) labelTarget(ctx context.Context, in LabelInput) (string, error) {
	if _, err := e.Dataset(ctx, in.Dataset); err != nil {
		if ErrorCode(err) == NotFound {
			return "", Errorf(BadRequest, "There is no dataset named %q.", in.Dataset)
		}
		return "", err
	}
	if in.RunID != "" {
		r, err := e.Run(ctx, in.RunID)
		switch {
		case ErrorCode(err) == NotFound:
			return "", Errorf(BadRequest, "There is no run %q.", in.RunID)
		case err != nil:
			return "", err
		case r.Dataset != in.Dataset:
			return "", Errorf(BadRequest, "Run %s belongs to dataset %s, not %s.", r.RunID, r.Dataset, in.Dataset)
		case r.Status != RunComplete:
			return "", Errorf(BadRequest, "Run %s is %s; label objects of a complete run.", r.RunID, r.Status)
		}
		return e.abs(r.Path), nil
	}
	r, err := e.LatestRun(ctx, in.Dataset)
	switch {
	case ErrorCode(err) == NotFound:
		return "", nil
	case err != nil:
		return "", err
	}
	return e.abs(r.Path), nil
}

// checkObject refuses an object that the dataset does not hold.
func (e *Engine) checkObject(ctx context.Context, in LabelInput, runPath string) error {
	from := sqltmpl.QualifiedIdent{Schema: sqltmpl.SchemaNormalized, Name: sqltmpl.Ident(in.Dataset)}.String()
	if runPath != "" {
		from = "read_parquet(" + sqltmpl.Lit(runPath).String() + ")"
	}
	var n int64
	err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+from+` WHERE object_id = ? LIMIT 1)`, in.ObjectID).Scan(&n)
	switch {
	case err != nil && ctx.Err() != nil:
		return Wrap(Timeout, err, "The label was not stored: the request was cancelled or timed out.")
	case err != nil:
		return fmt.Errorf("look up object %s in %s: %w", in.ObjectID, in.Dataset, err)
	case n == 0:
		return Errorf(BadRequest, "Dataset %s has no object %q.", in.Dataset, in.ObjectID)
	}
	return nil
}

// LabelFilter selects labels for Labels. Empty fields do not filter.
type LabelFilter struct {
	Source       string
	Label        string
	Annotator    string
	Dataset      string
	ObjectID     string
	RunID        string
	ReviewStatus string
	// Limit is the page size, 1 to MaxLabelsLimit (default 100).
	Limit int
	// Cursor is the next_cursor of the previous page.
	Cursor string
}

// LabelPage is the answer of GET /api/labels: {"items":[…],"next_cursor"}.
type LabelPage struct {
	Items      []*Label `json:"items"`
	NextCursor *string  `json:"next_cursor"`
}

// Labels lists labels in id order (oldest first), filtered, one page at a
// time; next_cursor continues after the last one.
func (e *Engine) Labels(ctx context.Context, f LabelFilter) (*LabelPage, error) {
	where, args, err := f.where()
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = defaultLabelsLimit
	}
	if limit < 1 || limit > MaxLabelsLimit {
		return nil, Errorf(BadRequest, "limit must be between 1 and %d (got %d).", MaxLabelsLimit, limit)
	}
	q := `SELECT ` + labelColumns + ` FROM labels.history WHERE ` + where + ` ORDER BY id LIMIT ` + strconv.Itoa(limit+1)
	items, err := e.queryLabels(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	page := &LabelPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		c := strconv.FormatInt(items[limit-1].ID, 10)
		page.NextCursor = &c
	}
	return page, nil
}

// where builds the filter from fixed column names and bound values.
func (f LabelFilter) where() (string, []any, error) {
	conds := []string{"true"}
	var args []any
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	if f.Source != "" {
		s, ok := matchFold(LabelSources, strings.TrimSpace(f.Source))
		if !ok {
			return "", nil, Errorf(BadRequest, "Unknown label source %q: use human, heuristic, nasa or model.", f.Source)
		}
		eq("source", s)
	}
	if f.Label != "" {
		l, err := normalizeLabel(f.Label)
		if err != nil {
			return "", nil, err
		}
		eq("label", l)
	}
	if f.ReviewStatus != "" {
		s, ok := matchFold([]string{ReviewPending, ReviewAccepted, ReviewRejected}, strings.TrimSpace(f.ReviewStatus))
		if !ok {
			return "", nil, Errorf(BadRequest, "Unknown review_status %q: use pending, accepted or rejected.", f.ReviewStatus)
		}
		eq("review_status", s)
	}
	eq("annotator", f.Annotator)
	eq("dataset", f.Dataset)
	eq("object_id", f.ObjectID)
	eq("run_id", f.RunID)
	if f.Cursor != "" {
		id, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || id < 0 {
			return "", nil, Errorf(BadRequest, "The cursor %q is not one this API gave out (use next_cursor).", f.Cursor)
		}
		conds = append(conds, "id > ?")
		args = append(args, id)
	}
	return strings.Join(conds, " AND "), args, nil
}

// labelColumns is the SELECT list scanLabel reads, over labels.history.
const labelColumns = `id, object_id, dataset, run_id, label, source, coalesce(annotator, ''), coalesce(note, ''), created_at, review_status`

// queryLabels runs a query selecting labelColumns.
func (e *Engine) queryLabels(ctx context.Context, q string, args ...any) ([]*Label, error) {
	rows, err := e.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, e.queryError(ctx, err, "list labels")
	}
	defer rows.Close()
	out := []*Label{}
	for rows.Next() {
		l, err := scanLabel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, e.queryError(ctx, err, "list labels")
	}
	return out, nil
}

// scanLabel reads one row selected with labelColumns.
func scanLabel(s scanner) (*Label, error) {
	var l Label
	var run sql.NullString
	if err := s.Scan(&l.ID, &l.ObjectID, &l.Dataset, &run, &l.Label, &l.Source, &l.Annotator, &l.Note,
		&l.CreatedAt, &l.ReviewStatus); err != nil {
		return nil, err
	}
	if run.Valid {
		l.RunID = &run.String
	}
	return &l, nil
}

// Label returns one label with its review status, or NotFound.
func (e *Engine) Label(ctx context.Context, id int64) (*Label, error) {
	l, err := scanLabel(e.db.QueryRowContext(ctx, `SELECT `+labelColumns+` FROM labels.history WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(NotFound, "There is no label %d.", id)
	}
	return l, err
}

// Review is one accept/reject decision on a label.
type Review struct {
	ID        int64     `json:"id"`
	LabelID   int64     `json:"label_id"`
	Status    string    `json:"status"`
	Reviewer  string    `json:"reviewer"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// ReviewInput is a review to record: Status is accept(ed) or reject(ed).
type ReviewInput struct {
	Status   string `json:"status"`
	Reviewer string `json:"reviewer"`
	Note     string `json:"note"`
}

// ReviewLabel records an accept or reject decision on a label. The label
// itself is never changed; its latest review is its review status.
func (e *Engine) ReviewLabel(ctx context.Context, labelID int64, in ReviewInput) (*Review, error) {
	status := map[string]string{"accept": ReviewAccepted, "accepted": ReviewAccepted,
		"reject": ReviewRejected, "rejected": ReviewRejected}[strings.ToLower(strings.TrimSpace(in.Status))]
	in.Reviewer = strings.TrimSpace(in.Reviewer)
	switch {
	case status == "":
		return nil, Errorf(BadRequest, "A review's status is accept or reject (got %q).", in.Status)
	case in.Reviewer == "":
		return nil, Errorf(BadRequest, "A review needs the reviewer who made it (reviewer).")
	case len(in.Reviewer) > maxLabelText || len(in.Note) > maxLabelNote:
		return nil, Errorf(BadRequest, "reviewer is limited to %d bytes and note to %d.", maxLabelText, maxLabelNote)
	}
	if err := checkLabelText(map[string]string{"reviewer": in.Reviewer, "note": in.Note}); err != nil {
		return nil, err
	}
	if _, err := e.Label(ctx, labelID); err != nil {
		return nil, err
	}
	r := &Review{LabelID: labelID, Status: status, Reviewer: in.Reviewer, Note: in.Note}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("review label: %w", err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `INSERT INTO labels.reviews (label_id, status, reviewer, note) VALUES (?, ?, ?, ?)
		RETURNING id, created_at`, labelID, status, in.Reviewer, nullIfEmpty(in.Note)).Scan(&r.ID, &r.CreatedAt)
	if err != nil {
		return nil, e.labelWriteError(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, e.labelWriteError(ctx, err)
	}
	return r, nil
}

// labelClasses maps every label value to its disposition class, following
// rules.yaml's agreement of each category (as disposition_compare does);
// categories that agree with no disposition keep their own name.
func (e *Engine) labelClasses() []sqltmpl.LabelClass {
	agree := map[string]string{
		"confirmed_planet": spec.Confirmed, "likely_false_positive": spec.FalsePositive,
		"habitable_zone_candidate": spec.Candidate, "hot_jupiter_candidate": spec.Candidate,
		"rocky_candidate": spec.Candidate, "super_earth_or_mini_neptune": spec.Candidate, "candidate": spec.Candidate,
	}
	if e.bundle != nil && e.bundle.Rules != nil {
		agree = map[string]string{}
		for i := range e.bundle.Rules.Categories {
			c := &e.bundle.Rules.Categories[i]
			if a := c.Agreement(); a != "" {
				agree[c.Name] = a
			}
		}
	}
	out := []sqltmpl.LabelClass{}
	for _, v := range LabelValues() {
		if a, ok := agree[v]; ok {
			out = append(out, sqltmpl.LabelClass{Label: v, Class: a})
		}
	}
	return out
}

// labelClassOf returns the disposition class of one label value.
func labelClassOf(classes []sqltmpl.LabelClass, label string) string {
	for _, c := range classes {
		if c.Label == label {
			return c.Class
		}
	}
	return label
}

// createLabelViews (re)creates labels.history and labels.current at Open.
func createLabelViews(ctx context.Context, e *Engine) error {
	stmts, err := sqltmpl.LabelViews(e.labelClasses())
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := e.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("create label views: %w", err)
		}
	}
	return nil
}

func init() { openHooks = append(openHooks, createLabelViews) }
