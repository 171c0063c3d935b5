package act

import (
	"reflect"
	"runtime"
	"strings"
)

// Name derives an activity type name from a function or method value: the
// last element of its qualified name, without the package path, receiver,
// generic type arguments or the "-fm" suffix of method values. Both
// pkg.ChargeCard and (*pkg.Billing).ChargeCard bound to a value are named
// "ChargeCard". Workers use it at registration and workflows at call sites,
// so both sides agree without spelling the name out.
//
// Anonymous functions get names like "func1" that change as code around them
// changes; register them under an explicit name instead. Name returns ""
// for nil and for values that are not functions.
func Name(fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return ""
	}
	f := runtime.FuncForPC(v.Pointer())
	if f == nil {
		return ""
	}
	name := f.Name()
	// Generic instantiations print as "pkg.Fn[...]"; drop the arguments
	// first, since they may contain dots.
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	name = strings.TrimSuffix(name, "-fm")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return name
}
