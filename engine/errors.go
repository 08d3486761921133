package engine

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"syscall"
)

// Code classifies an Error independently of any transport. The API maps each
// code to one HTTP status in api/errors.go; the CLI maps every code to a
// non-zero exit.
type Code string

// Error codes. Internal is the default for any error that is not an *Error.
const (
	Invalid      Code = "invalid_config"    // a config that fails validation (422)
	BadRequest   Code = "invalid_parameter" // bad parameters or input (400)
	Unauthorized Code = "unauthorized"      // missing token (401)
	Forbidden    Code = "forbidden"         // wrong token (403)
	NotFound     Code = "not_found"         // (404)
	Conflict     Code = "conflict"          // (409)
	TooLarge     Code = "too_large"         // (413)
	Timeout      Code = "timeout"           // (504)
	Internal     Code = "internal"          // (500)
	// Storage: the server cannot store what the request needs because its
	// disk is full or its data dir is read-only (507 Insufficient
	// Storage). It is a condition of the server, not of the request:
	// nothing was stored, and the same request succeeds once the operator
	// frees space.
	Storage Code = "insufficient_storage"
	// Upstream: a remote service the request named (an archive, a bucket's
	// store, an https:// server) failed or could not be reached (502 Bad
	// Gateway). The request itself may be fine; it may succeed later.
	Upstream Code = "upstream_unavailable"
	// Busy: the server has as much of this work waiting as it takes (429
	// Too Many Requests); the same request succeeds once some has ended.
	Busy Code = "too_many_requests"
)

// Detail is one item of an error's details list, for example one config
// problem with its file position or one rejected column.
type Detail struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error is the engine's domain error. Msg is a sentence a scientist
// understands and is safe to show to a client; Err is the cause, logged but
// never shown for Internal errors.
type Error struct {
	Code    Code
	Msg     string
	Err     error
	Details []Detail
}

// Error implements error.
func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Msg != "":
		return e.Msg + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause so errors.Is works on sentinel causes.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted user-facing message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message that keeps err as its cause.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, or Internal
// for any foreign error. A nil error has no code. An error caused by a full
// disk or a read-only data dir is Storage whatever it was wrapped as (its
// message stays): it is the server's condition, never the request's fault.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	if storageFault(err) != "" {
		return Storage
	}
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Code
	}
	if memoryFault(err) != "" {
		return TooLarge
	}
	if e != nil {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the user-facing message of err. Internal errors and
// foreign errors answer "internal error" so that no internals leak, except
// those caused by a full disk or a read-only data dir, which get a
// sentence.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != Internal && e.Msg != "" {
		return e.Msg
	}
	if msg := storageFault(err); msg != "" {
		return msg
	}
	if msg := memoryFault(err); msg != "" {
		return msg
	}
	return "internal error"
}

// duckMemoryFault matches DuckDB's out-of-memory error, which reaches Go
// as text: `Out of Memory Error: failed to allocate data of size 16.0 KiB
// (152.6 MiB/152.5 MiB used)`.
var duckMemoryFault = regexp.MustCompile(`Out of Memory Error: .*?\((\S+ \S+)/(\S+ \S+) used\)`)

// memoryFault explains an error caused by DuckDB's memory limit, or
// returns "". Like a full disk it is the server's condition: the same job
// succeeds under a higher limit.
func memoryFault(err error) string {
	m := duckMemoryFault.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	return "DuckDB ran out of memory: the job needed more than its memory limit of " + m[2] +
		". Raise --memory-limit (or EXOHUNTER_MEMORY_LIMIT), or lower --threads, then try again."
}

// duckStorageFault matches DuckDB's own write failures, which reach Go as
// text: `Could not write file "PATH": No space left on device`, `Cannot
// open file "PATH": Read-only file system` (or `: Permission denied`).
var duckStorageFault = regexp.MustCompile(`"[^"]*": (No space left on device|Disk quota exceeded|Read-only file system|Permission denied)`)

// storageFault explains an error caused by a full disk or a read-only
// filesystem, or returns "".
func storageFault(err error) string {
	var text string
	if m := duckStorageFault.FindStringSubmatch(err.Error()); m != nil {
		text = m[1]
	}
	switch {
	case strings.Contains(err.Error(), "max_temp_directory_size"):
		// note: DuckDB reports a full spill folder as "Out of Memory
		// Error: ... (18.0 MiB/18.0 MiB used)", the sizes being the
		// folder's free space, not the memory limit.
		return "The server's spill folder (--temp-dir, default DATA-DIR/tmp) is full: the work spilled more data than the free space there, so nothing was stored. Free some space there or point --temp-dir at a larger disk, then try again."
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), text == "No space left on device", text == "Disk quota exceeded":
		return "The server's disk is full (no free space left where it stores or spills data), so nothing was stored. Free some space, then try again."
	case errors.Is(err, syscall.EROFS), text == "Read-only file system":
		return "The server's data dir is read-only, so nothing was stored. Make it writable, then try again."
	case text == "Permission denied":
		// note: only DuckDB's text: the files DuckDB writes are the data
		// dir's; a Go EACCES may be a user's own unreadable file.
		return "The server may not write in its data dir (permission denied), so nothing was stored. Make the data dir writable for the user running ExoHunter, then try again."
	}
	return ""
}

// ErrorDetails returns the details list of the first *Error in err's chain,
// never nil.
func ErrorDetails(err error) []Detail {
	var e *Error
	if errors.As(err, &e) && e.Details != nil {
		return e.Details
	}
	return []Detail{}
}
