// Package remote fetches catalog files that live outside the machine into an
// io.Writer, so that the engine can store them in the raw store before DuckDB
// reads them.
//
// DuckDB's httpfs extension is not available offline, so every remote byte
// passes through this package instead: s3:// objects through aws-sdk-go-v2
// (AWS, MinIO, GCS interoperability and other S3-compatible stores), public
// gs:// objects over HTTPS, generic https:// and http:// URLs, and queries to
// the NASA Exoplanet Archive's TAP service.
//
// Downloads are streamed, never held whole in memory, and are bounded by
// Config.MaxBytes. Failures are *Error values whose Msg is a sentence a
// scientist can act on and whose cause is one of the Err* sentinels, so the
// engine maps them to HTTP codes with errors.Is. This package must not import
// the engine or DuckDB.
package remote
