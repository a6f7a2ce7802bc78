package teams

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// What trustbot puts in the data of an Action.Submit, under one key of its
// own: Teams merges the card's input values into the same object (a menu's
// choice, a form's fields), so nothing else may use that key.
type submitData struct {
	Teams    *teamsData `json:"msteams,omitempty"`
	Trustbot actionData `json:"trustbot"`
}

// actionData routes a press or a form back to the coach.
type actionData struct {
	A string `json:"a,omitempty"` // the control's ID
	V string `json:"v,omitempty"` // the control's value
	I string `json:"i,omitempty"` // a menu: the input holding the choice
	F string `json:"f,omitempty"` // a form: its ID
	M string `json:"m,omitempty"` // a form: its metadata
}

// teamsData asks Teams to open a dialog (task/fetch) on the press.
type teamsData struct {
	Type string `json:"type"`
}

const (
	dataKey   = "trustbot"
	taskFetch = "task/fetch"
	// inputPrefix starts the ID of a form's input on the card, so that
	// the merged values never meet the routing key.
	inputPrefix = "in."
)

// Limits on what is read back, in bytes: larger data is not trustbot's.
const (
	maxValueBytes = 64 << 10 // a whole submitted value
	maxIDBytes    = 255      // a control or form ID
	maxFieldBytes = 16 << 10 // one input or value: far above any form's maxLength
)

// ErrNotTrustbot says the data did not come from a trustbot card (or was
// changed on the way); the handler answers with a friendly message.
var ErrNotTrustbot = errors.New("not a trustbot card action")

// Press is a button press or a menu choice on a card: an Action request, or
// the opening of a dialog.
type Press struct {
	ActionID string
	Value    string
}

// Request fills in the Action request of the press for a user.
func (p Press) Request(base trustbot.Request) trustbot.Request {
	base.Kind, base.ActionID, base.Value, base.Inputs = trustbot.Action, p.ActionID, p.Value, nil
	return base
}

// Submission is a form sent from a dialog (task/submit).
type Submission struct {
	Form     string
	Metadata string
	Inputs   map[string]string
}

// Request fills in the Submit request of the form for a user.
func (s Submission) Request(base trustbot.Request) trustbot.Request {
	base.Kind, base.ActionID, base.Value, base.Inputs = trustbot.Submit, s.Form, s.Metadata, s.Inputs
	return base
}

// ParsePress reads the value of a message activity sent by an
// Action.Submit on a trustbot card.
func ParsePress(value []byte) (Press, error) {
	fields, d, err := decode(value)
	if err != nil {
		return Press{}, err
	}
	return press(fields, d)
}

// ParseTaskFetch reads the value of a task/fetch invoke: {"data": …}, the
// data of the button that opens a dialog.
func ParseTaskFetch(value []byte) (Press, error) {
	data, err := invokeData(value)
	if err != nil {
		return Press{}, err
	}
	fields, d, err := decode(data)
	if err != nil {
		return Press{}, err
	}
	return press(fields, d)
}

// ParseTaskSubmit reads the value of a task/submit invoke: the form's
// routing and what the user typed in each input.
func ParseTaskSubmit(value []byte) (Submission, error) {
	data, err := invokeData(value)
	if err != nil {
		return Submission{}, err
	}
	fields, d, err := decode(data)
	if err != nil {
		return Submission{}, err
	}
	if d.F == "" || !validID(d.F) || !utf8.ValidString(d.M) || len(d.M) > maxFieldBytes {
		return Submission{}, fmt.Errorf("form routing: %w", ErrNotTrustbot)
	}
	s := Submission{Form: d.F, Metadata: trustbot.Unmarked(d.M), Inputs: map[string]string{}}
	for k, raw := range fields {
		id, ok := strings.CutPrefix(k, inputPrefix)
		if !ok {
			continue
		}
		v, err := field(raw)
		if err != nil || !validID(id) {
			return Submission{}, fmt.Errorf("form input: %w", ErrNotTrustbot)
		}
		s.Inputs[id] = v
	}
	return s, nil
}

// invokeData returns the data of a task/fetch or task/submit value.
func invokeData(value []byte) ([]byte, error) {
	if len(value) > maxValueBytes {
		return nil, fmt.Errorf("invoke value of %d bytes: %w", len(value), ErrNotTrustbot)
	}
	var v struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(value, &v); err != nil || len(v.Data) == 0 {
		return nil, fmt.Errorf("invoke value without data: %w", ErrNotTrustbot)
	}
	return v.Data, nil
}

// decode splits submitted data into its fields and trustbot's routing.
func decode(value []byte) (map[string]json.RawMessage, actionData, error) {
	var d actionData
	if len(value) > maxValueBytes {
		return nil, d, fmt.Errorf("value of %d bytes: %w", len(value), ErrNotTrustbot)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(value, &fields); err != nil || fields == nil {
		return nil, d, fmt.Errorf("value is not an object: %w", ErrNotTrustbot)
	}
	raw, ok := fields[dataKey]
	if !ok {
		return nil, d, fmt.Errorf("no %q key: %w", dataKey, ErrNotTrustbot)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, d, fmt.Errorf("routing: %w", ErrNotTrustbot)
	}
	return fields, d, nil
}

// press checks the routing of a press and reads a menu's choice.
func press(fields map[string]json.RawMessage, d actionData) (Press, error) {
	if !validID(d.A) || !utf8.ValidString(d.V) || len(d.V) > maxFieldBytes {
		return Press{}, fmt.Errorf("action routing: %w", ErrNotTrustbot)
	}
	p := Press{ActionID: d.A, Value: trustbot.Unmarked(d.V)}
	if d.I != "" {
		if !strings.HasPrefix(d.I, "menu") || d.I == dataKey {
			return Press{}, fmt.Errorf("menu input: %w", ErrNotTrustbot)
		}
		raw, ok := fields[d.I]
		if !ok {
			return Press{}, fmt.Errorf("menu without a choice: %w", ErrNotTrustbot)
		}
		v, err := field(raw)
		if err != nil || v == "" {
			return Press{}, fmt.Errorf("menu choice: %w", ErrNotTrustbot)
		}
		p.Value = v
	}
	return p, nil
}

// field reads one submitted input: a string (Teams sends every input's
// value as one), without mention marks.
func field(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	if len(s) > maxFieldBytes || !utf8.ValidString(s) {
		return "", errors.New("input too long or not text")
	}
	return trustbot.Unmarked(s), nil
}

// validID: the coach's IDs are short printable ASCII.
func validID(id string) bool {
	if id == "" || len(id) > maxIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}
