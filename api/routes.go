package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// route is one row of the API table. timeout 0 takes Config.RequestTimeout;
// noTimeout leaves the deadline to the handler (uploads, streams, jobs).
type route struct {
	method  string
	path    string
	access  access
	timeout time.Duration
	handler fiber.Handler
	tag     string
	summary string
}

// noTimeout marks routes whose handlers bound their own work.
const noTimeout = -1

// OpenAPI tags, one per endpoint group.
const (
	tagHealth    = "health"
	tagDatasets  = "datasets"
	tagRuns      = "runs"
	tagJobs      = "jobs"
	tagConsole   = "console"
	tagDict      = "dictionary"
	tagSnapshots = "snapshots"
	tagLegacy    = "legacy"
)

// routes is the whole API surface, in one table. GET /api/openapi.json is
// generated from it (openapi.go), and a test checks that every route the
// app serves is documented there.
func (s *Server) routes() []route {
	const get, post, del = fiber.MethodGet, fiber.MethodPost, fiber.MethodDelete
	return []route{
		{get, "/api/health", public, 0, s.handleHealth, tagHealth, "Liveness: the process answers"},
		{get, "/api/ready", public, 0, s.handleReady, tagHealth, "Readiness: the database answers"},
		{get, "/api/openapi.json", read, 0, s.handleOpenAPI, tagHealth, "This OpenAPI 3 document"},

		{get, "/api/datasets", read, 0, s.handleDatasetList, tagDatasets, "List datasets"},
		{post, "/api/datasets", write, noTimeout, s.handleDatasetCreate, tagDatasets, "Ingest a catalog: multipart upload, {url}, or {nasa, where, select}"},
		{get, "/api/datasets/:name", read, 0, s.handleDatasetGet, tagDatasets, "One dataset: metadata, mapping report and column dictionary"},
		{del, "/api/datasets/:name", write, 0, s.handleDatasetDelete, tagDatasets, "Delete a dataset, its views and its runs"},
		{post, "/api/datasets/:name/runs", write, 0, s.handleRunCreate, tagRuns, "Start a run (background job) with optional threshold overrides and albedo"},

		{get, "/api/runs", read, 0, s.handleRunList, tagRuns, "List runs, newest first"},
		{get, "/api/runs/:id", read, 0, s.handleRunGet, tagRuns, "One run: status, counts per category, config, timings"},
		{get, "/api/runs/:id/results", read, 0, s.handleResults, tagRuns, "A page of a run's rows: filters, sort, cursor or offset paging, total"},
		{get, "/api/runs/:id/results/:object_id", read, 0, s.handleResultRow, tagRuns, "Every row of one object with every column and its provenance"},
		{get, "/api/runs/:id/points", read, 0, s.handlePoints, tagRuns, "Scatter points (x, y) of a run, sampled beyond the limit"},
		{get, "/api/runs/:id/counts", read, 0, s.handleCounts, tagRuns, "Rows per category, tag, flag, disposition or disposition_compare, with the result filters"},
		{get, "/api/runs/:id/histogram", read, 0, s.handleHistogram, tagRuns, "Histogram of a numeric column (linear or log bins), with the result filters"},
		{get, "/api/runs/:id/export", read, exportTimeout, s.handleExport, tagRuns, "Download a run (csv, json, ndjson or parquet) with the result filters"},

		{get, "/api/jobs", read, 0, s.handleJobList, tagJobs, "List jobs: queued and running ones first, then recent ended ones"},
		{get, "/api/jobs/:id", read, 0, s.handleJobGet, tagJobs, "One background job"},
		{del, "/api/jobs/:id", write, 0, s.handleJobCancel, tagJobs, "Cancel a queued or running job"},
		{get, "/api/jobs/:id/events", read, noTimeout, s.handleJobEvents, tagJobs, "Server-Sent Events of a running job's progress"},

		{post, "/api/query", console, noTimeout, s.handleConsoleQuery, tagConsole, "Run a read-only SQL query"},
		{get, "/api/query", console, noTimeout, s.handleConsoleQuery, tagConsole, "Run a read-only SQL query given as ?sql= (shareable URL); ?format=csv|ndjson|parquet downloads the full result"},
		{del, "/api/query/:id", console, 0, s.handleConsoleCancel, tagConsole, "Cancel a running console query by its query_id"},
		{get, "/api/schema", console, 0, s.handleSchema, tagConsole, "Schemas, relations and columns the console can query, with units and descriptions"},
		{get, "/api/queries", console, 0, s.handleQueryList, tagConsole, "Stored queries (configs/queries.yaml) with their parameters and documentation"},
		{get, "/api/queries/:name", console, noTimeout, s.handleQueryRun, tagConsole, "Run a stored query; its parameters are bound from the query string"},

		{get, "/api/snapshot", read, snapshotTimeout, s.handleSnapshotDownload, tagSnapshots, "Download one self-contained .duckdb snapshot (runs, features, labels) for notebooks"},
		{post, "/api/snapshots", write, 0, s.handleSnapshotCreate, tagSnapshots, "Write a named snapshot under DATA/snapshots as a background job"},
		{get, "/api/snapshots", read, 0, s.handleSnapshotList, tagSnapshots, "List named snapshots"},
		{get, "/api/snapshots/:name", read, noTimeout, s.handleSnapshotGet, tagSnapshots, "Download a named snapshot"},

		{get, "/api/dictionary", read, 0, s.handleDictionary, tagDict, "Data dictionary: canonical columns, metrics, flags and categories"},
		{get, "/api/thresholds", read, 0, s.handleThresholds, tagDict, "Default thresholds and albedo a run may override"},

		{get, "/api/labels", read, 0, s.handleLabelList, tagLabels, "List labels: filters, limit up to 100000, cursor paging"},
		{post, "/api/labels", write, 0, s.handleLabelCreate, tagLabels, "Record a label (committed before the answer)"},
		{get, "/api/labels/queue", read, 0, s.handleLabelQueue, tagLabels, "Next objects to label, with the reason for each; ?annotator= claims them"},
		{get, "/api/labels/review", read, 0, s.handleReviewQueue, tagLabels, "Labels pending review and objects whose human, NASA and heuristic labels disagree"},
		{get, "/api/labels/stats", read, 0, s.handleLabelStats, tagLabels, "Confusion tables: human vs NASA, human vs heuristic, heuristic vs NASA"},
		{get, "/api/labels/export", read, exportTimeout, s.handleLabelExport, tagLabels, "Download the labeled set (parquet or csv); kept with a manifest under DATA/labeled"},
		{post, "/api/labels/import", write, exportTimeout, s.handleLabelImport, tagLabels, "Import NASA dispositions of a dataset or the categories of a run as labels"},
		{post, "/api/labels/:id/review", write, 0, s.handleLabelReview, tagLabels, "Accept or reject a label"},

		// note: the legacy /api/features/ and /api/features/meta come
		// before /api/features and /api/features/:version, which the
		// router would otherwise match first (trailing slashes are not
		// significant; a static segment must precede the parameter).
		{get, "/api/features/", read, 0, s.handleLegacyFeaturePage, tagLegacy, "Legacy: a page of the newest feature set (q, page, page_size, columns)"},
		{get, "/api/features/meta", read, 0, s.handleLegacyFeatureMeta, tagLegacy, "Legacy: the newest feature set's manifest and every version"},
		{get, "/api/features", read, 0, s.handleFeatureList, tagFeatures, "List feature-set versions (manifests)"},
		{post, "/api/features", write, featureBuildTimeout, s.handleFeatureBuild, tagFeatures, "Build a feature-set version from a run"},
		{get, "/api/features/:version", read, 0, s.handleFeaturePageOrObject, tagFeatures,
			"A page of a feature set: search, paging, projection (legacy: when {version} names no feature set, the features of that object_id in the newest one)"},
		{get, "/api/features/:version/download", read, exportTimeout, s.handleFeatureDownload, tagFeatures, "Download a feature set (parquet or csv)"},
		{get, "/api/features/:version/:object_id", read, 0, s.handleFeatureRow, tagFeatures, "The features of one object"},

		{post, "/api/models/train", write, 0, s.handleModelTrain, tagModels, "Train a model (background job with progress): {target, run_id, features, leaky}"},
		{get, "/api/models", read, 0, s.handleModelList, tagModels, "List model versions, newest first, with headline metrics"},
		{get, "/api/models/:name/:version", read, 0, s.handleModelGet, tagModels, "One model version: metrics.json, model card and data card"},
		{post, "/api/models/:name/:version/score", write, modelTimeout, s.handleModelScore, tagModels, "Write the model's p_model for a run's rows {run_id}"},
		{post, "/api/runs/:id/anomalies", write, modelTimeout, s.handleRunAnomalies, tagModels, "Score a run with Isolation Forest and LOF (anomaly_score)"},

		// Legacy routes of the prototype (README: "Compatibility"). The
		// legacy feature routes sit above, next to the ones they share a
		// path with; GET /api/labels/queue is the current route.
		{get, "/api/labels/config", read, 0, s.handleLegacyLabelConfig, tagLegacy, "Legacy: label values, sources, strategies and the labeling config"},
		{post, "/api/labels/queue", write, 0, s.handleLegacyLabelQueue, tagLegacy, "Legacy: next objects to label ({strategy, limit, annotator, run_id, dataset}); an annotator claims them"},
		{post, "/api/labels/apply", write, 0, s.handleLegacyLabelApply, tagLegacy, "Legacy: record a label {object_id, label, notes}"},
		{get, "/api/labels/results", read, 0, s.handleLegacyLabelResults, tagLegacy, "Legacy: the recorded labels"},
		{post, "/api/upload", write, noTimeout, s.handleLegacyUpload, tagLegacy, "Legacy: upload a catalog (multipart file or {url})"},
		{get, "/api/upload/index", read, 0, s.handleLegacyUploadIndex, tagLegacy, "Legacy: list uploads"},
		{get, "/api/upload/:file_id/meta", read, 0, s.handleLegacyUploadMeta, tagLegacy, "Legacy: one upload's metadata"},
		{post, "/api/process", write, 10 * time.Minute, s.handleLegacyProcess, tagLegacy, "Legacy: process an upload synchronously"},
		{get, "/api/result/latest", read, 0, s.handleLegacyResultLatest, tagLegacy, "Legacy: rows of the newest complete run"},
		{get, "/api/result/files", read, 0, s.handleLegacyResultFiles, tagLegacy, "Legacy: list written result files"},
		{get, "/api/result/download/:format", read, exportTimeout, s.handleLegacyDownload, tagLegacy, "Legacy: download the newest complete run as csv or json"},
		{get, "/healthz", public, 0, s.handleHealth, tagLegacy, "Legacy: liveness"},
		{get, "/api/health/ping", public, 0, s.handleLegacyPing, tagLegacy, "Legacy: liveness"},
		{get, "/api/health/ready", public, 0, s.handleReady, tagLegacy, "Legacy: readiness"},
	}
}
