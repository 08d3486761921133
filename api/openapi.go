package api

import (
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/engine/spec"
)

// opDoc is what the route table does not say about an operation: query
// parameters, request body, success status and schema, and the error
// statuses beyond the common ones.
type opDoc struct {
	query    []string // "name: description"
	body     string   // a components schema name, or "multipart"
	ok       int      // default 200
	okSchema string   // a components schema name
	produces string   // content type when not JSON
	errors   []int    // besides 500 (and 401/403 when a token applies)
	// background marks a call that ?background=true turns into a job:
	// 202 with the Job instead of waiting for the answer.
	background bool
}

// backgroundParam documents ?background=true (opDoc.background).
const backgroundParam = "background: true starts a job and answers 202 at once with it (follow GET /api/jobs/{id}, whose result is this call's answer); without it the call waits for the answer, within the route's time limit"

// resultFilters are the query parameters shared by results, points and
// exports (engine.ParseResultsQuery).
var resultFilters = []string{
	"category: primary category (repeatable or comma-separated)",
	"tag: rows whose tags contain one of the values",
	"flag: rows whose flags contain one of the values",
	"disposition: CONFIRMED, CANDIDATE, FALSE POSITIVE or MISSING",
	"min_score: lower bound of score (inclusive)",
	"max_score: upper bound of score (inclusive)",
	"q: an object id, star id or planet name typed whole (any case; K00087 or KOI-87 for K00087.01, TOI-700 for 700.01 or for the planets of the host TOI-700, Kepler-22 for Kepler-22 b) shows just those objects, among the rows the other filters keep; otherwise every object whose object_id, star_id or kepler_name contains q (or the KOI/TOI table form of a KOI-/TOI- number)",
	"sort: column to sort by (default row_id)",
	"order: asc (default) or desc",
	"<column>__gte, __gt, __lte, __lt, __eq, __ne: range filter on any column, e.g. koi_prad__lt=2",
}

// pagingParams are the results' paging parameters.
var pagingParams = []string{
	"limit: page size (default 50, at most 10000)",
	"cursor: next_cursor of the previous page (keyset paging)",
	"offset: rows to skip (exclusive with cursor)",
	"columns: comma-separated projection",
}

// opDocs documents each route by "METHOD /path" (OpenAPI path syntax).
var opDocs = map[string]opDoc{
	"GET /api/datasets":                      {okSchema: "DatasetList"},
	"POST /api/datasets":                     {body: "multipart|DatasetImport", ok: 201, okSchema: "Dataset", errors: []int{400, 404, 409, 413, 415, 502, 504}},
	"GET /api/datasets/{name}":               {okSchema: "Dataset", errors: []int{404}},
	"DELETE /api/datasets/{name}":            {ok: 204, errors: []int{404, 409}},
	"POST /api/datasets/{name}/runs":         {body: "RunRequest", ok: 202, okSchema: "RunStart", errors: []int{400, 404, 409, 413}},
	"GET /api/runs":                          {query: []string{"dataset: only the runs of this dataset"}, okSchema: "RunList"},
	"GET /api/runs/{id}":                     {okSchema: "Run", errors: []int{404}},
	"GET /api/runs/{id}/results":             {query: append(append([]string{}, resultFilters...), pagingParams...), okSchema: "ResultsPage", errors: []int{400, 404, 409, 504}},
	"GET /api/runs/{id}/results/{object_id}": {okSchema: "ObjectResult", errors: []int{404, 409}},
	"GET /api/runs/{id}/points":              {query: append([]string{"x: numeric column (default koi_period)", "y: numeric column (default koi_prad)", "limit: point budget (default 5000)"}, resultFilters...), okSchema: "PointsPage", errors: []int{400, 404, 409}},
	"GET /api/runs/{id}/counts":              {query: append([]string{"by: category (default), tag, flag, koi_disposition or disposition_compare"}, resultFilters...), okSchema: "CountsPage", errors: []int{400, 404, 409, 504}},
	"GET /api/runs/{id}/histogram":           {query: append([]string{"column: numeric column to bin, e.g. koi_prad", "bins: number of bins (default 40, at most 1000)", "scale: linear (default) or log"}, resultFilters...), okSchema: "Histogram", errors: []int{400, 404, 409, 504}},
	"GET /api/runs/{id}/export":              {query: append([]string{"format: csv (default), json, ndjson or parquet", "spreadsheet_safe: true (default) prefixes CSV text cells that start with =, +, -, @, tab or CR with ' so that a spreadsheet does not run them (decstr's +17d47m35.71s too); false writes every value as it is"}, resultFilters...), produces: "text/csv, application/json, application/x-ndjson, application/vnd.apache.parquet", errors: []int{400, 404, 409, 504, 507}},
	"GET /api/jobs":                          {query: []string{"status: queued, running, complete or failed", "limit: at most this many jobs (default 100, at most 1000)"}, okSchema: "JobList", errors: []int{400}},
	"GET /api/jobs/{id}":                     {okSchema: "Job", errors: []int{404}},
	"DELETE /api/jobs/{id}":                  {okSchema: "Job", errors: []int{404, 409}},
	"GET /api/jobs/{id}/events":              {produces: "text/event-stream", errors: []int{404}},
	"POST /api/query":                        {body: "ConsoleRequest", okSchema: "ConsoleResult", errors: []int{400, 409, 413, 504}},
	"GET /api/query":                         {query: []string{"sql: the query", "limit: row cap", "timeout_ms: time limit", "query_id: id for DELETE /api/query/{id}", "format: csv, ndjson or parquet downloads every row (up to 1,000,000) instead of a JSON page", "spreadsheet_safe: with format=csv, true (default) prefixes text cells that start with =, +, -, @, tab or CR with ' so that a spreadsheet does not run them; false writes every value as it is"}, okSchema: "ConsoleResult", produces: "application/json, text/csv, application/x-ndjson, application/vnd.apache.parquet", errors: []int{400, 409, 413, 504}},
	"DELETE /api/query/{id}":                 {ok: 204, errors: []int{404}},
	"GET /api/queries":                       {okSchema: "StoredQueryList"},
	"GET /api/queries/{name}":                {query: []string{"<parameter>: each parameter of the stored query by name (see GET /api/queries), once; left out, it takes its default", "limit: row cap", "timeout_ms: time limit", "query_id: id for DELETE /api/query/{id}"}, okSchema: "StoredResult", errors: []int{400, 404, 409, 413, 504}},
	"GET /api/dictionary":                    {okSchema: "Object"},
	"GET /api/thresholds":                    {okSchema: "Object"},
	"GET /api/ready":                         {okSchema: "Object", errors: []int{503}},
	"POST /api/upload":                       {body: "multipart|DatasetImport", okSchema: "Object", errors: []int{400, 404, 409, 413, 415}},
	"GET /api/upload/{file_id}/meta":         {okSchema: "Object", errors: []int{404}},
	"POST /api/process":                      {body: "Object", okSchema: "Object", errors: []int{400, 404}},
	"GET /api/result/latest":                 {query: append(append(append([]string{}, resultFilters...), "limit: rows (default and at most 10000)"), pagingParams[1:]...), okSchema: "Object", errors: []int{400, 404}},
	"GET /api/result/download/{format}":      {produces: "text/csv, application/json", errors: []int{400, 404}},

	"GET /api/health":                         {okSchema: "Object"},
	"GET /api/openapi.json":                   {okSchema: "Object"},
	"GET /api/schema":                         {okSchema: "Object"},
	"GET /api/snapshot":                       {query: []string{"runs: latest (default), all, or comma-separated run ids", "include: raw, features, labels (comma-separated) or none"}, produces: "application/octet-stream", errors: []int{400, 404, 507}},
	"POST /api/snapshots":                     {body: "SnapshotRequest", ok: 202, okSchema: "Job", errors: []int{400, 404, 409}},
	"GET /api/snapshots":                      {okSchema: "Object"},
	"GET /api/snapshots/{name}":               {produces: "application/octet-stream", errors: []int{400, 404}},
	"GET /api/labels":                         {query: []string{"object_id, dataset, source, label, annotator, status: filters", "limit: page size (at most 100000)", "cursor: next_cursor of the previous page"}, okSchema: "Object", errors: []int{400}},
	"POST /api/labels":                        {body: "LabelRequest", ok: 201, okSchema: "Object", errors: []int{400, 404, 409, 507}},
	"GET /api/labels/queue":                   {query: []string{"strategy: the queue's strategy (see configs/labeling.yaml), e.g. uncertainty", "limit: items", "annotator: claims the items", "run_id, dataset: the run"}, okSchema: "Object", errors: []int{400, 404}},
	"GET /api/labels/review":                  {okSchema: "Object", errors: []int{400}},
	"GET /api/labels/stats":                   {okSchema: "Object", errors: []int{400}},
	"GET /api/labels/export":                  {query: []string{"format: parquet (default) or csv"}, produces: "application/vnd.apache.parquet, text/csv", errors: []int{400, 507}},
	"POST /api/labels/import":                 {body: "Object", okSchema: "Object", errors: []int{400, 404, 507}},
	"POST /api/labels/{id}/review":            {body: "ReviewRequest", ok: 201, okSchema: "Object", errors: []int{400, 404, 409}},
	"GET /api/features":                       {okSchema: "Object"},
	"POST /api/features":                      {body: "FeatureBuildRequest", ok: 201, okSchema: "Object", errors: []int{400, 404, 409, 422, 507}, background: true},
	"GET /api/features/{version}":             {query: []string{"q, page, page_size, columns: a page of rows; without them the manifest"}, okSchema: "Object", errors: []int{400, 404}},
	"GET /api/features/{version}/download":    {query: []string{"format: parquet (default) or csv"}, produces: "application/vnd.apache.parquet, text/csv", errors: []int{400, 404}},
	"GET /api/features/{version}/{object_id}": {okSchema: "Object", errors: []int{404}},
	"POST /api/models/train":                  {body: "TrainRequest", ok: 202, okSchema: "Object", errors: []int{400, 404, 409, 422}},
	"GET /api/models":                         {okSchema: "Object"},
	"GET /api/models/{name}/{version}":        {okSchema: "Object", errors: []int{400, 404}},
	"POST /api/models/{name}/{version}/score": {body: "Object", okSchema: "Object", errors: []int{400, 404, 409, 422, 504}, background: true},
	"POST /api/runs/{id}/anomalies":           {body: "Object", okSchema: "Object", errors: []int{400, 404, 409, 413, 504}, background: true},
}

// fiberParam matches :name in a fiber path.
var fiberParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// openAPIPath turns /api/runs/:id into /api/runs/{id}.
func openAPIPath(p string) string { return fiberParam.ReplaceAllString(p, "{$1}") }

// handleOpenAPI answers GET /api/openapi.json.
func (s *Server) handleOpenAPI(c *fiber.Ctx) error {
	return c.JSON(s.openAPI())
}

// openAPI builds the OpenAPI 3 document from the route table.
func (s *Server) openAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range s.table {
		p := openAPIPath(r.path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.method)] = s.operation(r, p)
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "ExoHunter API",
			"version": s.cfg.Version,
			"description": "Datasets, runs, results, exports, jobs and the read-only SQL console of ExoHunter. " +
				"Errors are {\"error\":{\"code\",\"message\",\"details\"}}. Routes tagged legacy keep the prototype's scripts working. " +
				"When the server has a token (EXOHUNTER_TOKEN), write routes need Authorization: Bearer <token>.",
		},
		"paths": paths,
		"tags": []map[string]string{
			{"name": tagHealth}, {"name": tagDatasets}, {"name": tagRuns}, {"name": tagJobs},
			{"name": tagConsole}, {"name": tagSnapshots}, {"name": tagDict}, {"name": tagLegacy, "description": "Routes of the earlier prototype (deprecated)"},
		},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]string{"type": "http", "scheme": "bearer"}},
			"schemas":         openAPISchemas(),
		},
	}
}

// operation documents one route.
func (s *Server) operation(r route, path string) map[string]any {
	d := opDocs[r.method+" "+path]
	op := map[string]any{
		"summary":     r.summary,
		"tags":        []string{r.tag},
		"operationId": operationID(r.method, path),
	}
	if r.tag == tagLegacy {
		op["deprecated"] = true
	}
	var params []map[string]any
	for _, m := range fiberParam.FindAllStringSubmatch(r.path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
	}
	if d.background {
		d.query = append(slices.Clip(d.query), backgroundParam)
	}
	for _, q := range d.query {
		name, desc, _ := strings.Cut(q, ": ")
		if strings.Contains(name, "<") {
			continue // note: pattern parameters are described on the operation
		}
		params = append(params, map[string]any{"name": name, "in": "query", "description": desc, "schema": map[string]string{"type": "string"}})
	}
	if len(d.query) > 0 {
		op["description"] = "Query parameters: " + strings.Join(d.query, "; ") + "."
	}
	if params != nil {
		op["parameters"] = params
	}
	if d.body != "" {
		op["requestBody"] = requestBody(d.body)
	}
	op["responses"] = responses(r, d, s.cfg.Token != "")
	if r.access == write || s.cfg.ProtectReads && r.access == read || s.cfg.ProtectConsole && r.access == console {
		op["security"] = []map[string][]string{{"bearer": {}}}
	}
	return op
}

// operationID derives a stable id such as getApiRunsIdResults.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '.' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// requestBody documents a body: "multipart|Schema" offers both.
func requestBody(spec string) map[string]any {
	content := map[string]any{}
	for _, part := range strings.Split(spec, "|") {
		if part == "multipart" {
			content[fiber.MIMEMultipartForm] = map[string]any{"schema": map[string]any{
				"type": "object", "required": []string{"file"},
				"properties": map[string]any{
					"file":    map[string]string{"type": "string", "format": "binary"},
					"name":    map[string]string{"type": "string"},
					"mission": map[string]string{"type": "string"},
					"unit":    map[string]string{"type": "string", "description": "COLUMN=UNIT, repeatable"},
				}}}
			continue
		}
		content[fiber.MIMEApplicationJSON] = map[string]any{"schema": ref(part)}
	}
	return map[string]any{"required": true, "content": content}
}

// responses documents the success and error statuses of a route.
func responses(r route, d opDoc, token bool) map[string]any {
	ok := d.ok
	if ok == 0 {
		ok = http.StatusOK
	}
	out := map[string]any{}
	success := map[string]any{"description": http.StatusText(ok)}
	switch {
	case d.produces != "":
		content := map[string]any{}
		for _, ct := range strings.Split(d.produces, ", ") {
			content[ct] = map[string]any{"schema": map[string]string{"type": "string"}}
		}
		success["content"] = content
	case ok != http.StatusNoContent:
		schema := d.okSchema
		if schema == "" {
			schema = "Object"
		}
		success["content"] = map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": ref(schema)}}
	}
	out[strconv.Itoa(ok)] = success
	if ok == http.StatusAccepted && strings.HasSuffix(r.path, "/runs") {
		out["201"] = map[string]any{"description": "The run already ended (small inputs)",
			"content": map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": ref(d.okSchema)}}}
	}
	if d.background {
		out["202"] = map[string]any{"description": "Started as a background job (background=true): the Job, with its id again as job_id",
			"content": map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": ref("Job")}}}
	}
	if r.method == fiber.MethodDelete && r.path == "/api/jobs/:id" {
		out["202"] = map[string]any{"description": "Cancelled, still stopping: the job, running; GET /api/jobs/{id} shows when it has failed",
			"content": map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": ref("Job")}}}
	}
	if r.method == fiber.MethodPost && strings.HasSuffix(r.path, "/datasets") {
		out["200"] = map[string]any{"description": "These bytes are already stored: the existing dataset with duplicate_of",
			"content": map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": ref("Dataset")}}}
	}
	errs := append([]int{http.StatusInternalServerError}, d.errors...)
	if d.background {
		errs = append(errs, http.StatusNotImplemented) // a server without jobs
	}
	if token {
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden)
	}
	if strings.HasPrefix(r.path, "/api") {
		errs = append(errs, http.StatusTooManyRequests)
	}
	sort.Ints(errs)
	for _, st := range errs {
		out[strconv.Itoa(st)] = map[string]any{"description": http.StatusText(st),
			"content": map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": ref("Error")}}}
	}
	return out
}

// ref is a $ref to a components schema.
func ref(name string) map[string]string {
	return map[string]string{"$ref": "#/components/schemas/" + name}
}

// openAPISchemas are the shared shapes (DESIGN.md Contracts).
func openAPISchemas() map[string]any {
	obj := func(props map[string]any, required ...string) map[string]any {
		m := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			m["required"] = required
		}
		return m
	}
	str := map[string]string{"type": "string"}
	num := map[string]string{"type": "number"}
	integer := map[string]string{"type": "integer"}
	boolean := map[string]string{"type": "boolean"}
	arr := func(items any) map[string]any { return map[string]any{"type": "array", "items": items} }
	anyObj := map[string]any{"type": "object", "additionalProperties": true}
	statuses := map[string]any{"type": "string", "enum": []string{engine.RunQueued, engine.RunRunning, engine.RunComplete, engine.RunFailed}}
	return map[string]any{
		"Object": anyObj,
		"Error": obj(map[string]any{"error": obj(map[string]any{
			"code": str, "message": str, "request_id": str,
			"details": arr(obj(map[string]any{"field": str, "message": str})),
		}, "code", "message", "details")}, "error"),
		"Dataset": obj(map[string]any{
			"name": str, "original_name": str, "format": str, "bytes": integer, "sha256": str, "rows": integer, "mission": str,
			"columns":    arr(obj(map[string]any{"name": str, "type": str})),
			"mapping":    arr(obj(map[string]any{"source": str, "canonical": str, "alias": str, "conversion": str, "status": str})),
			"created_at": map[string]string{"type": "string", "format": "date-time"}, "duplicate_of": str, "source": str,
			"dictionary": arr(anyObj),
		}, "name", "original_name", "format", "bytes", "sha256", "rows", "mission", "columns", "mapping", "created_at"),
		"DatasetList": obj(map[string]any{"items": arr(ref("Dataset"))}, "items"),
		"DatasetImport": obj(map[string]any{
			"url": str, "nasa": map[string]any{"type": "string", "enum": engine.NASATables}, "where": str, "select": str,
			"name": str, "mission": str, "units": map[string]any{"type": "object", "additionalProperties": str},
		}),
		"RunRequest": obj(map[string]any{
			"thresholds": map[string]any{"type": "object", "additionalProperties": num, "description": "dotted keys, e.g. planet_radius.rocky_max"},
			"albedo":     num,
		}),
		"RunStart": obj(map[string]any{"run_id": str, "job_id": str, "status": statuses}, "run_id", "job_id", "status"),
		"Run": obj(map[string]any{
			"run_id": str, "dataset": str, "status": statuses, "rows": integer,
			"counts": map[string]any{"type": "object", "additionalProperties": integer}, "config_hash": str,
			"thresholds": map[string]any{"type": "object", "additionalProperties": num},
			"timings":    map[string]any{"type": "object", "additionalProperties": num},
			"created_at": map[string]string{"type": "string", "format": "date-time"},
		}, "run_id", "dataset", "status", "rows", "counts", "config_hash", "thresholds", "timings", "created_at"),
		"RunList": obj(map[string]any{"items": arr(ref("Run"))}, "items"),
		"ResultsPage": obj(map[string]any{
			"rows": arr(anyObj), "total": integer, "next_cursor": map[string]any{"type": "string", "nullable": true},
			"columns": arr(obj(map[string]any{"name": str, "type": str})),
		}, "rows", "total", "next_cursor"),
		"ObjectResult": obj(map[string]any{"run_id": str, "object_id": str, "rows": arr(anyObj),
			"provenance": map[string]any{"type": "object", "additionalProperties": str}}),
		"PointsPage": obj(map[string]any{"x": str, "y": str, "fields": arr(str), "points": arr(arr(map[string]any{})),
			"total": integer, "sampled": boolean}),
		"CountsPage": obj(map[string]any{"by": str, "counts": arr(obj(map[string]any{"value": map[string]any{"nullable": true}, "count": integer})),
			"total": integer}, "by", "counts", "total"),
		"Histogram": obj(map[string]any{"column": str, "scale": map[string]any{"type": "string", "enum": []string{engine.ScaleLinear, engine.ScaleLog}},
			"bins":  arr(obj(map[string]any{"lo": num, "hi": num, "count": integer})),
			"total": integer, "nulls": integer, "excluded": integer,
			"min": map[string]any{"type": "number", "nullable": true}, "max": map[string]any{"type": "number", "nullable": true}},
			"column", "scale", "bins", "total", "nulls"),
		"Job": obj(map[string]any{"id": str, "kind": str, "status": statuses, "progress": num, "message": str,
			"result": map[string]any{"nullable": true},
			"error": obj(map[string]any{"code": map[string]any{"type": "string", "description": "as a request's error code; cancelled or interrupted for a job that was stopped"},
				"message": str}, "code", "message"),
			"created_at": map[string]string{"type": "string", "format": "date-time"}, "updated_at": map[string]string{"type": "string", "format": "date-time"},
		}, "id", "kind", "status", "progress", "message", "result"),
		"JobList": obj(map[string]any{"items": arr(ref("Job"))}, "items"),
		"StoredQueryList": obj(map[string]any{"items": arr(obj(map[string]any{
			"name": str, "title": str, "description": str, "sql": str,
			"params": arr(obj(map[string]any{
				"name": str, "type": map[string]any{"type": "string", "enum": spec.ParamTypes}, "description": str,
				"default": map[string]any{}, "min": num, "max": num, "values": arr(str),
			}, "name", "type", "default", "description")),
		}, "name", "title", "description", "params", "sql"))}, "items"),
		"StoredResult": obj(map[string]any{
			"columns": arr(obj(map[string]any{"name": str, "type": str})), "rows": arr(arr(map[string]any{})),
			"truncated": boolean, "elapsed_ms": integer, "query_id": str, "name": str,
			"params": map[string]any{"type": "object", "additionalProperties": true},
		}, "columns", "rows", "truncated", "elapsed_ms", "query_id", "name", "params"),
		"ConsoleRequest": obj(map[string]any{"sql": str, "limit": integer, "timeout_ms": integer, "query_id": str}, "sql"),
		"LabelRequest": obj(map[string]any{
			"object_id": str, "dataset": str, "run_id": str,
			"label":     map[string]any{"type": "string", "enum": engine.LabelValues()},
			"source":    map[string]any{"type": "string", "enum": []string{engine.SourceHuman, engine.SourceModel}, "description": "human (default) or model; nasa and heuristic labels are imported (POST /api/labels/import)"},
			"annotator": map[string]any{"type": "string", "description": "who gave the label (required for human labels)"},
			"note":      str,
		}, "object_id", "dataset", "label"),
		"ReviewRequest": obj(map[string]any{
			"status": map[string]any{"type": "string", "enum": []string{"accept", "reject"}}, "reviewer": str, "note": str,
		}, "status", "reviewer"),
		"FeatureBuildRequest": obj(map[string]any{
			"version": map[string]any{"type": "string", "description": "letters, digits, '.', '_' and '-', at most 64; versions are immutable"},
			"run_id":  map[string]any{"type": "string", "description": "the source run (default: the latest run of dataset, or of the only dataset)"},
			"dataset": str,
		}, "version"),
		"TrainRequest": obj(map[string]any{
			"target": map[string]any{"type": "string", "enum": []string{"confirmed_vs_fp", "planet_vs_fp", "disposition"}},
			"run_id": str, "dataset": str, "features": map[string]any{"type": "string", "description": "feature-set version"},
			"leaky": boolean, "name": str, "version": str,
		}),
		"SnapshotRequest": obj(map[string]any{
			"name":    str,
			"runs":    map[string]any{"description": "latest (default), all, or a list of run ids"},
			"include": arr(map[string]any{"type": "string", "enum": []string{engine.SnapshotRaw, engine.SnapshotFeatures, engine.SnapshotLabels}}),
		}, "name"),
		"ConsoleResult": obj(map[string]any{
			"columns": arr(obj(map[string]any{"name": str, "type": str})), "rows": arr(arr(map[string]any{})),
			"truncated": boolean, "elapsed_ms": integer, "query_id": str,
		}, "columns", "rows", "truncated", "elapsed_ms", "query_id"),
	}
}
