// Package fault gives every service error a code, so that one table in internal/web can turn it
// into an HTTP status and a problem document, and services never speak HTTP.
package fault

import (
	"errors"
	"fmt"
)

// Code classifies an error by what the caller did wrong (or what went wrong for them).
type Code string

// The codes, each mapped to one HTTP status by internal/web.
const (
	Invalid       Code = "invalid"       // 400: malformed input
	Unauthorized  Code = "unauthorized"  // 401: no identity
	Forbidden     Code = "forbidden"     // 403: identity known, not allowed
	NotFound      Code = "not_found"     // 404: not found, or not the caller's
	Conflict      Code = "conflict"      // 409: clashes with the current state
	TooLarge      Code = "too_large"     // 413: body or file too large
	Unsupported   Code = "unsupported"   // 415: a body in a type the route does not read
	Unprocessable Code = "unprocessable" // 422: well-formed but breaks a business rule
	RateLimited   Code = "rate_limited"  // 429: slow down
	Unavailable   Code = "unavailable"   // 503: a dependency is down
	Internal      Code = "internal"      // 500: our fault
)

// FieldError names one bad field, and for files the line it is on (the header being line 1).
type FieldError struct {
	Field   string `json:"field"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Error is a coded error. Message is safe to show to the caller; the wrapped error is not.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns a coded error with a message formatted for the caller.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns a coded error that keeps err for logs and errors.Is.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Validation returns an Invalid error listing every bad field.
func Validation(message string, fields ...FieldError) *Error {
	return &Error{Code: Invalid, Message: message, Fields: fields}
}

// Field is shorthand for a FieldError without a line.
func Field(field, format string, args ...any) FieldError {
	return FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first coded error in err's chain, Internal otherwise.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// As returns the first coded error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Fields collects field errors; Err returns nil when there are none.
type Fields []FieldError

// Add records one bad field.
func (f *Fields) Add(field, format string, args ...any) {
	*f = append(*f, Field(field, format, args...))
}

// Err returns a Validation error with message when any field was added.
func (f Fields) Err(message string) error {
	if len(f) == 0 {
		return nil
	}
	return Validation(message, f...)
}

// Annotate prefixes a non-nil *errp with where it happened, keeping it for errors.Is, errors.As
// and its code: a service method's first line is `defer fault.Annotate(&err, "catalog.Listing(%d)",
// id)`, so that a logged 500 names its path. (After pkgsite's derrors.Wrap.)
func Annotate(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
