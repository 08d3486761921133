package engine

import (
	"errors"
	"fmt"
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
// for any foreign error. A nil error has no code.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the user-facing message of err. Internal errors and
// foreign errors answer "internal error" so that no internals leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal && e.Msg != "" {
		return e.Msg
	}
	return "internal error"
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
