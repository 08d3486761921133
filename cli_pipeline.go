package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/exohunter/exohunter/engine"
)

// runIngest stores a catalog file (or a URL) and prints the dataset.
func (m *Main) runIngest(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("ingest", &g)
	name := f.String("name", "", "dataset name (default: derived from the file name)")
	mission := f.String("mission", "", "force the mission: koi, toi, k2, ps, pscomppars or generic (schemas/columns.yaml; default: detected)")
	var units multiFlag
	f.Var(&units, "unit", "unit of a canonical column in this file, e.g. koi_depth=percent (repeatable)")
	pos, err := f.parse(args, 1, 1, "needs exactly one PATH or URL")
	if err != nil {
		return err
	}
	u, err := keyValues(units, "unit")
	if err != nil {
		return usageErr(err)
	}
	e, err := m.open(ctx, &g)
	if err != nil {
		return err
	}
	in := engine.IngestInput{Name: *name, Units: u, Mission: *mission}
	if strings.Contains(pos[0], "://") {
		in.URL = pos[0]
	} else {
		in.Path = pos[0]
	}
	ds, err := e.Ingest(ctx, in)
	if err != nil {
		return err
	}
	// note: the JSON line is for scripts; a person at a terminal would
	// miss a note inside it, and then ask for a dataset that was not made.
	switch {
	case ds.Note != "":
		fmt.Fprintln(m.Stderr, "exohunter: "+ds.Note)
	case ds.DuplicateOf != "":
		fmt.Fprintf(m.Stderr, "exohunter: these bytes are already dataset %q; nothing new was stored.\n", ds.DuplicateOf)
	}
	for _, r := range ds.Mapping {
		if r.Unreadable > 0 {
			fmt.Fprintf(m.Stderr, "exohunter: column %s: %d value(s) are not numbers and read as missing (the mapping report has an example).\n", r.Source, r.Unreadable)
		}
	}
	return m.printJSON(ds)
}

// runProcess materializes a run of a dataset and prints its summary.
func (m *Main) runProcess(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("process", &g)
	var sets multiFlag
	f.Var(&sets, "set", "threshold override KEY=VALUE, e.g. planet_radius.rocky_max=2.2 (repeatable)")
	albedo := f.String("albedo", "", "Bond albedo for equilibrium temperatures (default from configs/metrics.yaml)")
	out := f.String("out", "", "also write the result to FILE; the format follows the extension (.csv .json .ndjson .parquet)")
	pos, err := f.parse(args, 1, 1, "needs exactly one DATASET")
	if err != nil {
		return err
	}
	over, err := keyValues(sets, "set")
	if err != nil {
		return usageErr(err)
	}
	in := engine.ProcessInput{Dataset: pos[0], Overrides: over, Out: *out}
	if flagGiven(f.FlagSet, "albedo") {
		a, err := strconv.ParseFloat(*albedo, 64)
		if err != nil {
			return engine.Errorf(engine.BadRequest, "--albedo %q is not a number", *albedo)
		}
		in.Albedo = &a
	}
	e, err := m.open(ctx, &g)
	if err != nil {
		return err
	}
	run, err := e.Process(ctx, in)
	if err != nil {
		return err
	}
	return m.printJSON(run)
}

// runMigrate applies the embedded migrations or reports the version.
func (m *Main) runMigrate(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("migrate", &g)
	pos, err := f.parse(args, 1, 1, "needs up or version")
	if err != nil {
		return err
	}
	if pos[0] != "up" && pos[0] != "version" {
		return usageErr(errUsageText("migrate: unknown action " + strconv.Quote(pos[0]) + " (want up or version)"))
	}
	// Open already applies pending migrations; both actions then report.
	e, err := m.open(ctx, &g)
	if err != nil {
		return err
	}
	v, dirty, err := e.MigrationVersion(ctx)
	if err != nil {
		return err
	}
	return m.printJSON(map[string]any{"action": pos[0], "version": v, "dirty": dirty})
}

// errUsageText is a plain error for usage messages built at run time.
type errUsageText string

func (e errUsageText) Error() string { return string(e) }
