package sqltmpl

import (
	"fmt"
	"math"
	"slices"

	"github.com/exohunter/exohunter/engine/spec"
)

// FeatureParams are the numbers a numeric feature's output needs, taken
// from the build's statistics: the imputation value (nil: keep NULL) and,
// for standardize, the mean and standard deviation.
type FeatureParams struct {
	Impute *float64
	Mean   float64
	Std    float64
}

// FeatureInput is one feature build over a run.
type FeatureInput struct {
	RunPath string
	Spec    *spec.Features
	// Params holds each numeric feature's numbers (FeatureCopy only).
	Params map[string]FeatureParams
	// Path is the Parquet file FeatureCopy writes.
	Path string
	// Medians limits the medians FeatureStats computes to these features
	// (nil: all); the others come from FeatureMedians.
	Medians []string
}

// featureData is the template data shared by the stats and copy queries.
func featureData(in FeatureInput) (map[string]any, error) {
	if in.Spec == nil {
		return nil, fmt.Errorf("features: no spec")
	}
	var num, cat []map[string]any
	for _, f := range in.Spec.All() {
		if f.Expr == nil {
			return nil, fmt.Errorf("features: %s has no expression", f.Name)
		}
		// note: Ordered sums a feature's values in value order where its
		// mean or std becomes content (standardize, impute mean). A
		// parallel sum's last digits depend on how the threads split the
		// rows, and rounding the statistic to 12 digits still flips at a
		// boundary now and then: the same run gave two content hashes.
		ordered := f.Transform == "standardize" || f.Impute == "mean"
		num = append(num, map[string]any{"Name": Ident(f.Name), "Expr": Expr(f.Expr.Text),
			"Median": in.Medians == nil || slices.Contains(in.Medians, f.Name), "Ordered": ordered})
	}
	for i := range in.Spec.Categorical {
		c := &in.Spec.Categorical[i]
		if c.Expr == nil {
			return nil, fmt.Errorf("features: %s has no expression", c.Name)
		}
		cat = append(cat, map[string]any{"Name": Ident(c.Name), "Expr": Expr(c.Expr.Text)})
	}
	return map[string]any{"RunPath": Lit(in.RunPath), "Numeric": num, "Categorical": cat, "Path": Lit(in.Path)}, nil
}

// FeatureStats renders the statistics query: one row with the row count,
// then for each numeric feature in spec order count, avg, stddev_samp,
// median, min and max of its input (NaN/Inf already NULL); the median is
// NULL for a feature not in in.Medians (when set).
func FeatureStats(in FeatureInput) (string, error) {
	data, err := featureData(in)
	if err != nil {
		return "", err
	}
	return exec("features_stats", data)
}

// FeatureMedians renders one row with the median of each named feature's
// input, in the order given. DuckDB's median keeps every value of its
// column in memory, outside the memory limit, so a large run's medians
// are taken a few columns at a time.
func FeatureMedians(in FeatureInput, names []string) (string, error) {
	data, err := featureData(in)
	if err != nil {
		return "", err
	}
	ids := make([]Ident, len(names))
	for i, n := range names {
		ids[i] = Ident(n)
	}
	data["MedianNames"] = ids
	return exec("features_medians", data)
}

// FeatureAllMissing renders the row_id of each row whose inputs to the
// named features are all missing before imputation (NULL, NaN, ±Inf or a
// placeholder magnitude, as the statistics count them): rows a reader of
// those features would otherwise see only as imputed values.
func FeatureAllMissing(in FeatureInput, names []string) (string, error) {
	if len(names) == 0 {
		return "", fmt.Errorf("features: no columns to check")
	}
	data, err := featureData(in)
	if err != nil {
		return "", err
	}
	ids := make([]Ident, len(names))
	for i, n := range names {
		ids[i] = Ident(n)
	}
	data["MissingNames"] = ids
	return exec("features_all_missing", data)
}

// FeatureCopy renders the COPY that writes the feature set: the key and
// label columns, then each feature imputed and transformed with Params,
// its missing indicator, and the one-hot columns, ordered by object_id and
// row_id.
func FeatureCopy(in FeatureInput) (string, error) {
	data, err := featureData(in)
	if err != nil {
		return "", err
	}
	var outs []fmt.Stringer
	for _, f := range in.Spec.All() {
		p, ok := in.Params[f.Name]
		if !ok {
			return "", fmt.Errorf("features: no statistics for %s", f.Name)
		}
		outs = append(outs, ExportColumn{Expr: featureOutput(f, p), Name: Ident(f.Name)})
		if f.MissingIndicator {
			ind := Expr("CAST(CASE WHEN " + Ident(f.Name).String() + " IS NULL THEN 1.0 ELSE 0.0 END AS DOUBLE)")
			outs = append(outs, ExportColumn{Expr: ind, Name: Ident(f.MissingName())})
		}
	}
	for i := range in.Spec.Categorical {
		c := &in.Spec.Categorical[i]
		for _, v := range c.Values {
			e := Expr("CAST(CASE WHEN " + Ident(c.Name).String() + " = " + Lit(v).String() + " THEN 1.0 ELSE 0.0 END AS DOUBLE)")
			outs = append(outs, ExportColumn{Expr: e, Name: Ident(c.OneHotName(v))})
		}
	}
	data["Outputs"] = outs
	return exec("features_copy", data)
}

// featureOutput composes impute, then transform, over the base column.
func featureOutput(f *spec.Feature, p FeatureParams) Expr {
	x := Ident(f.Name).String()
	if p.Impute != nil {
		x = "coalesce(" + x + ", " + Num(*p.Impute).String() + ")"
	}
	switch f.Transform {
	case spec.TransformLog1p:
		x = "sign(" + x + ") * ln(1 + abs(" + x + "))"
	case spec.TransformStandardize:
		std := p.Std
		if std == 0 || math.IsNaN(std) || math.IsInf(std, 0) {
			std = 1 // note: a constant column stays centred instead of dividing by 0
		}
		x = "(" + x + " - " + Num(p.Mean).String() + ") / " + Num(std).String()
	}
	return Expr("CAST(" + x + " AS DOUBLE)")
}

// FeatureHashChunk is how many rows one chunk digest of FeatureHash covers.
const FeatureHashChunk = 65536

// FeatureHash renders the content digest of a written feature set: the
// md5 of each row's text (column names and values) in object_id, row_id
// order, folded into one md5 per chunk of FeatureHashChunk rows. The caller
// hashes the chunk digests in order, so nothing unbounded reaches Go.
func FeatureHash(path string) (string, error) {
	return exec("features_hash", map[string]any{"Path": Lit(path), "Chunk": Num(FeatureHashChunk)})
}

// FeatureView renders features."V" over a version's Parquet file.
func FeatureView(version, path string) (string, error) {
	return exec("features_view", map[string]any{"View": Ident(version), "Path": Lit(path)})
}

// DropFeatureView renders the removal of features."V".
func DropFeatureView(version string) (string, error) {
	return exec("features_drop_view", map[string]any{"View": Ident(version)})
}
