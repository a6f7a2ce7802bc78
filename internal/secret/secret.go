// Package secret seals free text for storage with AES-256-GCM (standard
// library only). A sealed value names the key it was sealed with, so that
// a new key can be rolled in while values sealed with an older one stay
// readable until they are sealed again.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// prefix marks a sealed value: "enc1:<key id>:<base64 nonce+ciphertext>".
const prefix = "enc1:"

// Keyring holds the key that seals and the keys that may open.
type Keyring struct {
	current string // key ID that seals; "" when sealing is off
	aeads   map[string]cipher.AEAD
}

// ParseKey reads a 32-byte key given as base64 (standard or URL, padded or
// not) or as 64 hex digits.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("an encryption key must be 32 bytes, as base64 or 64 hex digits (e.g. openssl rand -base64 32)")
}

// KeyID names a key without revealing it: the first 8 hex digits of its
// SHA-256.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// NewKeyring returns a keyring that seals with current (nil: values are
// stored as they are) and opens values sealed with current or any of old.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, key := range append([][]byte{current}, old...) {
		if key == nil {
			continue
		}
		if len(key) != 32 {
			return nil, fmt.Errorf("key %d is %d bytes, want 32 (AES-256)", i, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(key)
		k.aeads[id] = aead
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

// Sealing reports whether new values are sealed.
func (k *Keyring) Sealing() bool { return k != nil && k.current != "" }

// Seal returns s sealed with the current key, or s itself when sealing is
// off or s is empty.
func (k *Keyring) Seal(s string) (string, error) {
	if !k.Sealing() || s == "" {
		return s, nil
	}
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, []byte(s), []byte(k.current))
	return prefix + k.current + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// ErrUnknownKey means a value was sealed with a key the keyring lacks.
var ErrUnknownKey = errors.New("sealed with a key that is not configured")

// errMalformed means a value said to be sealed is not shaped as one.
var errMalformed = errors.New("malformed sealed value")

// GCM's standard nonce and tag sizes: a sealed value is at least as long.
const nonceSize, tagSize = 12, 16

// parse splits a value shaped as sealed into its key ID and its bytes.
func parse(s string) (id string, raw []byte, ok bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", nil, false
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok || len(id) != 8 || strings.Trim(id, "0123456789abcdef") != "" {
		return "", nil, false
	}
	raw, err := base64.RawStdEncoding.DecodeString(data)
	if err != nil || len(raw) < nonceSize+tagSize {
		return "", nil, false
	}
	return id, raw, true
}

func (k *Keyring) aead(id string) cipher.AEAD {
	if k == nil {
		return nil
	}
	return k.aeads[id]
}

func (k *Keyring) open(aead cipher.AEAD, id string, raw []byte) (string, error) {
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(id))
	if err != nil {
		return "", fmt.Errorf("key %s: cannot open: %w", id, err)
	}
	return string(plain), nil
}

// Open returns the text of a sealed value. Whether a stored value is
// sealed is recorded beside it, never guessed from its text: a value that
// is not shaped as sealed is an error here.
func (k *Keyring) Open(s string) (string, error) {
	id, raw, ok := parse(s)
	if !ok {
		return "", errMalformed
	}
	aead := k.aead(id)
	if aead == nil {
		return "", fmt.Errorf("key %s: %w", id, ErrUnknownKey)
	}
	return k.open(aead, id, raw)
}

// OpenLegacy reads a value stored before whether it is sealed was recorded
// beside it, when text a user typed may look like a sealed value. A value
// that opens with a configured key was sealed: nobody without the key can
// forge one that passes GCM's authentication. A value not shaped as
// sealed, or naming a configured key without opening with it, is the
// user's text, returned as it is. One naming a key that is not configured
// cannot be told apart: ErrUnknownKey.
func (k *Keyring) OpenLegacy(s string) (string, error) {
	id, raw, ok := parse(s)
	if !ok {
		return s, nil
	}
	aead := k.aead(id)
	if aead == nil {
		return "", fmt.Errorf("key %s: %w", id, ErrUnknownKey)
	}
	plain, err := k.open(aead, id, raw)
	if err != nil {
		return s, nil
	}
	return plain, nil
}

// Current reports whether a sealed value is sealed with the current key:
// rekeying leaves such values alone.
func (k *Keyring) Current(s string) bool {
	return k.Sealing() && strings.HasPrefix(s, prefix+k.current+":")
}
