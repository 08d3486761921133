package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

func TestEngine_BuildFeatures(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	run := mustKOISmallRun(t, e)
	ctx := context.Background()
	b, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != FeatureCreated || b.Rows != 12 || b.Source != (FeatureSource{Dataset: "koi", RunID: run.RunID}) {
		t.Errorf("build = %s, %d rows, source %+v", b.Status, b.Rows, b.Source)
	}
	dir := filepath.Join(e.FeatureStore(), "v1")
	if b.Path != dir {
		t.Errorf("path = %s, want %s", b.Path, dir)
	}
	if st, err := os.Stat(dir); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o755 {
		t.Errorf("version folder mode = %v, want 0755 like the store", st.Mode().Perm())
	}
	// The manifest on disk is the Contracts' shape.
	raw, err := os.ReadFile(filepath.Join(dir, FeaturesManifest))
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "spec_hash", "content_hash", "source", "rows", "columns", "stats", "created_at"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("manifest.json has no %q", k)
		}
	}
	// Keys and the label column are kept and marked; nothing leaky is a
	// feature; every feature is a finite DOUBLE or NULL.
	roles := map[string]string{}
	for _, c := range b.Columns {
		roles[c.Name] = c.Role
		if c.Role == RoleFeature && (spec.IsLeaky(c.Name) || c.Type != "DOUBLE") {
			t.Errorf("feature column %s %s", c.Name, c.Type)
		}
	}
	want := map[string]string{"row_id": RoleID, "object_id": RoleID, "star_id": RoleID, "koi_disposition": RoleLabel,
		"koi_period": RoleFeature, "stellar_type_G": RoleFeature, "koi_impact_missing": RoleFeature, "multiplicity": RoleFeature}
	for name, role := range want {
		if roles[name] != role {
			t.Errorf("column %s has role %q, want %q", name, roles[name], role)
		}
	}
	if st := b.Stats["koi_period"]; st.Count != 12 || st.Median == nil || st.ImputeValue == nil || *st.ImputeValue != *st.Median {
		t.Errorf("koi_period stats = %+v", st)
	}
	// The view serves the file; the star with three KOIs has multiplicity 3.
	if n := mustQueryInt(t, e, `SELECT count(*) FROM features."v1" WHERE multiplicity = 3`); n != 3 {
		t.Errorf("%d rows with multiplicity 3, want the 3 KOIs of K00756", n)
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM features."v1" WHERE stellar_type_O + stellar_type_B + stellar_type_A +
		stellar_type_F + stellar_type_G + stellar_type_K + stellar_type_M = 1`); n != 12 {
		t.Errorf("%d rows with exactly one stellar type, want 12", n)
	}
	list, err := e.FeatureSets(ctx)
	if err != nil || len(list.Items) != 1 || list.Items[0].ContentHash != b.ContentHash {
		t.Errorf("FeatureSets = %+v, %v", list, err)
	}
	// The catalog describes a feature by what it holds: koi_period is
	// ln(1+P), not days, and the engineered features are not "source
	// columns".
	for col, want := range map[string]string{
		"koi_period":         "[input in days]; missing values imputed with the median; stored as sign(x)·ln(1+|x|)",
		"koi_steff":          "stored standardized",
		"depth_consistency":  "ln(measured depth / depth from radii)",
		"koi_impact_missing": "1 where the input of koi_impact was missing",
		"stellar_type_G":     "1 when stellar_type is G, else 0",
	} {
		var desc string
		var unit sql.NullString
		if err := e.db.QueryRowContext(ctx, `SELECT description, unit FROM catalog.columns WHERE schema_name = 'features' AND table_name = 'v1' AND column_name = ?`, col).Scan(&desc, &unit); err != nil {
			t.Fatalf("catalog.columns %s: %v", col, err)
		}
		if !strings.Contains(desc, want) || unit.Valid {
			t.Errorf("features.v1.%s: description %q, unit %v; want one containing %q and no unit", col, desc, unit, want)
		}
	}
	// The KOI table has no metallicity column: the build says that
	// koi_smet carries nothing, and names no feature that has values.
	if len(b.Warnings) != 1 || !strings.HasPrefix(b.Warnings[0], "koi_smet has no value in any of the 12 rows") {
		t.Errorf("warnings = %q, want one for koi_smet", b.Warnings)
	}
	// Versions that differ only in case would share the view features.v1;
	// "meta" is the prototype's route.
	for _, v := range []string{"V1", "Meta"} {
		_, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: v})
		if want := map[string]Code{"V1": Conflict, "Meta": BadRequest}[v]; ErrorCode(err) != want {
			t.Errorf("BuildFeatures(%s) = %v, want %s", v, err, want)
		}
		if _, serr := os.Stat(filepath.Join(e.FeatureStore(), v)); serr == nil {
			t.Errorf("a refused build left the folder %s", v)
		}
	}
}

// TestEngine_BuildFeatures_reproducible: the same spec on the same data
// gives the same content hash, across versions and across runs; versions
// are immutable.
func TestEngine_BuildFeatures_reproducible(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	run1 := mustKOISmallRun(t, e)
	ctx := context.Background()
	run2, err := e.Process(ctx, ProcessInput{Dataset: "koi"})
	if err != nil {
		t.Fatal(err)
	}
	// koi11 is the fixture without its last KOI: different content.
	data, err := os.ReadFile(koiSmall)
	if err != nil {
		t.Fatal(err)
	}
	short := strings.TrimRight(string(data), "\n")
	short = short[:strings.LastIndexByte(short, '\n')+1]
	MustIngest(t, e, IngestInput{Path: MustWriteFile(t, MustTempDir(t), "koi11.csv", []byte(short)), Name: "koi11"})
	run3, err := e.Process(ctx, ProcessInput{Dataset: "koi11"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1", Run: run1.RunID})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		in         FeatureBuildInput
		wantCode   Code
		wantStatus string
		sameHash   bool
	}{
		{"same run, new version", FeatureBuildInput{Version: "v2", Run: run1.RunID}, "", FeatureCreated, true},
		{"another run of the same data", FeatureBuildInput{Version: "v3", Run: run2.RunID}, "", FeatureCreated, true},
		{"rebuild v1: no-op", FeatureBuildInput{Version: "v1", Run: run2.RunID}, "", FeatureUnchanged, true},
		{"different content for v1", FeatureBuildInput{Version: "v1", Run: run3.RunID}, Conflict, "", false},
		{"different data, new version", FeatureBuildInput{Version: "koi11-1.0", Run: run3.RunID}, "", FeatureCreated, false},
		{"unsafe version", FeatureBuildInput{Version: "../v1"}, BadRequest, "", false},
		{"hidden version", FeatureBuildInput{Version: ".v1"}, BadRequest, "", false},
		{"unknown run", FeatureBuildInput{Version: "v9", Run: "nope"}, NotFound, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := e.BuildFeatures(ctx, tc.in)
			if got := ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.wantCode)
			}
			if err != nil {
				return
			}
			if b.Status != tc.wantStatus {
				t.Errorf("status = %s, want %s", b.Status, tc.wantStatus)
			}
			if got := b.ContentHash == first.ContentHash; got != tc.sameHash {
				t.Errorf("hash %s vs first %s: same = %v, want %v", b.ContentHash, first.ContentHash, got, tc.sameHash)
			}
			if b.SpecHash != first.SpecHash {
				t.Errorf("spec hash changed: %s vs %s", b.SpecHash, first.SpecHash)
			}
		})
	}
	// The conflicting build left v1 as it was, and nothing half-written.
	m, err := e.FeatureSet(ctx, "v1")
	if err != nil || m.ContentHash != first.ContentHash || m.Source.RunID != run1.RunID {
		t.Errorf("v1 after the conflict = %+v, %v", m, err)
	}
	mustNoBuildDirs(t, e.FeatureStore())
}

// mustNoBuildDirs fails when the feature store holds a build in progress.
func mustNoBuildDirs(t *testing.T, store string) {
	t.Helper()
	entries, _ := os.ReadDir(store)
	for _, d := range entries {
		if strings.HasPrefix(d.Name(), featureBuildPrefix) {
			t.Errorf("leftover build folder %s", d.Name())
		}
	}
}

// featureKillEnv makes the test binary the helper process of
// TestEngine_BuildFeatures_killed.
const featureKillEnv = "EXOHUNTER_TEST_FEATURE_KILL_DIR"

// TestEngine_BuildFeatures_killed kills a real process with SIGKILL after
// it wrote a complete Parquet file and manifest but before it renamed the
// version into place, then reopens the database: no version is visible,
// the build folder is gone, and the same build then succeeds.
func TestEngine_BuildFeatures_killed(t *testing.T) {
	if dir := os.Getenv(featureKillEnv); dir != "" {
		featureKillHelper(t, dir)
		return
	}
	t.Parallel()
	dir := MustTempDir(t)
	opts := onDiskUnder(dir)
	e := MustOpenEngine(t, opts)
	mustKOISmallRun(t, e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEngine_BuildFeatures_killed$", "-test.count=1")
	cmd.Env = append(os.Environ(), featureKillEnv+"="+dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(dir, "written")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the helper never reached the written step")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	builds, _ := filepath.Glob(filepath.Join(dir, "fs", featureBuildPrefix+"*"))
	if len(builds) != 1 {
		t.Fatalf("before reopening, want the dead build's folder, got %v", builds)
	}
	e = MustOpenEngine(t, opts)
	mustNoBuildDirs(t, e.FeatureStore())
	if _, err := os.Stat(filepath.Join(dir, "fs", "v1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("version folder after the kill: %v", err)
	}
	if _, err := e.FeatureSet(context.Background(), "v1"); ErrorCode(err) != NotFound {
		t.Errorf("FeatureSet(v1) after the kill = %v, want NotFound", err)
	}
	b, err := e.BuildFeatures(context.Background(), FeatureBuildInput{Version: "v1"})
	if err != nil || b.Status != FeatureCreated {
		t.Fatalf("build after the kill = %v, %v", b, err)
	}
}

// featureKillHelper builds v1 and blocks after the written step, for the
// parent to kill.
func featureKillHelper(t *testing.T, dir string) {
	e, err := Open(context.Background(), Options{DBPath: filepath.Join(dir, "db.duckdb"), DataDir: filepath.Join(dir, "data"),
		FeatureStore: filepath.Join(dir, "fs"), Config: os.DirFS(repoRoot), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	featureBuildHook = func(step string) {
		if step == "written" {
			if err := os.WriteFile(filepath.Join(dir, "written"), nil, 0o644); err != nil {
				t.Error(err)
			}
			select {} // wait for SIGKILL
		}
	}
	_, err = e.BuildFeatures(context.Background(), FeatureBuildInput{Version: "v1"})
	t.Fatalf("the build returned (%v) instead of waiting to be killed", err)
}

// TestEngine_syncFeatureStore: at Open, versions on disk are registered
// even when the process died between the rename and the registration, and
// versions whose folder is gone are forgotten.
func TestEngine_syncFeatureStore(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	opts := onDiskUnder(dir)
	e := MustOpenEngine(t, opts)
	mustKOISmallRun(t, e)
	ctx := context.Background()
	for _, v := range []string{"keep", "gone"} {
		if _, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.db.ExecContext(ctx, `DELETE FROM meta.feature_sets WHERE version = 'keep'; DROP VIEW features."keep"`); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "fs", "gone")); err != nil {
		t.Fatal(err)
	}
	e = MustOpenEngine(t, opts)
	list, err := e.FeatureSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range list.Items {
		got = append(got, m.Version)
	}
	if diff := cmp.Diff([]string{"keep"}, got); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM features."keep"`); n != 12 {
		t.Errorf("features.keep has %d rows, want 12", n)
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM duckdb_views() WHERE schema_name = 'features' AND view_name = 'gone'`); n != 0 {
		t.Error("the view of a removed version survived")
	}
}

// TestEngine_syncFeatureStore_caseClash: a store written before versions
// were compared without case may hold v1 and V1, which share one console
// view; every start registers the same one of them.
func TestEngine_syncFeatureStore_caseClash(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	opts := onDiskUnder(dir)
	e := MustOpenEngine(t, opts)
	mustKOISmallRun(t, e)
	ctx := context.Background()
	b, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// V1: five of v1's rows, its manifest renamed.
	upper := filepath.Join(dir, "fs", "V1")
	if err := os.Mkdir(upper, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`COPY (FROM read_parquet(` + litPath(filepath.Join(b.Path, FeaturesParquet)) + `) LIMIT 5) TO ` +
		litPath(filepath.Join(upper, FeaturesParquet)) + ` (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	m := *b.FeatureManifest
	m.Version, m.Rows = "V1", 5
	raw, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(upper, FeaturesManifest), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		e = MustOpenEngine(t, opts)
		// note: "V1" sorts before "v1": its rows are the view's at every
		// start, v1's folder is left alone.
		n := mustQueryInt(t, e, `SELECT count(*) FROM features.v1`)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Errorf("features.v1 has %d rows, want V1's 5", n)
		}
	}
	if _, err := os.Stat(filepath.Join(b.Path, FeaturesParquet)); err != nil {
		t.Errorf("v1's files: %v", err)
	}
}

func TestEngine_FeaturePage(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	mustKOISmallRun(t, e)
	ctx := context.Background()
	if _, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		q         FeatureQuery
		wantCode  Code
		wantIDs   []string
		wantTotal int64
		wantCols  []string
	}{
		{"first page", FeatureQuery{Version: "v1", PageSize: 2}, "", []string{"K00001.01", "K00002.01"}, 12, nil},
		{"second page", FeatureQuery{Version: "v1", PageSize: 2, Page: 2}, "", []string{"K00114.01", "K00752.01"}, 12, nil},
		{"search", FeatureQuery{Version: "v1", Q: "k00756"}, "", []string{"K00756.01", "K00756.02", "K00756.03"}, 3, nil},
		{"projection", FeatureQuery{Version: "v1", Q: "K00001", Columns: []string{"koi_prad"}}, "", []string{"K00001.01"}, 1,
			[]string{"row_id", "object_id", "star_id", "koi_prad"}},
		{"unknown column", FeatureQuery{Version: "v1", Columns: []string{"koi_score"}}, BadRequest, nil, 0, nil},
		{"page size", FeatureQuery{Version: "v1", PageSize: 5000}, BadRequest, nil, 0, nil},
		{"unknown version", FeatureQuery{Version: "v9"}, NotFound, nil, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.FeaturePage(ctx, tc.q)
			if got := ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.wantCode)
			}
			if err != nil {
				return
			}
			var ids, cols []string
			for _, r := range p.Rows {
				v, _ := r.Get("object_id")
				ids = append(ids, v.(string))
			}
			for _, c := range p.Columns {
				cols = append(cols, c.Name)
			}
			if diff := cmp.Diff(tc.wantIDs, ids); diff != "" || p.Total != tc.wantTotal {
				t.Errorf("total %d (want %d), ids (-want +got):\n%s", p.Total, tc.wantTotal, diff)
			}
			if tc.wantCols != nil && !slices.Equal(tc.wantCols, cols) {
				t.Errorf("columns = %v, want %v", cols, tc.wantCols)
			}
		})
	}
	o, err := e.FeatureRow(ctx, "v1", "K00752.01")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := o.Row.Get("koi_disposition"); v != "CONFIRMED" {
		t.Errorf("K00752.01 koi_disposition = %v", v)
	}
	if _, err := e.FeatureRow(ctx, "v1", "K99999.01"); ErrorCode(err) != NotFound {
		t.Errorf("unknown object = %v, want NotFound", err)
	}
	for _, f := range []ExportFormat{Parquet, CSV} {
		x, err := e.OpenFeatureExport(ctx, "v1", f)
		if err != nil {
			t.Fatal(err)
		}
		if x.Size == 0 || x.Name != "features-v1."+string(f) {
			t.Errorf("%s export: %s, %d bytes", f, x.Name, x.Size)
		}
		x.Close()
	}
}

// TestEngine_BuildFeatures_runDeleted: a dataset deleted while a feature
// set is being built from its run answers NotFound with a sentence, not
// an internal error. Not parallel: it sets the package's build hook.
func TestEngine_BuildFeatures_runDeleted(t *testing.T) {
	e := MustOpenEngine(t)
	mustKOISmallRun(t, e)
	ctx := context.Background()
	featureBuildHook = func(step string) {
		if step == "started" {
			if err := e.DeleteDataset(ctx, "koi"); err != nil {
				t.Errorf("delete: %v", err)
			}
		}
	}
	defer func() { featureBuildHook = nil }()
	_, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1", Dataset: "koi"})
	if ErrorCode(err) != NotFound || !strings.Contains(ErrorMessage(err), "was deleted (with its dataset) while feature set v1") {
		t.Errorf("got %s %q, want NotFound saying the run was deleted", ErrorCode(err), ErrorMessage(err))
	}
}

// TestEngine_syncFeatureStore_otherStore: opening the database with
// another feature store (the default ./feature_store of a command run from
// another directory) keeps the versions whose folders still exist in the
// store they were built in, and forgets them once those folders are gone.
func TestEngine_syncFeatureStore_otherStore(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	store := func(fs string) func(*Options) {
		return func(o *Options) {
			o.DBPath, o.DataDir, o.FeatureStore = filepath.Join(dir, "db.duckdb"), filepath.Join(dir, "data"), filepath.Join(dir, fs)
		}
	}
	e := MustOpenEngine(t, store("fs-a"))
	mustKOISmallRun(t, e)
	if _, err := e.BuildFeatures(context.Background(), FeatureBuildInput{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = MustOpenEngine(t, store("fs-b"))
	if n := mustQueryInt(t, e, `SELECT count(*) FROM features.v1`); n == 0 {
		t.Error("feature set v1 was forgotten by an engine opened with another store")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// Served (DuckDB locked to fs-b), the set in fs-a cannot be read: a 409
	// that names the store to serve with, not DuckDB's permission error.
	e = MustOpenEngine(t, store("fs-b"), func(o *Options) { o.Lock = true })
	_, err := e.DetectAnomalies(context.Background(), AnomalyInput{Features: "v1"})
	if ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), "start the server with --feature-store "+filepath.Join(dir, "fs-a")) {
		t.Errorf("a served feature set outside the store: %s %v", ErrorCode(err), err)
	}
	// Its manifest is in the database, so it still reads; with no set
	// named, detection builds the run one in its own store.
	if m, err := e.FeatureSet(context.Background(), "v1"); err != nil || m.Version != "v1" {
		t.Errorf("manifest of v1 from serve: %+v, %v", m, err)
	}
	res, err := e.DetectAnomalies(context.Background(), AnomalyInput{})
	if err != nil || !strings.HasPrefix(res.Features, "auto-") {
		t.Errorf("detection without a named set in serve: %+v, %v", res, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "fs-a")); err != nil {
		t.Fatal(err)
	}
	e = MustOpenEngine(t, store("fs-b"))
	if n := mustQueryInt(t, e, `SELECT count(*) FROM meta.feature_sets WHERE version = 'v1'`); n != 0 {
		t.Error("feature set v1 is still registered after its folder was removed")
	}
}

// TestEngine_BuildFeatures_hugeValues: a 1e308 placeholder overflowed the
// standard deviation ("STDDEV_SAMP is out of range!", a 500); such
// magnitudes now count as missing, like NaN and Inf.
func TestEngine_BuildFeatures_hugeValues(t *testing.T) {
	// note: K5.01's duration of 1e308 underflowed density_consistency's
	// ratio to 0 before its ln ("cannot take logarithm of zero").
	e, run := mustProcessCSV(t, "kepoi_name,koi_period,koi_prad,koi_steff,koi_srad,koi_duration,koi_impact,koi_slogg\n"+
		"K1.01,10,1.5,5700,1.0,3,0.3,4.4\nK2.01,1e308,2.0,5800,1.1,3,0.3,4.4\nK3.01,20,-1e308,5900,0.9,3,0.3,4.4\nK4.01,30,3.0,6000,1.2,3,0.3,4.4\n"+
		"K5.01,10,2,5500,1,1e308,0.3,4.4\nK6.01,1e-120,2,5500,1,3,0.3,4.4\n")
	b, err := e.BuildFeatures(context.Background(), FeatureBuildInput{Version: "huge", Run: run.RunID})
	if err != nil {
		t.Fatalf("build: %s %v", ErrorCode(err), err)
	}
	for col, want := range map[string]int64{"koi_period": 5, "koi_prad": 5, "koi_steff": 6} {
		if st, ok := b.Stats[col]; !ok || st.Count != want {
			t.Errorf("%s: count %d, want %d (stats %+v)", col, st.Count, want, st)
		}
	}
}

// TestEngine_featureStats_medianBatches: the statistics are the same when
// the medians are taken one feature per query (a run as large as 10M rows
// takes them three at a time) as in the one query of a small run.
func TestEngine_featureStats_medianBatches(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	run := mustKOIRun(t, e, mustKOISubset(t, 20))
	ctx := context.Background()
	fs := e.bundle.FeaturesConfig()
	in := sqltmpl.FeatureInput{RunPath: e.abs(run.Path), Spec: fs}
	one, _, err := e.featureStats(ctx, in, fs, run)
	if err != nil {
		t.Fatal(err)
	}
	if b := medianBatches(fs.All(), run.Rows, medianBudget); len(b) != 1 {
		t.Fatalf("a %d-row run takes its medians in %d queries, want 1", run.Rows, len(b))
	}
	huge := *run
	huge.Rows = medianBudget // 8 bytes a row: every median alone
	if b := medianBatches(fs.All(), huge.Rows, medianBudget); len(b) != len(fs.All()) {
		t.Fatalf("%d batches for %d features", len(b), len(fs.All()))
	}
	if b := medianBatches(fs.All(), 10_000_000, medianBudget); len(b[0]) != 3 {
		t.Errorf("10M rows: %d medians a query, want 3", len(b[0]))
	}
	each, _, err := e.featureStats(ctx, in, fs, &huge)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(one, each); diff != "" {
		t.Errorf("stats differ (-one query +one per median):\n%s", diff)
	}
	medians := 0
	for _, st := range one {
		if st.Median != nil {
			medians++
		}
	}
	if medians < len(one)/2 {
		t.Errorf("only %d of %d features have a median", medians, len(one))
	}
}

// onDiskUnder keeps an engine's database, data dir and feature store under
// dir, so that a test can close it and open it again.
func onDiskUnder(dir string) func(*Options) {
	return func(o *Options) {
		o.DBPath, o.DataDir, o.FeatureStore = filepath.Join(dir, "db.duckdb"), filepath.Join(dir, "data"), filepath.Join(dir, "fs")
	}
}
