package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
)

// DecodeJSON reads the request's JSON body into v, strictly: the Content-Type must be
// application/json (or a +json type), the body one JSON value and nothing after it, and every
// field in it one of v's. Returns fault.Unsupported for another Content-Type, fault.TooLarge
// for a body over the route's limit, and fault.Invalid naming the problem (and the field, when
// there is one) for everything else.
func DecodeJSON(c echo.Context, v any) error {
	if err := requireJSON(c.Request().Header.Get(echo.HeaderContentType)); err != nil {
		return err
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	// One value only: "{...}{...}" or "{...} trailing" is not a request anyone meant to send.
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return fault.Validation("the body holds more than one JSON value; send one")
	default:
		if e := jsonError(err); fault.CodeOf(e) == fault.TooLarge {
			return e
		}
		return fault.Wrap(fault.Invalid, err, "the body has something after its JSON value; send one value only")
	}
}

// requireJSON accepts application/json and the structured +json types, with any parameters.
func requireJSON(contentType string) error {
	if contentType == "" {
		return fault.New(fault.Unsupported, "the body has no Content-Type; send it as application/json")
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fault.Wrap(fault.Unsupported, err, "the Content-Type %q cannot be read; send application/json", contentType)
	}
	if mt == echo.MIMEApplicationJSON || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return fault.New(fault.Unsupported, "the body is %s; this route reads application/json", mt)
}

// jsonError turns a decoding error into a coded one that names what is wrong.
func jsonError(err error) error {
	var (
		maxErr    *http.MaxBytesError
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &maxErr):
		return fault.Wrap(fault.TooLarge, err, "the request body is larger than %d bytes", maxErr.Limit)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fault.Validation("the body must be a JSON " + jsonKind(typeErr.Type))
		}
		return fault.Validation("the body is not valid", fault.Field(typeErr.Field, "must be a %s", jsonKind(typeErr.Type)))
	case errors.As(err, &syntaxErr):
		return fault.Wrap(fault.Invalid, err, "the body is not valid JSON: %s (at byte %d)", syntaxErr.Error(), syntaxErr.Offset)
	case errors.Is(err, io.EOF):
		return fault.Validation("the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fault.Wrap(fault.Invalid, err, "the body is not valid JSON: it ends in the middle of a value")
	}
	// encoding/json has no type for an unknown field; its message is the only way to tell.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fault.Validation("the body is not valid", fault.Field(strings.Trim(name, `"`), "is not a field of this request"))
	}
	// A type's own UnmarshalJSON (a date, a money amount) explains itself.
	return fault.Wrap(fault.Invalid, err, "the body is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go type as a JSON caller knows it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "whole number"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "JSON " + t.String()
}
