package main

import (
	"context"

	"github.com/exohunter/exohunter/engine"
)

// runFeatures runs `features build --version V [--run RUN] [--dataset D]`
// and prints the version's manifest, its path and whether it was created
// or already there with the same content, as one JSON line.
func (m *Main) runFeatures(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("features", &g)
	version := f.String("version", "", "the version to build (letters, digits, '.', '_' and '-')")
	run := f.String("run", "", "the source run (default: the latest run of --dataset, or of the only dataset)")
	dataset := f.String("dataset", "", "take the latest run of this dataset")
	pos, err := f.parse(args, 1, 1, "needs the action build")
	if err != nil {
		return err
	}
	if pos[0] != "build" {
		return usageErr(errUsageText("features: unknown action " + pos[0] + " (want build)"))
	}
	if *version == "" {
		return usageErr(errUsageText("features build needs --version V"))
	}
	e, err := m.open(ctx, &g)
	if err != nil {
		return err
	}
	return m.printResult(e.BuildFeatures(ctx, engine.FeatureBuildInput{Version: *version, Run: *run, Dataset: *dataset}))
}
