package tone

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// DecodeModel reads a model file, the JSON encoding/json writes of a
// Model. It reads the file in one pass, as encoding/json would read what
// it accepts, instead of through encoding/json's reflection: the weights
// are some 30,000 features of six numbers each, and decoding them so took
// 45 ms a language (seven times that under the race detector), more than
// the rest of loading the content. It is stricter than encoding/json: an
// unknown or null field, a key in other letter case, anything but the
// shapes of a Model, is an error.
func DecodeModel(b []byte) (*Model, error) {
	r := &modelReader{b: b}
	m, err := r.model()
	if err != nil {
		return nil, fmt.Errorf("model file, byte %d: %w", r.i, err)
	}
	return m, nil
}

type modelReader struct {
	b []byte
	i int
}

var errSyntax = errors.New("not the JSON of a model: train it again (make tone-model)")

func (r *modelReader) model() (*Model, error) {
	m := &Model{}
	err := r.object(func(key string) error {
		var err error
		switch key {
		case "lang":
			m.Lang, err = r.str()
		case "features":
			m.Features, err = r.str()
		case "threshold":
			m.Threshold, err = r.num()
		case "flags":
			m.Flags = []string{}
			err = r.array(func() error {
				s, err := r.str()
				m.Flags = append(m.Flags, s)
				return err
			})
		case "bias":
			m.Bias, err = r.nums(nil)
		case "weights":
			// A feature and its weights take some 50 bytes of the file,
			// a weight some eight.
			if m.Weights == nil { // a second "weights" adds to the first, as in encoding/json
				m.Weights = make(map[string][]float64, len(r.b)/50)
			}
			// One array holds every weight: a feature's are a part of it.
			all := make([]float64, 0, len(r.b)/8)
			err = r.object(func(feature string) error {
				start := len(all)
				var err error
				if all, err = r.nums(all); err != nil {
					return err
				}
				m.Weights[feature] = all[start:len(all):len(all)]
				return nil
			})
		default:
			err = fmt.Errorf("unknown field %q", key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if r.space(); r.i != len(r.b) {
		return nil, errSyntax
	}
	return m, nil
}

// The loops below read the bytes through locals: under the race detector
// each access through r is checked, and they are most of the reading.

func (r *modelReader) space() {
	b, i := r.b, r.i
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	r.i = i
}

// next takes c, after any space, or fails.
func (r *modelReader) next(c byte) error {
	if r.space(); r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return nil
	}
	return errSyntax
}

// peek takes c if it comes next, after any space.
func (r *modelReader) peek(c byte) bool {
	return r.next(c) == nil
}

// object reads {"key": value, ...}, each value by field.
func (r *modelReader) object(field func(key string) error) error {
	if err := r.next('{'); err != nil {
		return err
	}
	if r.peek('}') {
		return nil
	}
	for {
		key, err := r.str()
		if err != nil {
			return err
		}
		if err := r.next(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		if r.peek('}') {
			return nil
		}
		if err := r.next(','); err != nil {
			return err
		}
	}
}

// array reads [value, ...], each value by elem.
func (r *modelReader) array(elem func() error) error {
	if err := r.next('['); err != nil {
		return err
	}
	if r.peek(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if r.peek(']') {
			return nil
		}
		if err := r.next(','); err != nil {
			return err
		}
	}
}

// nums appends an array of numbers to dst.
func (r *modelReader) nums(dst []float64) ([]float64, error) {
	if dst == nil {
		dst = []float64{}
	}
	err := r.array(func() error {
		f, err := r.num()
		dst = append(dst, f)
		return err
	})
	return dst, err
}

// str reads a string. One with an escape (rare: json.Marshal escapes
// quotes, backslashes, controls and <, >, &) or bytes that are not UTF-8
// is read by encoding/json.
func (r *modelReader) str() (string, error) {
	if err := r.next('"'); err != nil {
		return "", err
	}
	b, start, escaped := r.b, r.i, false
	for i := start; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\':
			escaped = true
			i++
		case c < ' ':
			r.i = i
			return "", errSyntax
		case c == '"':
			r.i = i + 1
			if text := b[start:i]; !escaped && utf8.Valid(text) {
				return string(text), nil
			}
			var s string
			err := json.Unmarshal(b[start-1:i+1], &s)
			return s, err
		}
	}
	r.i = len(b)
	return "", errSyntax
}

// num reads a number as encoding/json does: JSON's grammar of a number
// (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), then strconv.ParseFloat.
func (r *modelReader) num() (float64, error) {
	r.space()
	start := r.i
	r.take('-')
	if !r.take('0') && r.digits() == 0 {
		return 0, errSyntax
	}
	if r.take('.') && r.digits() == 0 {
		return 0, errSyntax
	}
	if r.take('e') || r.take('E') {
		if !r.take('+') {
			r.take('-')
		}
		if r.digits() == 0 {
			return 0, errSyntax
		}
	}
	return strconv.ParseFloat(string(r.b[start:r.i]), 64)
}

// take takes c if it is the next byte.
func (r *modelReader) take(c byte) bool {
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// digits takes the digits that come next and says how many.
func (r *modelReader) digits() int {
	b, i := r.b, r.i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	n := i - r.i
	r.i = i
	return n
}
