package spec

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Column roles decide how the normalized view builds a canonical column.
const (
	RoleID          = "id"           // VARCHAR, read as text (object_id, star_id)
	RoleDisposition = "disposition"  // VARCHAR mapped through Values
	RoleDefaultFlag = "default_flag" // BOOLEAN, Default when absent
	RoleMeasure     = "measure"      // DOUBLE, TRY_CAST and unit conversion
	RoleFlag        = "flag"         // BOOLEAN read from 0/1 or true/false, NULL when absent
	RoleMission     = "mission"      // VARCHAR, the detected mission itself; never read from the file
)

// Canonical dispositions, the only values koi_disposition may take besides NULL.
const (
	Confirmed     = "CONFIRMED"
	Candidate     = "CANDIDATE"
	FalsePositive = "FALSE POSITIVE"
)

// GenericMission is the fallback mission: its aliases are tried after the
// detected mission's own, for every mission.
const GenericMission = "generic"

// Columns is schemas/columns.yaml: the canonical KOI-standard columns, their
// aliases per mission, unit conversions and value maps, and the missions with
// the column signatures that detect them.
type Columns struct {
	Version  int       `yaml:"version"`
	Missions []Mission `yaml:"missions"`
	Columns  []Column  `yaml:"columns"`

	// Reserved holds the names that later pipeline stages add (metrics,
	// provenance, flags, categories, classification outputs). Load fills
	// it so that the mapper never passes a source column through under
	// one of these names.
	Reserved []string `yaml:"-"`

	src *source
}

// Mission is a catalog kind recognised by its column signature.
type Mission struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Requires lists source columns (normalized names) that must all be
	// present. Missions are tried in YAML order; generic comes last.
	Requires []string `yaml:"requires"`
	// Like names a mission whose aliases, source units and constants apply
	// when this mission declares none of its own for a column.
	Like string `yaml:"like"`
}

// Column is one canonical column.
type Column struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"` // VARCHAR | DOUBLE | BOOLEAN
	Role        string `yaml:"role"` // see Role constants; default measure
	Unit        string `yaml:"unit"`
	Description string `yaml:"description"`
	// Errors says the column has <name>_err1 (+) and <name>_err2 (−)
	// companions, found next to the source column that wins.
	Errors bool `yaml:"errors"`
	// Limits says the column has a <name>_lim companion, the archive's
	// <alias>lim next to the source column that wins: 1 when the value is
	// an upper limit, -1 a lower limit, 0 a measurement. A limit is not a
	// measurement, and the rules flag rows whose values are limits.
	Limits bool `yaml:"limits"`
	// Aliases per mission, in priority order. The canonical name itself
	// is tried after the mission's aliases and before the generic ones.
	Aliases map[string][]string `yaml:"aliases"`
	// Units converts a source unit into this column's unit:
	// canonical = source*factor + offset (errors get the factor only).
	Units map[string]Conversion `yaml:"units"`
	// SourceUnits names the unit each mission stores this column in; a
	// mission not listed stores it in Unit.
	SourceUnits map[string]string `yaml:"source_units"`
	// Values maps source values (upper-cased, trimmed) to canonical values.
	Values map[string]string `yaml:"values"`
	// Constant gives the value per mission when no source column maps,
	// e.g. pscomppars rows are all CONFIRMED.
	Constant map[string]string `yaml:"constant"`
	// Default is the value of a default_flag column when the source has none.
	Default *bool `yaml:"default"`
	// Fallback "row_id" makes a missing id the row number as text.
	Fallback string `yaml:"fallback"`
}

// Conversion is a linear unit conversion into the canonical unit.
type Conversion struct {
	Factor float64 `yaml:"factor"`
	Offset float64 `yaml:"offset"`
}

// ErrorNames returns the names of the column's error companions, or nil.
func (c *Column) ErrorNames() []string {
	if !c.Errors {
		return nil
	}
	return []string{c.Name + "_err1", c.Name + "_err2"}
}

// LimitName returns the name of the column's limit companion, or "".
func (c *Column) LimitName() string {
	if !c.Limits {
		return ""
	}
	return c.Name + "_lim"
}

// Companions returns the names the column adds beside its own: error
// companions, then the limit companion.
func (c *Column) Companions() []string {
	out := c.ErrorNames()
	if n := c.LimitName(); n != "" {
		out = append(out, n)
	}
	return out
}

// Mission returns the named mission.
func (cs *Columns) Mission(name string) (*Mission, bool) {
	for i := range cs.Missions {
		if cs.Missions[i].Name == name {
			return &cs.Missions[i], true
		}
	}
	return nil, false
}

// Column returns the named canonical column (not error companions).
func (cs *Columns) Column(name string) (*Column, bool) {
	for i := range cs.Columns {
		if cs.Columns[i].Name == name {
			return &cs.Columns[i], true
		}
	}
	return nil, false
}

// Lineage returns the mission followed by the missions it is Like, nearest
// first, so lookups fall back along it.
func (cs *Columns) Lineage(mission string) []string {
	var out []string
	for m, ok := cs.Mission(mission); ok && !slices.Contains(out, m.Name); m, ok = cs.Mission(m.Like) {
		out = append(out, m.Name)
	}
	return out
}

// OutputNames returns the normalized view's canonical columns in order:
// row_id, then each column followed by its companions (Companions).
func (cs *Columns) OutputNames() []string {
	out := []string{"row_id"}
	for i := range cs.Columns {
		out = append(out, cs.Columns[i].Name)
		out = append(out, cs.Columns[i].Companions()...)
	}
	return out
}

// ParseColumns reads and validates a columns file on its own.
func ParseColumns(r io.Reader, filename string) (*Columns, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	c, errs := parseColumns(data, filename)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// parseColumns decodes, normalizes and validates.
func parseColumns(data []byte, file string) (*Columns, Errors) {
	c := &Columns{src: newSource(file, data)}
	errs, fatal := c.src.decodeStrict(data, c)
	if fatal {
		return nil, errs
	}
	c.normalize()
	return c, append(errs, c.validate()...)
}

// normalize fills defaults: role measure, type DOUBLE for measures.
func (cs *Columns) normalize() {
	for i := range cs.Columns {
		c := &cs.Columns[i]
		if c.Role == "" {
			c.Role = RoleMeasure
		}
		if c.Type == "" && c.Role == RoleMeasure {
			c.Type = "DOUBLE"
		}
		c.Type = strings.ToUpper(c.Type)
	}
}

// identRe is the shape of every name the configs define.
var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// validate checks the columns file on its own, collecting every problem.
func (cs *Columns) validate() Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, cs.src.errorf(path, err)) }
	if cs.Version != 1 {
		add("version", errf(ErrInvalidValue, "%d (want 1)", cs.Version))
	}
	errs = append(errs, cs.validateMissions()...)
	seen := map[string]bool{}
	for i := range cs.Columns {
		c := &cs.Columns[i]
		p := fmt.Sprintf("columns[%d]", i)
		switch {
		case !identRe.MatchString(c.Name):
			add(p+".name", errf(ErrInvalidName, "%q", c.Name))
		case seen[c.Name]:
			add(p+".name", errf(ErrDuplicateName, "%q", c.Name))
		}
		seen[c.Name] = true
		for _, n := range c.Companions() {
			seen[n] = true
		}
		errs = append(errs, cs.validateColumn(c, p)...)
	}
	errs = append(errs, cs.validateAliasCollisions()...)
	for _, need := range []struct{ name, role string }{
		{"object_id", RoleID}, {"star_id", RoleID},
		{"koi_disposition", RoleDisposition}, {"is_default", RoleDefaultFlag},
	} {
		if c, ok := cs.Column(need.name); !ok || c.Role != need.role {
			add("columns", errf(ErrContract, "(column %q with role %s is required)", need.name, need.role))
		}
	}
	return errs
}

// validateAliasCollisions refuses a source name that two canonical columns
// would both read for one mission (DESIGN.md: collisions are reported). The
// mapper gives a source column to the first canonical column in the file
// that names it, so the later one silently stays empty: koi_prad with the
// alias koi_srad took the stellar radius, and koi_srad was NULL in every
// row. The candidates per mission are the mapper's: the mission's aliases
// (or those of the mission it is like), the canonical name, the generic
// aliases.
func (cs *Columns) validateAliasCollisions() Errors {
	type claim = aliasClaim
	type clash struct {
		blame, other claim
		name         string
		missions     []string
	}
	var clashes []*clash
	byKey := map[string]*clash{}
	for _, m := range cs.Missions {
		lineage := cs.Lineage(m.Name)
		owner := map[string]claim{}
		for i := range cs.Columns {
			c := &cs.Columns[i]
			if c.Role == RoleMission {
				continue // never read from the file
			}
			p := fmt.Sprintf("columns[%d]", i)
			seen := map[string]bool{}
			take := func(name string, cl claim) {
				n := NormalizeName(name)
				// note: an alias the contract refuses (kepid for
				// object_id) is reported as such, not again as a clash.
				if n == "" || seen[n] || cl.path != "" && contractAlias(c.Name, name) != "" {
					return
				}
				seen[n] = true
				first, ok := owner[n]
				if !ok {
					owner[n] = cl
					return
				}
				// note: blame the alias that is not its own column's
				// name (koi_prad's koi_srad, not koi_srad's), else the
				// later column's; the message names both either way.
				blame, other := cl, first
				if cs.ownName(cl, n) && !cs.ownName(first, n) {
					blame, other = first, cl
				}
				if blame.path == "" {
					return // two columns of one name: reported as a duplicate name
				}
				key := blame.path + "|" + other.path + "|" + strconv.Itoa(other.col)
				if byKey[key] == nil {
					byKey[key] = &clash{blame: blame, other: other, name: name}
					clashes = append(clashes, byKey[key])
				}
				byKey[key].missions = append(byKey[key].missions, m.Name)
			}
			for _, l := range lineage {
				if as, ok := c.Aliases[l]; ok {
					for j, a := range as {
						take(a, claim{i, fmt.Sprintf("%s.aliases.%s[%d]", p, l, j)})
					}
					break
				}
			}
			take(c.Name, claim{i, ""})
			for j, a := range c.Aliases[GenericMission] {
				take(a, claim{i, fmt.Sprintf("%s.aliases.%s[%d]", p, GenericMission, j)})
			}
		}
	}
	var errs Errors
	for _, cl := range clashes {
		blamed, other := cs.Columns[cl.blame.col].Name, cs.Columns[cl.other.col].Name
		also := fmt.Sprintf("the name of column %s", other)
		at := cs.src.at(fmt.Sprintf("columns[%d].name", cl.other.col))
		if cl.other.path != "" && !cs.ownName(cl.other, NormalizeName(cl.name)) {
			also = fmt.Sprintf("an alias of column %s", other)
			at = cs.src.at(cl.other.path)
		}
		first, later := blamed, other
		if cl.other.col < cl.blame.col {
			first, later = other, blamed
		}
		errs = append(errs, cs.src.errorf(cl.blame.path, errf(ErrDuplicateName,
			"%q: this alias of %s is also %s (line %d). A source column feeds one canonical column only: in %s tables %s, earlier in the file, takes it and %s is left without it; keep the name in one column only",
			cl.name, blamed, also, at.line, strings.Join(cl.missions, ", "), first, later)))
	}
	return errs
}

// aliasClaim is a canonical column (its index) reading a source name
// through an alias (its path) or its own name (path "").
type aliasClaim struct {
	col  int
	path string
}

// ownName reports whether the claimed name n is the claiming column's own
// name (as canonical name or as an alias spelling it).
func (cs *Columns) ownName(cl aliasClaim, n string) bool {
	return NormalizeName(cs.Columns[cl.col].Name) == n
}

// validateMissions checks names, Like references and the generic fallback.
func (cs *Columns) validateMissions() Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, cs.src.errorf(path, err)) }
	seen := map[string]bool{}
	for i, m := range cs.Missions {
		p := fmt.Sprintf("missions[%d]", i)
		switch {
		case !identRe.MatchString(m.Name):
			add(p+".name", errf(ErrInvalidName, "%q", m.Name))
		case seen[m.Name]:
			add(p+".name", errf(ErrDuplicateName, "%q", m.Name))
		}
		seen[m.Name] = true
		if m.Like != "" {
			if _, ok := cs.Mission(m.Like); !ok || m.Like == m.Name {
				add(p+".like", errf(ErrUnknownMission, "%q", m.Like))
			}
		}
		if m.Name != GenericMission && len(m.Requires) == 0 {
			add(p+".requires", errf(ErrMissingKey, "(a mission needs a column signature)"))
		}
	}
	last := len(cs.Missions) - 1
	if last < 0 || cs.Missions[last].Name != GenericMission || len(cs.Missions[last].Requires) > 0 {
		add("missions", errf(ErrContract, "(the last mission must be %q with no requires)", GenericMission))
	}
	return errs
}

// validateColumn checks one column's type, role, aliases, units and values.
func (cs *Columns) validateColumn(c *Column, p string) Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, cs.src.errorf(path, err)) }
	wantType := map[string]string{RoleID: "VARCHAR", RoleDisposition: "VARCHAR", RoleDefaultFlag: "BOOLEAN", RoleMeasure: "DOUBLE", RoleFlag: "BOOLEAN", RoleMission: "VARCHAR"}
	if want, ok := wantType[c.Role]; !ok {
		add(p+".role", errf(ErrInvalidValue, "%q (want id, disposition, default_flag, measure, flag or mission)", c.Role))
	} else if c.Type != want {
		add(p+".type", errf(ErrInvalidValue, "%q (role %s needs %s)", c.Type, c.Role, want))
	}
	for _, mission := range sortedKeys(c.Aliases) {
		if _, ok := cs.Mission(mission); !ok {
			add(p+".aliases."+mission, errf(ErrUnknownMission, "%q", mission))
		}
		for j, a := range c.Aliases[mission] {
			ap := fmt.Sprintf("%s.aliases.%s[%d]", p, mission, j)
			if strings.TrimSpace(a) == "" {
				add(ap, errf(ErrInvalidName, "(empty alias)"))
			}
			if bad := contractAlias(c.Name, a); bad != "" {
				add(ap, errf(ErrContract, "(%s)", bad))
			}
		}
	}
	for _, mission := range sortedKeys(c.SourceUnits) {
		if _, ok := cs.Mission(mission); !ok {
			add(p+".source_units."+mission, errf(ErrUnknownMission, "%q", mission))
		}
		if _, ok := c.Units[c.SourceUnits[mission]]; !ok {
			add(p+".source_units."+mission, errf(ErrUnknownUnit, "%q", c.SourceUnits[mission]))
		}
	}
	for _, u := range sortedKeys(c.Units) {
		if c.Units[u].Factor == 0 {
			add(p+".units."+u+".factor", errf(ErrInvalidValue, "(factor must be non-zero)"))
		}
	}
	targets := []string{Confirmed, Candidate, FalsePositive}
	for _, k := range sortedKeys(c.Values) {
		if !slices.Contains(targets, c.Values[k]) {
			add(p+".values."+k, errf(ErrInvalidValue, "%q (want CONFIRMED, CANDIDATE or FALSE POSITIVE)", c.Values[k]))
		}
	}
	for _, k := range sortedKeys(c.Constant) {
		if _, ok := cs.Mission(k); !ok {
			add(p+".constant."+k, errf(ErrUnknownMission, "%q", k))
		}
	}
	if c.Role == RoleDisposition && len(c.Values) == 0 {
		add(p+".values", errf(ErrMissingKey, "(a disposition needs a value map)"))
	}
	if c.Limits && c.Role != RoleMeasure {
		add(p+".limits", errf(ErrInvalidValue, "(only a measure has limits)"))
	}
	if c.Role == RoleMission && len(c.Aliases) > 0 {
		add(p+".aliases", errf(ErrInvalidValue, "(a mission column is never read from the file)"))
	}
	if c.Fallback != "" && c.Fallback != "row_id" {
		add(p+".fallback", errf(ErrInvalidValue, "%q (only row_id)", c.Fallback))
	}
	return errs
}

// contractAlias explains why alias may never map to column, or returns "".
// DESIGN.md: kepid is the star, never the object; koi_pdisposition is the
// Robovetter's opinion, never the disposition.
func contractAlias(column, alias string) string {
	a := strings.ToLower(strings.TrimSpace(alias))
	switch {
	case column == "object_id" && a == "kepid":
		return "kepid is the star, never the object"
	case column == "koi_disposition" && (a == "koi_pdisposition" || a == "koi_score"):
		return a + " is the Robovetter's output, never the disposition"
	}
	return ""
}

// sortedKeys returns a map's keys sorted, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
