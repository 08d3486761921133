package engine

import (
	"encoding/json"
	"math"
	"strconv"
)

// Limits on one value a console query may build from constants. DuckDB
// allocates lists and strings outside its buffer manager, so neither the
// memory limit nor the time limit stops them: SELECT range(1e9) was killed
// by the kernel at 24 GB, range(1e8) took 10 GB and 30 s against a 5 s
// limit, lpad('x', 2e9, 'y') 18 s. Rows are the way to have many values
// (FROM range(1e9) streams, and the time limit interrupts it).
const (
	consoleMaxListValues = 1_000_000
	consoleMaxTextBytes  = 16 << 20
)

// consoleCheckSize refuses a scalar function call that could ask for a
// list or a text beyond the limits. A size must be a constant, or bounded
// by one (least(n, 1000)): one that comes from the data is refused too,
// since SELECT range(kepid) FROM raw.koi asks for 10^11 values, and
// repeat('*', koi_prad::INT) for a gigabyte, past every limit DuckDB has.
func consoleCheckSize(m map[string]any) error {
	name := consoleFunctionName(m)
	args, _ := m["children"].([]any)
	arg := func(i int) (float64, bool) {
		if i >= len(args) {
			return 0, false
		}
		return consoleConstant(args[i])
	}
	bound := func(i int) (float64, bool) {
		if i >= len(args) {
			return 0, false
		}
		return consoleBound(args[i])
	}
	switch name {
	case "range", "generate_series":
		start, stop, step := 0.0, 0.0, 1.0
		ok := true
		switch len(args) {
		case 1:
			stop, ok = bound(0)
		case 2, 3:
			var ok1, ok2, ok3 bool
			start, ok1 = arg(0)
			stop, ok2 = arg(1)
			ok3 = true
			if len(args) == 3 {
				step, ok3 = arg(2)
			}
			ok = ok1 && ok2 && ok3
		default:
			return nil
		}
		if !ok {
			return Errorf(BadRequest, "%s(...) here takes its size from the data, which could build a list of any length in one cell; give it constant bounds (at most %d values), or use rows: SELECT ... FROM t, range(...) AS r(i)", name, consoleMaxListValues)
		}
		if n := math.Abs((stop - start) / step); step != 0 && n > consoleMaxListValues {
			return Errorf(BadRequest, "%s(...) here would build a list of %.3g values in one cell; the console allows %d. For many values, use rows: SELECT * FROM range(...)", name, n, consoleMaxListValues)
		}
	case "list_resize", "array_resize":
		n, ok := bound(1)
		if !ok {
			return Errorf(BadRequest, "%s(...) here takes its size from the data; give it a constant size, or a bounded one such as least(n, 1000) (at most %d)", name, consoleMaxListValues)
		}
		if n > consoleMaxListValues {
			return Errorf(BadRequest, "%s(...) here would build a list of %.3g values in one cell; the console allows %d", name, n, consoleMaxListValues)
		}
	case "repeat", "lpad", "rpad":
		n, ok := bound(1)
		if !ok {
			return Errorf(BadRequest, "%s(...) here takes its count from the data; bound it, e.g. %s(x, least(n, 100)), or draw bars with bar(x, min, max, width) (at most %d)", name, name, consoleMaxTextBytes)
		}
		if n > consoleMaxTextBytes {
			return Errorf(BadRequest, "%s(...) here would build a value of %.3g characters or items in one cell; the console allows %d", name, n, consoleMaxTextBytes)
		}
	}
	return nil
}

// consoleBound is an upper bound of a number in the serialized tree: a
// constant (consoleConstant), a cast of a bounded value, or least(...)
// with at least one bounded argument.
func consoleBound(v any) (float64, bool) {
	if c, ok := consoleConstant(v); ok {
		return c, true
	}
	m, _ := v.(map[string]any)
	switch m["class"] {
	case "CAST":
		return consoleBound(m["child"])
	case "FUNCTION":
		if consoleFunctionName(m) != "least" {
			return 0, false
		}
		kids, _ := m["children"].([]any)
		best, found := math.Inf(1), false
		for _, k := range kids {
			if b, ok := consoleBound(k); ok {
				best, found = math.Min(best, b), true
			}
		}
		return best, found
	}
	return 0, false
}

// consoleConstant evaluates a constant number of the serialized tree: a
// literal, a cast of one, or + - * / ^ of them.
func consoleConstant(v any) (float64, bool) {
	m, _ := v.(map[string]any)
	switch m["class"] {
	case "CONSTANT":
		val, _ := m["value"].(map[string]any)
		switch x := val["value"].(type) {
		case json.Number:
			f, err := x.Float64()
			return f, err == nil
		case string:
			f, err := strconv.ParseFloat(x, 64)
			return f, err == nil
		}
	case "CAST":
		return consoleConstant(m["child"])
	case "FUNCTION":
		kids, _ := m["children"].([]any)
		if len(kids) == 1 && consoleFunctionName(m) == "-" {
			a, ok := consoleConstant(kids[0])
			return -a, ok
		}
		if len(kids) != 2 {
			return 0, false
		}
		a, ok1 := consoleConstant(kids[0])
		b, ok2 := consoleConstant(kids[1])
		if !ok1 || !ok2 {
			return 0, false
		}
		switch consoleFunctionName(m) {
		case "+":
			return a + b, true
		case "-":
			return a - b, true
		case "*":
			return a * b, true
		case "/", "//":
			return a / b, b != 0
		case "^", "**", "pow", "power":
			return math.Pow(a, b), true
		}
	}
	return 0, false
}
