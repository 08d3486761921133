package engine

import (
	"database/sql"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"
)

func mustOpenPlainDuckDB(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// scanAll runs q and returns every row's values with the column types the
// driver reports.
func scanAll(tb testing.TB, db *sql.DB, q string) ([]string, []string, [][]any) {
	tb.Helper()
	rows, err := db.Query(q)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	names, _ := rows.Columns()
	cts, _ := rows.ColumnTypes()
	types := make([]string, len(cts))
	for i, ct := range cts {
		types[i] = ct.DatabaseTypeName()
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return names, types, out
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("json.Marshal(%#v): %v", v, err)
	}
	return string(b)
}

// TestJSONValue_AllTypes converts DuckDB's own test_all_types() (min, max
// and NULL of every type) and pins the JSON of each. time_ns is left out:
// the driver cannot scan it (the console casts such columns to text).
func TestJSONValue_AllTypes(t *testing.T) {
	db := mustOpenPlainDuckDB(t)
	names, types, rows := scanAll(t, db, "SELECT * EXCLUDE (time_ns) FROM test_all_types()")
	want := []struct{ name, min, max string }{
		{"bool", `false`, `true`},
		{"tinyint", `-128`, `127`},
		{"smallint", `-32768`, `32767`},
		{"int", `-2147483648`, `2147483647`},
		{"bigint", `-9223372036854775808`, `9223372036854775807`},
		{"hugeint", `"-170141183460469231731687303715884105728"`, `"170141183460469231731687303715884105727"`},
		{"uhugeint", `"0"`, `"340282366920938463463374607431768211455"`},
		{"utinyint", `0`, `255`},
		{"usmallint", `0`, `65535`},
		{"uint", `0`, `4294967295`},
		{"ubigint", `"0"`, `"18446744073709551615"`},
		{"date", `null`, `null`},
		{"time", `"00:00:00"`, `"00:00:00"`},
		{"timestamp", `null`, `null`},
		{"timestamp_s", `null`, `null`},
		{"timestamp_ms", `null`, `null`},
		{"timestamp_ns", `"1677-09-22T00:00:00Z"`, `"2262-04-11T23:47:16.854775806Z"`},
		{"time_tz", `"00:00:00+15:59"`, `"24:00:00-15:59"`},
		{"timestamp_tz", `null`, `null`},
		{"float", `-3.4028235e+38`, `3.4028235e+38`},
		{"double", `-1.7976931348623157e+308`, `1.7976931348623157e+308`},
		{"dec_4_1", `-999.9`, `999.9`},
		{"dec_9_4", `-99999.9999`, `99999.9999`},
		{"dec_18_6", `-999999999999.999999`, `999999999999.999999`},
		{"dec38_10", `-9999999999999999999999999999.9999999999`, `9999999999999999999999999999.9999999999`},
		{"uuid", `"00000000-0000-0000-0000-000000000000"`, `"ffffffff-ffff-ffff-ffff-ffffffffffff"`},
		{"interval", `"PT0S"`, `"P83Y3M999DT16M39.999999S"`},
		{"varchar", `"🦆🦆🦆🦆🦆🦆"`, `"goo\u0000se"`},
		{"blob", `"dGhpc2lzYWxvbmdibG9iAHdpdGhudWxsYnl0ZXM="`, `"AAAAYQ=="`},
		{"bit", `"0010001001011100010101011010111"`, `"10101"`},
		{"small_enum", `"DUCK_DUCK_ENUM"`, `"GOOSE"`},
		{"medium_enum", `"enum_0"`, `"enum_299"`},
		{"large_enum", `"enum_0"`, `"enum_69999"`},
		{"int_array", `[]`, `[42,999,null,null,-42]`},
		{"double_array", `[]`, `[42,null,null,null,null,-42]`},
		{"date_array", `[]`, `["1970-01-01",null,null,null,"2022-05-12"]`},
		{"timestamp_array", `[]`, `["1970-01-01T00:00:00Z",null,null,null,"2022-05-12T16:23:45Z"]`},
		{"timestamptz_array", `[]`, `["1970-01-01T00:00:00Z",null,null,null,"2022-05-12T23:23:45Z"]`},
		{"varchar_array", `[]`, `["🦆🦆🦆🦆🦆🦆","goose",null,""]`},
		{"nested_int_array", `[]`, `[[],[42,999,null,null,-42],null,[],[42,999,null,null,-42]]`},
		{"struct", `{"a":null,"b":null}`, `{"a":42,"b":"🦆🦆🦆🦆🦆🦆"}`},
		{"struct_of_arrays", `{"a":null,"b":null}`, `{"a":[42,999,null,null,-42],"b":["🦆🦆🦆🦆🦆🦆","goose",null,""]}`},
		{"array_of_structs", `[]`, `[{"a":null,"b":null},{"a":42,"b":"🦆🦆🦆🦆🦆🦆"},null]`},
		{"map", `{}`, `{"key1":"🦆🦆🦆🦆🦆🦆","key2":"goose"}`},
		{"union", `"Frank"`, `5`},
		{"fixed_int_array", `[null,2,3]`, `[4,5,6]`},
		{"fixed_varchar_array", `["a",null,"c"]`, `["d","e","f"]`},
		{"fixed_nested_int_array", `[[null,2,3],null,[null,2,3]]`, `[[4,5,6],[null,2,3],[4,5,6]]`},
		{"fixed_nested_varchar_array", `[["a",null,"c"],null,["a",null,"c"]]`, `[["d","e","f"],["a",null,"c"],["d","e","f"]]`},
		{"fixed_struct_array", `[{"a":null,"b":null},{"a":42,"b":"🦆🦆🦆🦆🦆🦆"},{"a":null,"b":null}]`, `[{"a":42,"b":"🦆🦆🦆🦆🦆🦆"},{"a":null,"b":null},{"a":42,"b":"🦆🦆🦆🦆🦆🦆"}]`},
		{"struct_of_fixed_array", `{"a":[null,2,3],"b":["a",null,"c"]}`, `{"a":[4,5,6],"b":["d","e","f"]}`},
		{"fixed_array_of_int_list", `[[],[42,999,null,null,-42],[]]`, `[[42,999,null,null,-42],[],[42,999,null,null,-42]]`},
		{"list_of_fixed_int_array", `[[null,2,3],[4,5,6],[null,2,3]]`, `[[4,5,6],[null,2,3],[4,5,6]]`},
	}
	got := map[string][3]string{}
	for i, n := range names {
		var g [3]string
		for r := range rows {
			g[r] = mustJSON(t, JSONValue(rows[r][i], types[i]))
		}
		got[n] = g
	}
	for _, w := range want {
		t.Run(w.name, func(t *testing.T) {
			g, ok := got[w.name]
			if !ok {
				t.Fatalf("no column %s", w.name)
			}
			if diff := cmp.Diff([3]string{w.min, w.max, "null"}, g); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
		})
	}
	for _, n := range []string{"bignum", "geometry"} {
		if g := got[n]; !strings.HasPrefix(g[0], `"`) || g[2] != "null" {
			t.Errorf("%s = %v, want strings and null", n, g)
		}
	}
}

func TestJSONValue_Values(t *testing.T) {
	db := mustOpenPlainDuckDB(t)
	tests := []struct {
		name, sql, want string
	}{
		{"nan and inf", "SELECT 'NaN'::DOUBLE, 'inf'::DOUBLE, '-inf'::FLOAT, 0.0/0, 1.0/0", `[null,null,null,null,null]`},
		{"nan inside nested", "SELECT ['NaN'::DOUBLE, 1.5], {'x': 'inf'::DOUBLE}, MAP {'k': 'NaN'::FLOAT}", `[[null,1.5],{"x":null},{"k":null}]`},
		{"float keeps its digits", "SELECT 0.1::FLOAT, 1e-7::FLOAT, 3.4e38::FLOAT", `[0.1,1e-07,3.4e+38]`},
		{"decimal is a number", "SELECT 1.50::DECIMAL(5,2), -0.001::DECIMAL(10,3), 0::DECIMAL(4,1), 12345678901234567890.123456789::DECIMAL(38,9)", `[1.5,-0.001,0,12345678901234567890.123456789]`},
		{"big integers are strings", "SELECT 170141183460469231731687303715884105727::HUGEINT, 18446744073709551615::UBIGINT, 1::UHUGEINT, 9007199254740993::BIGINT", `["170141183460469231731687303715884105727","18446744073709551615","1",9007199254740993]`},
		{"dates and times", "SELECT DATE '2024-02-29', TIME '13:14:15.5', TIMESTAMP '2024-02-29 13:14:15.123456', TIMESTAMPTZ '2024-02-29 13:14:15+02', TIMETZ '13:14:15+05:30', '2024-01-02 03:04:05.123456789'::TIMESTAMP_NS, TIMESTAMP_S '2024-01-02 03:04:05'",
			`["2024-02-29","13:14:15.5","2024-02-29T13:14:15.123456Z","2024-02-29T11:14:15Z","13:14:15+05:30","2024-01-02T03:04:05.123456789Z","2024-01-02T03:04:05Z"]`},
		{"intervals", "SELECT INTERVAL '1 year 2 months 3 days 04:05:06.789', INTERVAL '-2 days', INTERVAL '90 minutes', INTERVAL '0 seconds', INTERVAL '-1 month 1 day'",
			`["P1Y2M3DT4H5M6.789S","P-2D","PT1H30M","PT0S","P-1M1D"]`},
		{"uuid and blob", "SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID, '\\x00\\xFFab'::BLOB", `["6ba7b810-9dad-11d1-80b4-00c04fd430c8","AP9hYg=="]`},
		{"infinite dates and times are null", "SELECT DATE 'infinity', DATE '-infinity', TIMESTAMP 'infinity', TIMESTAMP '-infinity', TIMESTAMPTZ 'infinity', [DATE 'infinity']", `[null,null,null,null,null,[null]]`},
		{"years of four digits stay", "SELECT DATE '0001-01-01', DATE '9999-12-31'", `["0001-01-01","9999-12-31"]`},
		{"map keeps order and stringifies keys", "SELECT MAP {3: 'c', 1: 'a'}, MAP {DATE '2024-01-01': 1}", `[{"3":"c","1":"a"},{"2024-01-01":1}]`},
		{"struct keeps field order", "SELECT {'z': 1, 'a': [DATE '2024-01-01'], 'm b': {'q': TIME '01:02:03'}}", `[{"z":1,"a":["2024-01-01"],"m b":{"q":"01:02:03"}}]`},
		{"union", "SELECT union_value(d := DATE '2024-01-01')::UNION(d DATE, n INTEGER)", `["2024-01-01"]`},
		{"enum and bit", "SELECT 'b'::ENUM('a', 'b'), '0101'::BIT", `["b","0101"]`},
		{"json column", `SELECT '{"a": [1, 2.5, null]}'::JSON`, `[{"a":[1,2.5,null]}]`},
		{"list of uuids and blobs", "SELECT ['6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID], ['ab'::BLOB]", `[["6ba7b810-9dad-11d1-80b4-00c04fd430c8"],["YWI="]]`},
		{"html stays text", "SELECT '<b>&</b>'", `["\u003cb\u003e\u0026\u003c/b\u003e"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, types, rows := scanAll(t, db, tc.sql)
			out := make([]any, len(types))
			for i := range types {
				out[i] = JSONValue(rows[0][i], types[i])
			}
			if got := mustJSON(t, out); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestJSONValue_GoTypesWithoutDBType(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, `null`},
		{"nan", math.NaN(), `null`},
		{"inf32", float32(math.Inf(1)), `null`},
		{"uint64", uint64(math.MaxUint64), `"18446744073709551615"`},
		{"time", time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), `"2024-01-02T02:04:05Z"`},
		{"bytes", []byte("hi"), `"aGk="`},
		{"interval", duckdb.Interval{Months: 13, Days: 1, Micros: 1_500_000}, `"P1Y1M1DT1.5S"`},
		{"list with nan", []any{1.0, math.Inf(-1)}, `[1,null]`},
		{"map sorted", map[string]any{"b": 1, "a": math.NaN()}, `{"a":null,"b":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustJSON(t, JSONValue(tc.in, "")); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCSVCell(t *testing.T) {
	db := mustOpenPlainDuckDB(t)
	_, types, rows := scanAll(t, db, `SELECT NULL::INTEGER, 'NaN'::DOUBLE, 2.5::DOUBLE, 1.50::DECIMAL(5,2), true,
		'a,"b"', [1, 2], {'k': 'v'}, DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00', 'ab'::BLOB, 18446744073709551615::UBIGINT, -5`)
	var got []string
	for i := range types {
		got = append(got, CSVCell(rows[0][i], types[i]))
	}
	want := []string{"", "", "2.5", "1.5", "true", `a,"b"`, "[1,2]", `{"k":"v"}`, "2024-01-01", "2024-01-01T10:00:00Z", "YWI=", "18446744073709551615", "-5"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
}

func TestSpreadsheetSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1", "'+1"}, {"-1", "'-1"}, {"@SUM(A1)", "'@SUM(A1)"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{"", ""}, {"Kepler-22 b", "Kepler-22 b"}, {"a=b", "a=b"},
	}
	for _, tc := range tests {
		if got := SpreadsheetSafe(tc.in); got != tc.want {
			t.Errorf("SpreadsheetSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
