package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/exohunter/exohunter/engine"
)

// runTrain runs `train [--run RUN] [--dataset D] [--features V] [--target T]
// [--leaky] [--name N] [--version V]` and prints the Contracts' line:
// {"artifact_dir","model","version","target","features":[…],"metrics":{…}}.
// Without --features it reuses the run's feature set built with the
// current configs/features.yaml, or builds one named auto-<run>. Progress
// goes to stderr.
func (m *Main) runTrain(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("train", &g)
	run := f.String("run", "", "the source run (default: the feature set's run, else the latest run of --dataset or of the only dataset)")
	dataset := f.String("dataset", "", "take the latest run of this dataset")
	features := f.String("features", "", "the feature-set version (default: the run's, built as auto-<run> when missing)")
	target := f.String("target", engine.TargetConfirmedVsFP, "confirmed_vs_fp, planet_vs_fp or disposition")
	leaky := f.Bool("leaky", false, "add the Robovetter's outputs (koi_score, koi_fpflag_*, koi_pdisposition) to measure the leak; the model is named *_leaky")
	name := f.String("name", "", "model name (default xgb_<target>[_leaky])")
	version := f.String("version", "", "model version (default: the UTC time)")
	if _, err := f.parse(args, 0, 0, "takes no positional arguments"); err != nil {
		return err
	}
	e, err := m.open(ctx, &g)
	if err != nil {
		return err
	}
	res, err := e.Train(ctx, engine.TrainInput{Run: *run, Dataset: *dataset, Features: *features, Target: *target,
		Leaky: *leaky, Name: *name, Version: *version, Progress: m.progress("train")})
	if err != nil {
		return err
	}
	return m.printJSON(res)
}

// runModels runs `models [NAME[/VERSION]]`: without an argument it prints
// the list of GET /api/models, with NAME/VERSION one version's detail
// (metrics and cards) as GET /api/models/{name}/{version}, with NAME the
// newest version's.
func (m *Main) runModels(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("models", &g)
	pos, err := f.parse(args, 0, 1, "takes at most one NAME[/VERSION]")
	if err != nil {
		return err
	}
	e, err := m.open(ctx, &g)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		list, err := e.Models(ctx)
		if err != nil {
			return err
		}
		return m.printJSON(list)
	}
	mi, err := e.ResolveModel(ctx, pos[0])
	if err != nil {
		return err
	}
	d, err := e.Model(ctx, mi.Name, mi.Version)
	if err != nil {
		return err
	}
	return m.printJSON(d)
}

// runScore runs `score [RUN | --run RUN] --model NAME[/VERSION] [--out FILE]`: it
// writes the model's p_model for every row of the run into DuckDB
// (results, exports and the labeling queue read it) and prints a summary
// line. --out also writes the run with its score columns to FILE.
func (m *Main) runScore(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("score", &g)
	model := f.String("model", "", "NAME or NAME/VERSION (newest version when omitted)")
	run := f.String("run", "", "the run to score (the same as RUN)")
	dataset := f.String("dataset", "", "without RUN: the latest run of this dataset")
	out := f.String("out", "", "also write the scored run to FILE (.csv .json .ndjson .parquet)")
	pos, err := f.parse(args, 0, 1, "takes at most one RUN")
	if err != nil {
		return err
	}
	if *model == "" {
		return usageErr(errUsageText("score needs --model NAME[/VERSION]"))
	}
	runID, err := runArg(firstArg(pos), *run)
	if err != nil {
		return err
	}
	e, err := m.open(ctx, &g)
	if err != nil {
		return err
	}
	res, err := e.ScoreRun(ctx, engine.ScoreInput{Run: runID, Dataset: *dataset, Model: *model})
	if err != nil {
		return err
	}
	if *out != "" {
		if err := e.ExportScoredRun(ctx, res.RunID, *out); err != nil {
			return err
		}
		res.Out = *out
	}
	return m.printJSON(res)
}

// runAnomalies runs the anomaly detectors:
//
//	anomalies [RUN | --run RUN] [--features V] [--out FILE]   score a run (Isolation Forest and LOF)
//	anomalies eval [--run RUN] [--n 50] [--seed S]   the injected-anomaly evaluation
//
// Both print one JSON line.
func (m *Main) runAnomalies(ctx context.Context, args []string) error {
	var g globalFlags
	f := m.flags("anomalies", &g)
	run := f.String("run", "", "the run to score (the same as RUN); eval: the KOI run whose dataset is copied (default: the latest run of --dataset or of the only dataset)")
	dataset := f.String("dataset", "", "without RUN: the latest run of this dataset")
	features := f.String("features", "", "the feature-set version (default: the run's, built as auto-<run> when missing)")
	out := f.String("out", "", "also write the scored run to FILE (.csv .json .ndjson .parquet)")
	n := f.Int("n", engine.DefaultInjected, "eval: number of injected anomalies")
	seed := f.String("seed", "", "eval: donor seed (default: configs/splits.yaml's seed)")
	pos, err := f.parse(args, 0, 1, "takes at most one RUN, or eval")
	if err != nil {
		return err
	}
	eval := firstArg(pos) == "eval"
	runID := *run
	if !eval {
		if runID, err = runArg(firstArg(pos), *run); err != nil {
			return err
		}
	}
	e, err := m.open(ctx, &g)
	if err != nil {
		return err
	}
	if eval {
		in := engine.AnomalyEvalInput{Run: *run, Dataset: *dataset, N: *n}
		if *seed != "" {
			s, err := strconv.ParseUint(*seed, 10, 64)
			if err != nil {
				return usageErr(fmt.Errorf("--seed %q is not a non-negative integer", *seed))
			}
			in.Seed = &s
		}
		rep, err := e.EvaluateAnomalies(ctx, in)
		if err != nil {
			return err
		}
		return m.printJSON(rep)
	}
	res, err := e.DetectAnomalies(ctx, engine.AnomalyInput{Run: runID, Dataset: *dataset, Features: *features})
	if err != nil {
		return err
	}
	if *out != "" {
		if err := e.ExportScoredRun(ctx, res.RunID, *out); err != nil {
			return err
		}
		res.Out = *out
	}
	return m.printJSON(res)
}

// progress returns a progress callback that logs each step on stderr.
func (m *Main) progress(cmd string) func(float64, string) {
	return func(p float64, msg string) {
		fmt.Fprintf(m.Stderr, "%s: %3.0f%% %s\n", cmd, 100*p, msg)
	}
}

// runArg is the run named either as the positional RUN or by --run (the
// form the "name the run" errors suggest); naming two different runs is a
// usage mistake.
func runArg(positional, flag string) (string, error) {
	if positional != "" && flag != "" && positional != flag {
		return "", usageErr(fmt.Errorf("RUN %q and --run %q name different runs: give one", positional, flag))
	}
	if positional != "" {
		return positional, nil
	}
	return flag, nil
}

// firstArg returns the first positional argument, or "".
func firstArg(pos []string) string {
	if len(pos) == 0 {
		return ""
	}
	return pos[0]
}
