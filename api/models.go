package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// tagModels groups the model routes in the OpenAPI document.
const tagModels = "models"

// modelTimeout bounds a synchronous scoring or anomaly detection (a few
// seconds on the KOI table).
const modelTimeout = 5 * time.Minute

// ModelEngine is what the model routes need from the engine.
// *engine.Engine satisfies it; a Server whose engine does not answers
// these routes with 501.
type ModelEngine interface {
	Models(ctx context.Context) (*engine.ModelList, error)
	Model(ctx context.Context, name, version string) (*engine.ModelDetail, error)
	ScoreRun(ctx context.Context, in engine.ScoreInput) (*engine.ScoreResult, error)
	DetectAnomalies(ctx context.Context, in engine.AnomalyInput) (*engine.AnomalyResult, error)
}

// modelJobs starts training, scoring, anomaly-detection and feature-set
// jobs. *engine.Jobs satisfies it.
type modelJobs interface {
	StartTrain(ctx context.Context, in engine.TrainInput) (*engine.Job, error)
	StartScore(ctx context.Context, in engine.ScoreInput) (*engine.Job, error)
	StartAnomalies(ctx context.Context, in engine.AnomalyInput) (*engine.Job, error)
	StartFeatures(ctx context.Context, in engine.FeatureBuildInput) (*engine.Job, error)
}

var (
	_ ModelEngine = (*engine.Engine)(nil)
	_ modelJobs   = (*engine.Jobs)(nil)
)

// modelEngine returns the engine's model side.
func (s *Server) modelEngine() (ModelEngine, error) {
	if m, ok := s.eng.(ModelEngine); ok {
		return m, nil
	}
	return nil, fiber.NewError(fiber.StatusNotImplemented, "Models are not available on this server.")
}

// trainRequest is the body of POST /api/models/train; every field is
// optional (the defaults of `exohunter train`).
type trainRequest struct {
	Target   string `json:"target"`
	RunID    string `json:"run_id"`
	Dataset  string `json:"dataset"`
	Features string `json:"features"`
	Leaky    bool   `json:"leaky"`
	Name     string `json:"name"`
	Version  string `json:"version"`
}

// handleModelTrain answers POST /api/models/train with 202 and the queued
// job; GET /api/jobs/{id} (or its event stream) follows the folds, and the
// job's result is the train line.
func (s *Server) handleModelTrain(c *fiber.Ctx) error {
	mj, ok := s.jobs.(modelJobs)
	if !ok {
		return fiber.NewError(fiber.StatusNotImplemented, "Training is not available on this server.")
	}
	var req trainRequest
	if c.Request().Header.ContentLength() != 0 {
		if err := readJSON(c, s.cfg.BodyLimit, &req, true); err != nil {
			return err
		}
	}
	job, err := mj.StartTrain(c.UserContext(), engine.TrainInput{Target: req.Target, Run: req.RunID, Dataset: req.Dataset,
		Features: req.Features, Leaky: req.Leaky, Name: req.Name, Version: req.Version})
	return jobStarted(c, job, err)
}

// jobStart is the answer of a request that started a job (POST
// /api/models/train, or ?background=true): the queued job, and its id
// again as job_id (as POST /api/datasets/{name}/runs names it).
type jobStart struct {
	*engine.Job
	JobID string `json:"job_id"`
}

// jobStarted answers 202 with the job that start returned, and where to
// follow it.
func jobStarted(c *fiber.Ctx, job *engine.Job, err error) error {
	if err != nil {
		return err
	}
	c.Location("/api/jobs/" + job.ID)
	return c.Status(fiber.StatusAccepted).JSON(jobStart{Job: job, JobID: job.ID})
}

// startBackground starts the call as a job when the request asks for one
// (?background=true: a large run makes it long) and answers 202 with the
// job; started reports whether it did, and the caller otherwise answers
// by waiting.
func (s *Server) startBackground(c *fiber.Ctx, start func(modelJobs) (*engine.Job, error)) (started bool, err error) {
	bg, err := boolQuery(c, "background", false)
	if err != nil || !bg {
		return false, err
	}
	mj, ok := s.jobs.(modelJobs)
	if !ok {
		return false, fiber.NewError(fiber.StatusNotImplemented, "Background jobs are not available on this server; leave background out.")
	}
	job, err := start(mj)
	return true, jobStarted(c, job, err)
}

// handleModelList answers GET /api/models: {"items":[model...]}, newest
// first, each with its headline metrics.
func (s *Server) handleModelList(c *fiber.Ctx) error {
	me, err := s.modelEngine()
	if err != nil {
		return err
	}
	list, err := me.Models(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(list)
}

// handleModelGet answers GET /api/models/{name}/{version}: the model, its
// metrics.json, model card and data card.
func (s *Server) handleModelGet(c *fiber.Ctx) error {
	me, err := s.modelEngine()
	if err != nil {
		return err
	}
	d, err := me.Model(c.UserContext(), param(c, "name"), param(c, "version"))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// scoreRequest is the body of POST /api/models/{name}/{version}/score.
type scoreRequest struct {
	RunID   string `json:"run_id"`
	Dataset string `json:"dataset"`
}

// handleModelScore answers POST /api/models/{name}/{version}/score
// {"run_id"}: the model's p_model is written for the run's rows (results,
// exports and the labeling queue read it).
func (s *Server) handleModelScore(c *fiber.Ctx) error {
	me, err := s.modelEngine()
	if err != nil {
		return err
	}
	var req scoreRequest
	if c.Request().Header.ContentLength() != 0 {
		if err := readJSON(c, s.cfg.BodyLimit, &req, true); err != nil {
			return err
		}
	}
	in := engine.ScoreInput{Run: req.RunID, Dataset: req.Dataset, Model: param(c, "name") + "/" + param(c, "version")}
	ctx := c.UserContext()
	if started, err := s.startBackground(c, func(mj modelJobs) (*engine.Job, error) { return mj.StartScore(ctx, in) }); started || err != nil {
		return err
	}
	res, err := me.ScoreRun(ctx, in)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// handleRunAnomalies answers POST /api/runs/{id}/anomalies: both detectors
// score the run and anomaly_score appears in its results.
func (s *Server) handleRunAnomalies(c *fiber.Ctx) error {
	me, err := s.modelEngine()
	if err != nil {
		return err
	}
	in := engine.AnomalyInput{Run: param(c, "id")}
	ctx := c.UserContext()
	if started, err := s.startBackground(c, func(mj modelJobs) (*engine.Job, error) { return mj.StartAnomalies(ctx, in) }); started || err != nil {
		return err
	}
	res, err := me.DetectAnomalies(ctx, in)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
