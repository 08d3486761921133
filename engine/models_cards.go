package engine

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/exohunter/exohunter/engine/spec"
	"github.com/exohunter/exohunter/ml/metrics"
	"github.com/exohunter/exohunter/ml/supervised"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// The model card and the data card are generated from the facts of one
// training: nothing in them is typed by hand, so they cannot drift from
// metrics.json.

// mdTargetText says in words what a target predicts.
var mdTargetText = map[string]string{
	TargetConfirmedVsFP: "CONFIRMED (class 1) against FALSE POSITIVE (class 0); candidates are left out. This is the standard task in the literature.",
	TargetPlanetVsFP:    "a planet, CONFIRMED or CANDIDATE (class 1), against FALSE POSITIVE (class 0).",
	TargetDisposition:   "the 3-class disposition: CONFIRMED, CANDIDATE or FALSE POSITIVE (the most probable class is the prediction).",
}

// mdContextText describes the catalog-context features (sql/models.sql.tmpl).
var mdContextText = map[string]string{
	"ephem_match_score":          "Closest ephemeris match with a KOI of another star: max(|ΔP/P| / 1e-4, epoch offset / transit duration); below 1 is a match, a sign of contamination.",
	"ephem_match_score_harmonic": "The same at period ratios 2, 1/2, 3 and 1/3.",
	"ephem_match_depth_ratio":    "ln(depth of the best match / own depth): > 0 when the matching star shows the deeper signal, so this one is likely its copy.",
	"ephem_match_sep_arcsec":     "Sky separation of the best match, arcsec.",
	"ephem_matches":              "Number of KOIs of other stars that match within tolerance.",
	"tce_excess":                 "koi_tce_plnt_num minus the star's KOI count (0 where the TCE number is missing): > 0 when the pipeline found more transit-like events on the star than became KOIs. TCE numbering comes before any vetting; the KOI count, like multiplicity, comes after a TCE was made a KOI.",
}

// modelCard renders model_card.md.
func modelCard(m *ModelMetrics) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Model card: %s / %s\n\n", m.Model, m.Version)
	if m.Leaky {
		w("> **LEAKY VARIANT.** This model reads the Robovetter's outputs (%s). They are functions of the\n"+
			"> disposition, so its scores measure the size of the leak, not skill. Do not use it to vet objects.\n\n",
			strings.Join(leakyFeatureNames(), ", "))
	}
	w("Gradient-boosted trees (XGBoost %s, `%s`) trained by `exohunter train` on %s.\n\n",
		orDefault(m.XGBoostVersion, "?"), m.Params.Objective, m.CreatedAt.Format("2006-01-02 15:04:05 UTC"))
	w("## Task\n\nTarget `%s`: %s\n\n", m.Target, mdTargetText[m.Target])
	w("## Data\n\n")
	w("- Source: dataset `%s`, run `%s`, feature set `%s` (content hash `%s`).\n", m.Source.Dataset, m.Source.RunID,
		m.FeatureSet.Version, shortHash(m.FeatureSet.ContentHash))
	w("- Rows: %d labeled rows after the filters (%s).\n", m.Rows, mdCounts(m.Classes, m.ClassCounts))
	w("- Labels: %s. Human labels override NASA's where they exist.\n", mdLabelSources(m.LabelSources))
	w("- Filters: %s.\n", mdFilters(m.Splits))
	w("- Details: `%s`.\n\n", ModelDataCardFile)
	w("## Features\n\n%d columns, listed in `%s` (`features`). The ten with the largest share of the total gain:\n\n", len(m.Features), ModelMetricsFile)
	w("| feature | gain share |\n|---|---|\n")
	for _, imp := range m.Importance[:min(10, len(m.Importance))] {
		w("| `%s` | %s |\n", imp.Feature, mdPct(imp.Share))
	}
	w("\n## Splits\n\n")
	s := m.Splits
	w("Grouped by `%s` (the planets of one star are never on both sides), %s, seed %d:\n\n", s.GroupBy, mdStratified(s.Stratify), s.Seed)
	w("- %d-fold cross-validation over all %d rows; the out-of-fold predictions are `%s`;\n", s.CV.Folds, m.Rows, ModelOOFFile)
	w("- a separate holdout, %.0f/%.0f/%.0f: %d train, %d valid (early stopping after %d rounds without improvement: %d trees kept), %d test.\n",
		100*s.Holdout.Train, 100*s.Holdout.Valid, 100*s.Holdout.Test, m.Holdout.TrainRows, m.Holdout.ValidRows,
		m.Params.EarlyStoppingRounds, m.Holdout.Rounds, m.Holdout.TestRows)
	w("The holdout's figures describe its own early-stopped model of %d trees, not the %d-round model the folds and the final fit use; its test part is one draw of %.0f %% of the stars, so its figures move with the seed more than the cross-validation mean does.\n\n",
		m.Holdout.Rounds, m.Params.NumBoostRound, 100*s.Holdout.Test)
	w("## Metrics\n\n")
	if m.Threshold > 0 {
		w("Accuracy, macro F1 and the confusion matrix at p ≥ %g; ROC AUC and PR AUC (average precision) of the positive class.\n\n", m.Threshold)
	} else {
		w("Accuracy, macro F1 and the confusion matrix of the most probable class; ROC AUC and PR AUC are macro one-vs-rest.\n\n")
	}
	w("| evaluation | rows | accuracy | macro F1 | ROC AUC | PR AUC |\n|---|---|---|---|---|---|\n")
	w("| %d-fold CV, mean ± std | %d | %s ± %s | %s ± %s | %s ± %s | %s ± %s |\n", m.CV.Folds, m.Rows,
		mdF4(m.CV.Accuracy.Mean), mdF4(m.CV.Accuracy.Std), mdF4(m.CV.MacroF1.Mean), mdF4(m.CV.MacroF1.Std),
		mdF4(m.CV.ROCAUC.Mean), mdF4(m.CV.ROCAUC.Std), mdF4(m.CV.PRAUC.Mean), mdF4(m.CV.PRAUC.Std))
	for _, r := range []struct {
		name string
		rep  metrics.Report
	}{{"out-of-fold, pooled", m.OOF}, {"holdout valid", m.Holdout.Valid}, {"holdout test", m.Holdout.Test}} {
		w("| %s | %d | %s | %s | %s | %s |\n", r.name, r.rep.Rows, mdF4(r.rep.Accuracy), mdF4(r.rep.MacroF1), mdF4(r.rep.ROCAUC), mdF4(r.rep.PRAUC))
	}
	w("\nOut-of-fold confusion matrix (rows: true class, columns: predicted):\n\n")
	mdConfusion(&b, m.Classes, m.OOF)
	if len(m.Calibration) > 0 {
		w("\nCalibration of the out-of-fold probabilities:\n\n| p | rows | mean predicted | fraction positive |\n|---|---|---|---|\n")
		for _, c := range m.Calibration {
			if c.Count > 0 {
				w("| %.1f–%.1f | %d | %s | %s |\n", c.Lo, c.Hi, c.Count, mdF4(c.MeanPredicted), mdF4(c.FractionPositive))
			}
		}
	}
	w("\n## Training\n\n")
	p := m.Params
	w("%d rounds at eta %g, max depth %d, subsample %g, colsample_bytree %g, min_child_weight %g, lambda %g, %s, %d threads, seed %d; %.1f s for all folds, the holdout and the final model (fitted on every row, the one `exohunter score` applies).\n",
		p.NumBoostRound, p.Eta, p.MaxDepth, p.Subsample, p.ColsampleByTree, p.MinChildWeight, p.Lambda, p.TreeMethod, p.NThread, p.Seed, m.Seconds)
	w("The same data, configuration, seed and thread count give the same numbers.\n\n")
	w("## Intended use and limitations\n\n")
	w("- It ranks objects for follow-up and for the labeling queue (`p_model`, the probability of a planet); it is not a vetting verdict. `exohunter score` gives the %d objects it was trained on their out-of-fold probability (`%s`), since the final model has seen their labels.\n", m.Rows, ModelOOFFile)
	w("- It sees catalog columns only, no light curves or centroids: the Robovetter's best evidence (centroid offsets, secondary eclipses, odd/even depths) is out of its reach.\n")
	w("- The catalog's uncertainties carry its history as well as its physics: hosts of confirmed planets were observed spectroscopically more often, so their stellar errors are smaller (%s by gain). That is leak-free by the rule above (no vetting output), but it is survey bias, not evidence about the signal.\n", mdRanks(m.Importance, len(m.Features), "rel_err_steff", "koi_steff_err1", "koi_steff_err2"))

	w("- CANDIDATE is not a class of nature but an unfinished review; `planet_vs_fp` counts candidates as planets, so some of its \"errors\" are candidates that will become false positives.\n")
	w("- Catalog-context features (ephemeris matches, TCE excess) compare an object with the rest of its catalog, so a run is scored against its own catalog.\n")
	if m.Ephemeris != nil && !m.Ephemeris.Computed {
		w("- %s\n", m.Ephemeris.skippedNote())
	}
	w("- Tables of other missions lack some KOI columns (errors, TCE numbers); those features are missing there and the model was not validated on them.\n\n")
	w("## Leakage\n\n")
	banned := strings.Join(slices.DeleteFunc(slices.Clone(spec.LeakyColumns), func(c string) bool { return c == "label" || c == "labels" }), ", ")
	if m.Leaky {
		w("This variant reads the Robovetter's outputs on purpose (%s); compare it with the leak-free model of the same target to see the gap. ",
			strings.Join(leakyFeatureNames(), ", "))
		w("Its other features are the leak-free model's: none reads the disposition or a run's classification (category, tags, score, disposition_compare). ")
	} else {
		w("No feature reads the disposition, the Robovetter's outputs (%s, koi_fpflag_*) or a run's classification (category, tags, score, disposition_compare). ", banned)
	}
	w("On the KOI table, any fpflag alone reproduces the disposition 98.8%% of the time and koi_pdisposition 99.9%%, which is why published 98–99%% accuracies on this table are leakage. ")
	if !m.Leaky {
		w("`exohunter train --leaky` trains the variant that reads them, to show the gap. ")
	}
	w("The trees also learn where missing values go, and a catalog column's missing values can carry the pipeline's history: on the KOI table, 449 of the 454 objects without MCMC uncertainties (`koi_period_err1` and the rest empty) are not confirmed, so the error columns pass some of that on. `tce_excess` is 0, not missing, where the TCE number is missing, because that happens exactly where `koi_tce_delivname`, a banned column, is empty.\n")
	return b.String()
}

// mdConfusion writes a confusion matrix with per-class precision and
// recall.
func mdConfusion(b *strings.Builder, classes []string, r metrics.Report) {
	b.WriteString("| true \\ predicted |")
	for _, c := range classes {
		b.WriteString(" " + c + " |")
	}
	b.WriteString(" recall |\n|---|")
	b.WriteString(strings.Repeat("---|", len(classes)+1) + "\n")
	for i, row := range r.Confusion {
		b.WriteString("| " + classes[i] + " |")
		for _, n := range row {
			fmt.Fprintf(b, " %d |", n)
		}
		fmt.Fprintf(b, " %s |\n", mdF4(r.Recall[i]))
	}
	b.WriteString("| precision |")
	for i := range classes {
		fmt.Fprintf(b, " %s |", mdF4(r.Precision[i]))
	}
	b.WriteString(" |\n")
}

// dataCard renders data_card.md: where the training rows came from and
// what each feature column holds.
func dataCard(m *ModelMetrics, mx *matrix, fm *FeatureManifest) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Data card: training data of %s / %s\n\n", m.Model, m.Version)
	w("## Provenance\n\n")
	w("- Dataset `%s`, run `%s` (every input row of the catalog file, canonical KOI columns, derived metrics).\n", m.Source.Dataset, m.Source.RunID)
	w("- Feature set `%s`: %d rows (one per object: the run's default rows), built from `%s` (spec hash `%s`).\n",
		fm.Version, fm.Rows, spec.FeaturesFile, shortHash(fm.SpecHash))
	w("- Rows kept: %d, those whose label is one of %s and that pass the filters of `%s` (%s).\n",
		m.Rows, strings.Join(m.Classes, ", "), spec.SplitsFile, mdFilters(m.Splits))
	w("- Classes: %s.\n", mdCounts(m.Classes, m.ClassCounts))
	w("- Label sources: %s. A human label (not rejected in review) overrides NASA's; NASA's comes from `labels.labels` (source nasa) or, when not imported, the catalog's `koi_disposition`.\n\n",
		mdLabelSources(m.LabelSources))
	w("## Columns\n\n%d feature columns, in model order. Missing values stay missing (XGBoost learns where they go), except where the feature set imputes them.\n\n", len(m.Features))
	w("| column | origin | missing in the feature set, before imputation | missing in training rows | description |\n|---|---|---|---|---|\n")
	missing := matrixMissing(mx)
	desc := mdFeatureDescriptions(fm)
	for j, f := range m.Features {
		origin, d := "feature set "+fm.Version, desc[f]
		switch {
		case mdContextText[f] != "":
			origin, d = "catalog context", mdContextText[f]
		case slices.Contains(sqltmpl.ContextErrors, f):
			origin, d = "catalog uncertainty", "The catalog's "+f+" (err1: + side, err2: − side, stored negative)."
		case slices.Contains(leakyFeatureNames(), f):
			origin, d = "**Robovetter (leaky)**", "An output of NASA's vetting: a function of the disposition."
		}
		before := "–"
		if st, ok := fm.Stats[f]; ok {
			before = fmt.Sprintf("%d of %d", st.Missing, fm.Rows)
		}
		w("| `%s` | %s | %s | %d | %s |\n", f, origin, before, missing[j], strings.ReplaceAll(d, "|", "\\|"))
	}
	w("\n## Not used\n\nIdentifiers (row_id, object_id, star_id) and the label are not features. %s\n", mdLeakSentence(m.Leaky))
	return b.String()
}

// mdLeakSentence says which leaky columns were left out or added.
func mdLeakSentence(leaky bool) string {
	if leaky {
		return "The Robovetter columns marked leaky were added on purpose (the leaky variant)."
	}
	return "The disposition's sources and a run's classification never enter: " + strings.Join(spec.LeakyColumns, ", ") + ", and every koi_fpflag_* column."
}

// mdFeatureDescriptions maps feature-set columns to their spec descriptions.
func mdFeatureDescriptions(fm *FeatureManifest) map[string]string {
	out := map[string]string{}
	if fm.Spec == nil {
		return out
	}
	for _, f := range fm.Spec.All() {
		d := f.Description
		if d == "" {
			d = "The run's " + f.Name + "."
		}
		if f.Unit != "" {
			d += " [" + f.Unit + "]"
		}
		if f.Transform != "" && f.Transform != spec.TransformNone {
			d += " Transform: " + f.Transform + "."
		}
		out[f.Name] = d
		if f.MissingIndicator {
			out[f.MissingName()] = "1 where " + f.Name + " was missing (before imputation)."
		}
	}
	for _, c := range fm.Spec.Categorical {
		for _, v := range c.Values {
			out[c.OneHotName(v)] = "1 when " + c.Name + " is " + v + ". " + c.Description
		}
	}
	return out
}

// matrixMissing counts NaN per column of the matrix.
func matrixMissing(mx *matrix) []int {
	x := mx.data.X
	out := make([]int, x.Cols)
	for i, v := range x.Data {
		if math.IsNaN(float64(v)) {
			out[i%x.Cols]++
		}
	}
	return out
}

// leakyFeatureNames lists the leaky variant's extra columns.
func leakyFeatureNames() []string {
	out := make([]string, len(sqltmpl.LeakyFeatures))
	for i, l := range sqltmpl.LeakyFeatures {
		out[i] = l.Name
	}
	return out
}

func mdCounts(classes []string, counts map[string]int) string {
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = fmt.Sprintf("%s %d", c, counts[c])
	}
	return strings.Join(parts, ", ")
}

func mdLabelSources(src map[string]int) string {
	var parts []string
	for _, k := range []string{"human", "nasa", "catalog"} {
		if n := src[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func mdFilters(s *spec.Splits) string {
	if len(s.Filters) == 0 {
		return "none"
	}
	parts := make([]string, len(s.Filters))
	for i, f := range s.Filters {
		parts[i] = fmt.Sprintf("%s present and in [%g, %g]%s", f.Column, f.Min, f.Max, mdUnit(f.Unit))
	}
	return strings.Join(parts, "; ")
}

func mdUnit(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

func mdStratified(on bool) string {
	if on {
		return "stratified by class"
	}
	return "not stratified"
}

// shortHash abbreviates a hash.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// mdRanks says where each named feature ranks by gain among total, e.g.
// "`rel_err_steff` 1st, `koi_steff_err1` 12th of 66"; a feature no tree
// split on is "unused".
func mdRanks(imp []supervised.Importance, total int, names ...string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		r := slices.IndexFunc(imp, func(x supervised.Importance) bool { return x.Feature == n && x.Gain > 0 })
		if r < 0 {
			parts[i] = "`" + n + "` unused"
		} else {
			parts[i] = "`" + n + "` " + ordinal(r+1)
		}
	}
	return strings.Join(parts, ", ") + " of " + strconv.Itoa(total)
}

// ordinal writes 1st, 2nd, 3rd, 4th, 11th, 21st...
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}
