//go:build warm

package main

import (
	_ "github.com/Masterminds/squirrel"
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/credentials"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/duckdb/duckdb-go/v2"
	_ "github.com/ebitengine/purego"
	_ "github.com/gofiber/fiber/v2"
	_ "github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/source/iofs"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/johannesboyne/gofakes3"
	_ "go.yaml.in/yaml/v3"
	_ "gonum.org/v1/gonum/mat"
)
