package licensing

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/language"

	"marketplace/internal/audit"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
)

var propertyCode = regexp.MustCompile(`^[A-Z0-9]{2,32}$`)

// UnmarshalJSON takes a mark as {text, lang} or as a plain string (a mark written the same in
// every language).
func (m *Mark) UnmarshalJSON(b []byte) error {
	var text string
	if err := json.Unmarshal(b, &text); err == nil {
		*m = Mark{Text: text}
		return nil
	}
	type plain Mark
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("a mark is a string or {\"text\", \"lang\"}: %w", err)
	}
	*m = Mark(p)
	return nil
}

// normaliseMarks trims the marks, ties them to code and names each bad one as marks[i].text or
// marks[i].lang: empty, too long, repeated (without case) or with a language that is not a
// BCP 47 tag.
func normaliseMarks(code string, marks []Mark, bad *fault.Fields) []Mark {
	out := slices.Clone(marks) // the caller's marks (Seed's shared table) stay as they were
	seen := map[string]int{}
	for i := range out {
		m := &out[i]
		m.Property = code
		m.Text = strings.TrimSpace(m.Text)
		m.Lang = strings.TrimSpace(m.Lang)
		switch key := strings.ToLower(m.Text); {
		case m.Text == "":
			bad.Add(fmt.Sprintf("marks[%d].text", i), "a mark cannot be empty")
		case len(m.Text) > 200:
			bad.Add(fmt.Sprintf("marks[%d].text", i), "must be at most 200 characters")
		default:
			if j, ok := seen[key]; ok {
				bad.Add(fmt.Sprintf("marks[%d].text", i), "repeats marks[%d] (%q): marks are matched without case", j, out[j].Text)
			} else {
				seen[key] = i
			}
		}
		if m.Lang != "" {
			tag, err := language.Parse(m.Lang)
			if err != nil {
				bad.Add(fmt.Sprintf("marks[%d].lang", i), "%q is not a language tag such as fr, en or zh-Hans (empty: every language)", m.Lang)
			} else {
				m.Lang = tag.String()
			}
		}
	}
	return out
}

func normaliseName(name string, bad *fault.Fields) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		bad.Add("name", "is required")
	case len(name) > 200:
		bad.Add("name", "must be at most 200 characters")
	}
	return name
}

func (p *Property) normalise() error {
	var bad fault.Fields
	p.Code = strings.ToUpper(strings.TrimSpace(p.Code))
	if !propertyCode.MatchString(p.Code) {
		bad.Add("code", "2 to 32 upper-case letters and digits, such as PARIS2024")
	}
	p.Name = normaliseName(p.Name, &bad)
	p.Marks = normaliseMarks(p.Code, p.Marks, &bad)
	return bad.Err("the property is not valid")
}

// CreateProperty adds a property with its marks, or adds the marks it lacks to an existing
// one (so seeding twice changes nothing). Returns Invalid for a bad code, name or mark.
func (s *Service) CreateProperty(ctx context.Context, actor *web.Identity, p Property) (_ Property, err error) {
	defer fault.Annotate(&err, "licensing.CreateProperty()")
	return s.createProperty(ctx, actor, p, false)
}

// AddProperty registers a new property with its marks, as an admin does. Returns Invalid naming
// the bad fields (code, name, marks[i].text, marks[i].lang) and Conflict on "code" when the
// property exists.
func (s *Service) AddProperty(ctx context.Context, actor *web.Identity, p Property) (_ Property, err error) {
	defer fault.Annotate(&err, "licensing.AddProperty()")
	return s.createProperty(ctx, actor, p, true)
}

func (s *Service) createProperty(ctx context.Context, actor *web.Identity, p Property, exclusive bool) (Property, error) {
	if err := p.normalise(); err != nil {
		return Property{}, err
	}
	err := postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		created, err := insertProperty(ctx, tx, p)
		if err != nil {
			return err
		}
		if !created && exclusive {
			return &fault.Error{Code: fault.Conflict, Message: "the property exists",
				Fields: []fault.FieldError{fault.Field("code", "%s is already a property: edit it instead", p.Code)}}
		}
		added, err := insertMarks(ctx, tx, p.Marks)
		if err != nil {
			return err
		}
		if created || len(added) > 0 {
			return s.changed(ctx, tx, actor, "property.create", p.Code, nil, Property{Code: p.Code, Name: p.Name, Marks: added})
		}
		return nil
	})
	if err != nil {
		return Property{}, postgres.Err(err, "property")
	}
	s.refreshAfterWrite(ctx)
	return s.property(ctx, p.Code)
}

// changed records a change of property code: it bumps the registry's version, whose NOTIFY
// brings every process's coverage snapshot (and its list of properties) up to date, and writes
// the audit entry, both in the change's transaction.
func (s *Service) changed(ctx context.Context, tx pgx.Tx, actor *web.Identity, action, code string, before, after any) error {
	if _, err := bumpVersion(ctx, tx); err != nil {
		return err
	}
	return audit.Record(ctx, tx, actor, action, "property", code, before, after, "")
}

// PropertyPatch changes a property: a nil field is left as it is; Marks, when given, is the
// whole new list of marks.
type PropertyPatch struct {
	Name  *string `json:"name"`
	Marks *[]Mark `json:"marks"`
}

// UpdateProperty renames a property or replaces its marks. Returns NotFound for an unknown
// code and Invalid naming the bad fields (name, marks[i].text, marks[i].lang); a refused
// change changes nothing.
func (s *Service) UpdateProperty(ctx context.Context, actor *web.Identity, code string, patch PropertyPatch) (_ Property, err error) {
	defer fault.Annotate(&err, "licensing.UpdateProperty(%q)", code)
	code = strings.ToUpper(strings.TrimSpace(code))
	var bad fault.Fields
	var name string
	var marks []Mark
	if patch.Name != nil {
		name = normaliseName(*patch.Name, &bad)
	}
	if patch.Marks != nil {
		marks = normaliseMarks(code, *patch.Marks, &bad)
	}
	if err := bad.Err("the property is not valid"); err != nil {
		return Property{}, err
	}
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		before, err := lockProperty(ctx, tx, code)
		if err != nil {
			return err
		}
		after := before
		if patch.Name != nil {
			after.Name = name
		}
		if patch.Marks != nil {
			after.Marks = marks
		}
		if after.Name == before.Name && slices.Equal(after.Marks, before.Marks) {
			return nil
		}
		if err := updateProperty(ctx, tx, after, patch.Marks != nil); err != nil {
			return err
		}
		return s.changed(ctx, tx, actor, "property.update", code, before, after)
	})
	if err != nil {
		return Property{}, postgres.Err(err, "property")
	}
	s.refreshAfterWrite(ctx)
	return s.property(ctx, code)
}

// Properties lists the properties with their marks.
func (s *Service) Properties(ctx context.Context) (_ []Property, err error) {
	defer fault.Annotate(&err, "licensing.Properties()")
	return listProperties(ctx, s.db)
}

// Property returns one property with its marks. Returns NotFound for an unknown code.
func (s *Service) Property(ctx context.Context, code string) (_ Property, err error) {
	defer fault.Annotate(&err, "licensing.Property(%q)", code)
	return s.property(ctx, strings.ToUpper(strings.TrimSpace(code)))
}

func (s *Service) property(ctx context.Context, code string) (Property, error) {
	ps, err := s.Properties(ctx)
	if err != nil {
		return Property{}, err
	}
	for _, p := range ps {
		if p.Code == code {
			return p, nil
		}
	}
	return Property{}, fault.New(fault.NotFound, "property %s not found", code)
}

// PropertyMarks lists every mark of every property, for detection's text rules.
func (s *Service) PropertyMarks(ctx context.Context) (_ []Mark, err error) {
	defer fault.Annotate(&err, "licensing.PropertyMarks()")
	ps, err := s.Properties(ctx)
	if err != nil {
		return nil, err
	}
	var marks []Mark
	for _, p := range ps {
		marks = append(marks, p.Marks...)
	}
	return marks, nil
}
