package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/exohunter/exohunter/engine"
)

// labelsUsage lists the actions of the labels command.
const labelsUsage = "needs an action: export, import-nasa DATASET, import-run RUN, queue or stats"

// runLabels runs one labels action:
//
//	labels export [--format parquet|csv|json|ndjson] [--dataset D] [--source S,...]
//	labels import-nasa DATASET
//	labels import-run RUN
//	labels queue [--run RUN] [--dataset D] [--strategy S] [--limit N] [--table]
//	labels stats [--dataset D] [--table]
//
// Each prints one JSON line (queue and stats print text with --table).
func (m *Main) runLabels(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("labels", &g)
	format := f.String("format", string(engine.Parquet), "export: parquet or csv (also json, ndjson)")
	dataset := f.String("dataset", "", "export, queue, stats: only this dataset")
	source := f.String("source", "", "export: comma-separated sources (human, heuristic, nasa, model)")
	run := f.String("run", "", "queue: the run (default: the latest run of --dataset or of the only dataset)")
	strategy := f.String("strategy", "", "queue: priority, random or uncertainty (default from configs/labeling.yaml)")
	limit := f.Int("limit", 0, "queue: number of items (default batch.size)")
	table := f.Bool("table", false, "queue, stats: print a readable table instead of JSON")
	pos, err := f.parse(args, 1, 2, labelsUsage)
	if err != nil {
		return err
	}
	want := map[string]int{"export": 1, "import-nasa": 2, "import-run": 2, "queue": 1, "stats": 1}
	if n, ok := want[pos[0]]; !ok {
		return usageErr(errUsageText(fmt.Sprintf("labels has no action %q; it %s", pos[0], labelsUsage)))
	} else if n != len(pos) {
		if n == 2 {
			arg := map[string]string{"import-nasa": "DATASET", "import-run": "RUN"}[pos[0]]
			return usageErr(errUsageText("labels " + pos[0] + " needs " + arg))
		}
		return usageErr(errUsageText("labels " + pos[0] + " takes no argument (" + pos[1] + ")"))
	}
	limitSet := false
	f.Visit(func(fl *flag.Flag) { limitSet = limitSet || fl.Name == "limit" })
	if limitSet && *limit < 1 {
		// note: 0 is the flag's unset value; given explicitly it is a
		// mistake, as the API's limit=0 is.
		return usageErr(errUsageText(fmt.Sprintf("labels queue --limit must be at least 1 (got %d)", *limit)))
	}
	e, err := m.open(ctx, &g)
	if err != nil {
		return err
	}
	switch pos[0] {
	case "export":
		in := engine.LabelExportInput{Format: engine.ExportFormat(*format), Dataset: *dataset}
		for _, s := range strings.Split(*source, ",") {
			if s = strings.TrimSpace(s); s != "" {
				in.Sources = append(in.Sources, s)
			}
		}
		return m.printResult(e.ExportLabels(ctx, in))
	case "import-nasa":
		return m.printResult(e.ImportNASALabels(ctx, pos[1]))
	case "import-run":
		return m.printResult(e.ImportRunLabels(ctx, pos[1]))
	case "queue":
		q, err := e.LabelQueue(ctx, engine.QueueRequest{Run: *run, Dataset: *dataset, Strategy: *strategy, Limit: *limit})
		if err != nil || !*table {
			return m.printResult(q, err)
		}
		return writeQueueTable(m.Stdout, q)
	}
	st, err := e.LabelStats(ctx, *dataset)
	if err != nil || !*table {
		return m.printResult(st, err)
	}
	return writeStatsTable(m.Stdout, st)
}

// printResult prints v as the command's JSON line, or returns err.
func (m *Main) printResult(v any, err error) error {
	if err != nil {
		return err
	}
	return m.printJSON(v)
}

// writeQueueTable prints queue items with the terms of their priority.
func writeQueueTable(w io.Writer, q *engine.Queue) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// note: p_model is the probability the uncertainty term used; "-" means the
	// run's rule score stood in, because no model scored the run.
	fmt.Fprintf(tw, "#\tobject_id\tcategory\tpriority\tcategory_weight\tflag_weight\tuncertainty\tp_model\tanomaly\tflags\n")
	for i, it := range q.Items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%g\t%g\t%g\t%g\t%s\t%s\t%s\n", i+1, it.ObjectID, it.Category, it.Priority,
			it.Reason.CategoryWeight, it.Reason.FlagWeight, it.Reason.Uncertainty, optionalNumber(it.Reason.PModel),
			optionalNumber(it.Reason.Anomaly), strings.Join(it.Reason.Flags, " "))
	}
	fmt.Fprintf(tw, "(run %s, strategy %s, %d items)\n", q.RunID, q.Strategy, len(q.Items))
	return tw.Flush()
}

// writeStatsTable prints each confusion table twice: by disposition class
// (with the agreement) and by raw label.
func writeStatsTable(w io.Writer, st *engine.LabelStats) error {
	for _, t := range st.Tables {
		fmt.Fprintf(w, "%s (rows) vs %s (columns): %d objects, %d agree", t.A, t.B, t.Objects, t.Agree)
		if t.Agreement != nil {
			fmt.Fprintf(w, " (%.1f%%)", 100**t.Agreement)
		}
		fmt.Fprintln(w)
		if t.Objects == 0 {
			fmt.Fprintln(w)
			continue
		}
		if err := writeMatrix(w, t.Classes, t.Classes, func(a, b string) int64 {
			return t.Matrix[slices.Index(t.Classes, a)][slices.Index(t.Classes, b)]
		}); err != nil {
			return err
		}
		var rows, cols []string
		n := map[[2]string]int64{}
		for _, c := range t.Labels {
			if !slices.Contains(rows, c.A) {
				rows = append(rows, c.A)
			}
			if !slices.Contains(cols, c.B) {
				cols = append(cols, c.B)
			}
			n[[2]string{c.A, c.B}] = c.N
		}
		order := engine.LabelValues()
		byOrder := func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) }
		slices.SortFunc(rows, byOrder)
		slices.SortFunc(cols, byOrder)
		fmt.Fprintf(w, "by label:\n")
		if err := writeMatrix(w, rows, cols, func(a, b string) int64 { return n[[2]string{a, b}] }); err != nil {
			return err
		}
	}
	return nil
}

// writeMatrix prints a count matrix with row and column totals.
func writeMatrix(w io.Writer, rows, cols []string, n func(a, b string) int64) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\ttotal\t\n", strings.Join(cols, "\t"))
	colTotals := make([]int64, len(cols))
	for _, a := range rows {
		var total int64
		cells := make([]string, len(cols))
		for j, b := range cols {
			v := n(a, b)
			cells[j] = fmt.Sprint(v)
			total += v
			colTotals[j] += v
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t\n", a, strings.Join(cells, "\t"), total)
	}
	cells := make([]string, len(cols))
	var all int64
	for j, v := range colTotals {
		cells[j] = fmt.Sprint(v)
		all += v
	}
	fmt.Fprintf(tw, "total\t%s\t%d\t\n\n", strings.Join(cells, "\t"), all)
	return tw.Flush()
}

// optionalNumber prints a term that may be absent as "-".
func optionalNumber(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}
