package engine

import sqltmpl "github.com/exohunter/exohunter/sql"

// catalogSchemas are the schemas the catalog lists, in the order the
// schema browser shows them (the pipeline's order, then service schemas).
var catalogSchemas = []string{"raw", "normalized", "metrics", "classified", "runs", "labels", "features", "catalog", "meta"}

// schemaDescriptions describe each catalog schema for GET /api/schema.
var schemaDescriptions = map[string]string{
	"raw":        "Each dataset as stored: the source file's own columns",
	"normalized": "Each dataset in the canonical KOI-standard columns",
	"metrics":    "Each dataset plus the derived physics",
	"classified": "Each dataset plus flags, tags, category and score (default thresholds)",
	"runs":       "Materialized runs: runs.results (every run) and runs.latest_<dataset>",
	"labels":     "Human and catalog labels of objects",
	"features":   "Versioned feature sets from the feature store",
	"catalog":    "This catalog: relations, columns, units and descriptions",
	"meta":       "The service's own bookkeeping: datasets, runs, jobs",
}

// relationDocs describe relations by schema and name pattern (LIKE, escape
// '\'); the longest matching pattern wins. A COMMENT ON TABLE/VIEW set by
// the code that creates a relation takes precedence over these.
var relationDocs = []sqltmpl.CatalogRelationDoc{
	{Schema: "raw", Pattern: "%", Description: "Dataset {name} as stored: the source file's columns, with the types pinned at ingest"},
	{Schema: "normalized", Pattern: "%", Description: "Dataset {name} in the canonical KOI-standard columns (units converted, ids as text), then every unmapped source column unchanged"},
	{Schema: "metrics", Pattern: "%", Description: "normalized.{name} plus the derived physics of configs/metrics.yaml, with <column>_source provenance"},
	{Schema: "classified", Pattern: "%", Description: "metrics.{name} plus flags, tags, category, score and disposition_compare at the default thresholds"},
	{Schema: "runs", Pattern: "results", Description: "Every run, one row per input row, with run_id; each run is materialized once"},
	{Schema: "runs", Pattern: `latest\_%`, Description: "The latest complete run of dataset {dataset}"},
	{Schema: "runs", Pattern: "scored", Description: "runs.results plus each row's model probability (p_model, from model p_model_model) and anomaly scores from meta.scores; NULL where the run was not scored"},
	{Schema: "labels", Pattern: "labels", Description: "Labels of objects, append-only: one row per labeling act"},
	{Schema: "labels", Pattern: "reviews", Description: "Accept/reject reviews of labels, append-only; the latest review of a label decides"},
	{Schema: "labels", Pattern: "history", Description: "Every label with its label class and review status (pending, accepted, rejected)"},
	{Schema: "labels", Pattern: "current", Description: "The current label of each object per source: its latest label, with review status"},
	{Schema: "labels", Pattern: "claims", Description: "Labeling-queue claims (who is labeling which object, until when)"},
	{Schema: "labels", Pattern: "%", Description: "Labeling table {name}"},
	{Schema: "features", Pattern: "%", Description: "Feature set {name} from the feature store: one row per object"},
	{Schema: "meta", Pattern: "datasets", Description: "One row per ingested file: format, size, sha256, rows, mission, columns, mapping report, NASA # header and source URL"},
	{Schema: "meta", Pattern: "runs", Description: "One row per run: status, rows, counts per category, config hash, thresholds, albedo, timings"},
	{Schema: "meta", Pattern: "jobs", Description: "Background jobs (runs, snapshots, feature builds, training) and their progress"},
	{Schema: "meta", Pattern: "snapshot", Description: "When and how this snapshot was taken (one row)"},
	{Schema: "meta", Pattern: "scores", Description: "Model probabilities and anomaly scores of scored runs, one row per run row (exohunter score, exohunter anomalies)"},
	{Schema: "meta", Pattern: "%", Description: "Service table {name}"},
	{Schema: "catalog", Pattern: "tables", Description: "Every relation with its kind, dataset and description"},
	{Schema: "catalog", Pattern: "columns", Description: "Every column of every relation with its type, unit and description"},
	{Schema: "catalog", Pattern: "dictionary", Description: "The data dictionary: unit, description and formula of every column name the pipeline produces"},
}

// serviceDocs describe the columns of the service tables exactly.
var serviceDocs = func() []sqltmpl.CatalogServiceDoc {
	var out []sqltmpl.CatalogServiceDoc
	add := func(schema, table string, cols ...[3]string) {
		for _, c := range cols {
			out = append(out, sqltmpl.CatalogServiceDoc{Schema: schema, Table: table, Column: c[0], Unit: c[1], Description: c[2]})
		}
	}
	add("meta", "datasets",
		[3]string{"name", "", "Dataset name: the view name in raw, normalized, metrics and classified"},
		[3]string{"original_name", "", "File name as uploaded (never used as a path)"},
		[3]string{"format", "", "csv or parquet"},
		[3]string{"compression", "", "none or gzip (the stored bytes stay compressed)"},
		[3]string{"bytes", "bytes", "Size of the stored file"},
		[3]string{"sha256", "", "SHA-256 of the stored bytes"},
		[3]string{"rows", "rows", "Data rows (header and # block excluded)"},
		[3]string{"mission", "", "koi, toi, k2, ps, pscomppars or generic"},
		[3]string{"columns", "", "JSON [{name, type}]: the raw view's columns"},
		[3]string{"mapping", "", "JSON mapping report [{source, canonical, alias, conversion, status}]"},
		[3]string{"nasa_header", "", "JSON: the file's NASA # header (export time, per-column label and unit)"},
		[3]string{"csv_options", "", "JSON: the CSV dialect pinned in the raw view"},
		[3]string{"units", "", "JSON: unit overrides given at ingest {canonical: unit}"},
		[3]string{"path", "", "Stored file, relative to the server's data dir"},
		[3]string{"created_at", "UTC", "When the file was ingested"},
		[3]string{"source", "", "Where the bytes were fetched from (s3://, gs://, https:// URL or the NASA archive's TAP query), secrets redacted; NULL for a local file or an upload"})
	add("meta", "runs",
		[3]string{"run_id", "", "Run id: dataset, UTC time and a random suffix"},
		[3]string{"dataset", "", "The dataset the run read"},
		[3]string{"status", "", "queued, running, complete or failed"},
		[3]string{"rows", "rows", "Rows in the run (every input row)"},
		[3]string{"counts", "", "JSON {category: rows}"},
		[3]string{"config_hash", "", "SHA-256 of the run's rendered SQL (same hash, same results)"},
		[3]string{"thresholds", "", "JSON: effective thresholds, overrides applied"},
		[3]string{"albedo", "", "Bond albedo used for equilibrium temperatures"},
		[3]string{"timings", "s", "JSON {stage: seconds}"},
		[3]string{"path", "", "Result file, relative to the server's data dir"},
		[3]string{"error", "", "Why a failed run failed"},
		[3]string{"created_at", "UTC", "When the run started"},
		[3]string{"finished_at", "UTC", "When the run ended"})
	add("meta", "jobs",
		[3]string{"id", "", "Job id"}, [3]string{"kind", "", "What the job does (run, snapshot, ...)"},
		[3]string{"status", "", "queued, running, complete or failed"}, [3]string{"progress", "fraction", "Share of the work done, 0 to 1"},
		[3]string{"message", "", "What the job is doing, or why it failed"}, [3]string{"result", "", "JSON: the job's result and error"},
		[3]string{"created_at", "UTC", "When the job was created"}, [3]string{"updated_at", "UTC", "Last change"})
	add("meta", "scores",
		[3]string{"run_id", "", "The scored run"}, [3]string{"row_id", "", "The row of the run (runs.results.row_id)"},
		[3]string{"object_id", "", "The row's object"}, [3]string{"model", "", "name/version of the model that wrote p_model"},
		[3]string{"p_model", "probability", "The model's probability that the object is a planet, not a false positive (0 to 1)"},
		[3]string{"anomaly_score_iforest", "", "Isolation Forest score, 0 to 1 (above 0.5: anomalous)"},
		[3]string{"anomaly_score_lof", "", "Local Outlier Factor (about 1 inside clusters)"},
		[3]string{"anomaly_score", "", "1 - 1/LOF, 0 to 1: the labeling queue's anomaly term"},
		[3]string{"anomaly_features", "", "The feature set the detectors read"},
		[3]string{"created_at", "UTC", "When the scores were written"})
	add("meta", "snapshot",
		[3]string{"created_at", "UTC", "When the snapshot's read transaction began: it holds exactly what was committed then"},
		[3]string{"source_database", "", "File name of the server's database"},
		[3]string{"duckdb_version", "", "DuckDB version that wrote the snapshot"},
		[3]string{"storage_version", "", "Oldest DuckDB version that can open this file"},
		[3]string{"runs", "", "Which runs were included: latest, all, or the listed ids"},
		[3]string{"run_ids", "", "The run ids in runs.results"},
		[3]string{"include", "", "Optional parts included: raw, features, labels"})
	add("labels", "labels",
		[3]string{"id", "", "Label id"}, [3]string{"object_id", "", "The labeled object (KOI, TOI or planet name)"},
		[3]string{"dataset", "", "Dataset of the object"}, [3]string{"run_id", "", "Run the annotator looked at (optional)"},
		[3]string{"label", "", "The label given"}, [3]string{"source", "", "Who labeled: a human annotator or a catalog (nasa)"},
		[3]string{"annotator", "", "Annotator name"}, [3]string{"note", "", "Free-text note"},
		[3]string{"created_at", "UTC", "When the label was written"})
	add("catalog", "tables",
		[3]string{"schema_name", "", "Schema"}, [3]string{"table_name", "", "Relation name"},
		[3]string{"kind", "", "table or view"}, [3]string{"dataset", "", "Dataset the relation belongs to, if any"},
		[3]string{"description", "", "What the relation holds"}, [3]string{"column_count", "", "Number of columns"},
		[3]string{"name", "", "Relation name (table_name)"}, [3]string{"type", "", "table or view (kind)"})
	add("catalog", "columns",
		[3]string{"schema_name", "", "Schema"}, [3]string{"table_name", "", "Relation name"},
		[3]string{"column_name", "", "Column name"}, [3]string{"ordinal", "", "Position in the relation, from 1"},
		[3]string{"data_type", "", "DuckDB type"}, [3]string{"unit", "", "Physical unit, when the column has one"},
		[3]string{"description", "", "What the column holds"},
		[3]string{"doc_source", "", "Where the description comes from: dictionary, nasa_header, mapping, service or comment"},
		[3]string{"dataset", "", "Dataset the relation belongs to, if any"},
		[3]string{"canonical", "", "For raw columns: the canonical column it maps to"},
		[3]string{"name", "", "Column name (column_name)"}, [3]string{"type", "", "DuckDB type (data_type)"})
	add("catalog", "dictionary",
		[3]string{"column_name", "", "Column name the pipeline produces"},
		[3]string{"kind", "", "canonical, uncertainty, metric, provenance or output"},
		[3]string{"unit", "", "Physical unit"}, [3]string{"description", "", "What the column holds"},
		[3]string{"formula", "", "How a metric is computed"})
	return out
}()
