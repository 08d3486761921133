package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The synthetic catalog: the real KOI table replicated to n rows. Row g is
// source row g mod m (m = 9,563 KOIs) of replica k = g div m; replica 0 is
// the real table, byte for byte in value, and the others jitter each
// measured quantity by up to ±1% (a deterministic hash of g and the
// column, so a file regenerates identically) and renumber the ids:
// kepid + k·10^8 and K<k·10^5 + KOI number>.<planet>, so that object ids are
// unique, multi-planet systems stay together and every distribution
// (dispositions, radii, periods, missing cells) is the real one.

// jittered are the measured KOI columns that get a ±1% jitter; errors,
// flags, scores and dispositions are copied unchanged.
var jittered = []string{
	"koi_period", "koi_time0bk", "koi_impact", "koi_duration", "koi_depth", "koi_prad", "koi_teq",
	"koi_insol", "koi_model_snr", "koi_steff", "koi_slogg", "koi_srad", "ra", "dec", "koi_kepmag",
}

// genSQL renders the COPY that writes n synthetic rows from the KOI file
// src to dst (CSV with a header).
// m is the row count of src: the join key must be a constant expression so
// that DuckDB hashes the 9,563 source rows instead of a nested loop.
func genSQL(src, dst string, n, m int64) string {
	var repl []string
	for _, c := range jittered {
		repl = append(repl, fmt.Sprintf(
			"CASE WHEN g < m THEN %[1]s ELSE round(%[1]s * (1 + 0.01 * ((hash(g, '%[1]s') %% 2001)::DOUBLE / 1000 - 1)), 6) END AS %[1]s", c))
	}
	return fmt.Sprintf(`COPY (
WITH src AS (
  SELECT row_number() OVER () - 1 AS i, *
  FROM read_csv(%[1]s, header = true, types = {'kepid': 'BIGINT', 'kepoi_name': 'VARCHAR'})
),
gen AS (
  SELECT g, g // %[5]d AS k, %[5]d AS m, src.* EXCLUDE (i)
  FROM range(%[3]d) AS r(g)
  JOIN src ON src.i = g %% %[5]d
)
SELECT * EXCLUDE (g, k, m) REPLACE (
  kepid + k * 100000000 AS kepid,
  CASE WHEN k = 0 THEN kepoi_name
       ELSE printf('K%%09d.%%s', k * 100000 + CAST(substr(kepoi_name, 2, 5) AS BIGINT), split_part(kepoi_name, '.', 2)) END AS kepoi_name,
  %[4]s
)
FROM gen
) TO %[2]s (FORMAT csv, HEADER true)`, lit(src), lit(dst), n, strings.Join(repl, ",\n  "), m)
}

func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// generated is one synthetic catalog in both formats.
type generated struct {
	rows    int64
	csv     string
	parquet string
	seconds float64
}

// generate writes (or reuses, when a previous stage or run left it in the
// work dir) the n-row catalog as CSV and Parquet.
func generate(ctx context.Context, db *sql.DB, src, dir string, n int64) (*generated, error) {
	g := &generated{
		rows:    n,
		csv:     filepath.Join(dir, fmt.Sprintf("koi_%s.csv", sizeName(n))),
		parquet: filepath.Join(dir, fmt.Sprintf("koi_%s.parquet", sizeName(n))),
	}
	t0 := time.Now()
	if !exists(g.csv) {
		var m int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_csv("+lit(src)+", header = true)").Scan(&m); err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		if _, err := db.ExecContext(ctx, genSQL(src, g.csv+".tmp", n, m)); err != nil {
			return nil, fmt.Errorf("generate %s: %w", g.csv, err)
		}
		if err := os.Rename(g.csv+".tmp", g.csv); err != nil {
			return nil, err
		}
	}
	if !exists(g.parquet) {
		q := fmt.Sprintf(`COPY (SELECT * FROM read_csv(%s, header = true, types = {'kepid': 'BIGINT', 'kepoi_name': 'VARCHAR'}))
			TO %s (FORMAT parquet, COMPRESSION zstd)`, lit(g.csv), lit(g.parquet+".tmp"))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("generate %s: %w", g.parquet, err)
		}
		if err := os.Rename(g.parquet+".tmp", g.parquet); err != nil {
			return nil, err
		}
	}
	g.seconds = time.Since(t0).Seconds()
	return g, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// sizeName prints 250000 as 250k and 10000000 as 10M.
func sizeName(n int64) string {
	switch {
	case n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return fmt.Sprint(n)
}

// parseSize reads 250k, 1M, 10M or a plain number.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1_000, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1_000_000, s[:len(s)-1]
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q: use e.g. 250k, 1M, 10M", s)
	}
	return n * mult, nil
}
