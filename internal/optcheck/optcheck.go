// Package optcheck builds the errors of invalid options, shared by the
// public packages that validate them (sdk/client, sdk/worker,
// sdk/workflow), so a caller matches any of them with one sentinel.
package optcheck

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidOption is the sentinel every invalid-option error wraps; the
// public packages export it as their ErrInvalidOption.
var ErrInvalidOption = errors.New("invalid option")

// Invalid returns an error wrapping ErrInvalidOption that names the option
// and the value it was given, and says what the value must be.
func Invalid(option string, value any, must string) error {
	switch v := value.(type) {
	case string:
		value = fmt.Sprintf("%q", v)
	case nil:
		value = "nil"
	}
	return fmt.Errorf("%w: %s = %v: %s", ErrInvalidOption, option, value, must)
}

// AtLeast1 checks a count that must be positive.
func AtLeast1[N int | int64](option string, n N) error {
	if n < 1 {
		return Invalid(option, n, "must be at least 1")
	}
	return nil
}

// Positive checks a duration that must be greater than zero.
func Positive(option string, d time.Duration) error {
	if d <= 0 {
		return Invalid(option, d, "must be positive")
	}
	return nil
}

// NotNegative checks a duration where zero means "not set".
func NotNegative(option string, d time.Duration) error {
	if d < 0 {
		return Invalid(option, d, "must not be negative (0 means not set)")
	}
	return nil
}
