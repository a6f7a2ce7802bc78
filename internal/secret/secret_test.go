package secret_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/secret"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestSealOpen(t *testing.T) {
	k, err := secret.NewKeyring(key(1))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal("最後まで話を聞けた")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "話") || !strings.HasPrefix(sealed, "enc1:"+secret.KeyID(key(1))+":") {
		t.Fatalf("sealed = %q", sealed)
	}
	again, _ := k.Seal("最後まで話を聞けた")
	if again == sealed {
		t.Fatal("the same text sealed twice gives the same value: nonces repeat")
	}
	if got, err := k.Open(sealed); err != nil || got != "最後まで話を聞けた" {
		t.Fatalf("open: %q %v", got, err)
	}
	if got, _ := k.Open("plain text"); got != "plain text" {
		t.Fatal("a plain value is not returned as it is")
	}
	if s, _ := k.Seal(""); s != "" {
		t.Fatal("an empty value is sealed")
	}
	// Tampering is detected.
	b := []byte(sealed)
	b[len(b)-3] ^= 1
	if _, err := k.Open(string(b)); err == nil {
		t.Fatal("a tampered value opened")
	}
}

func TestRotation(t *testing.T) {
	old, _ := secret.NewKeyring(key(1))
	sealed, _ := old.Seal("note")
	rotated, _ := secret.NewKeyring(key(2), key(1))
	if got, err := rotated.Open(sealed); err != nil || got != "note" {
		t.Fatalf("old value after rotation: %q %v", got, err)
	}
	if rotated.Current(sealed) {
		t.Fatal("a value under the old key counts as current")
	}
	resealed, _ := rotated.Seal("note")
	if !rotated.Current(resealed) {
		t.Fatal("a value under the new key is not current")
	}
	dropped, _ := secret.NewKeyring(key(2))
	if _, err := dropped.Open(sealed); !errors.Is(err, secret.ErrUnknownKey) {
		t.Fatalf("open without its key: %v", err)
	}
	off, _ := secret.NewKeyring(nil)
	if s, _ := off.Seal("x"); s != "x" || off.Sealing() {
		t.Fatal("a keyring without a current key seals")
	}
}

func TestParseKey(t *testing.T) {
	raw := key(7)
	for _, s := range []string{base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw), hex.EncodeToString(raw), " " + hex.EncodeToString(raw) + "\n"} {
		if got, err := secret.ParseKey(s); err != nil || !bytes.Equal(got, raw) {
			t.Errorf("ParseKey(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "short", base64.StdEncoding.EncodeToString(key(1)[:16])} {
		if _, err := secret.ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}
