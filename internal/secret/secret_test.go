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
	for _, plain := range []string{"plain text", "enc1:deadbeef:AAAA", ""} {
		if got, err := k.Open(plain); err == nil {
			t.Errorf("Open(%q) = %q: a value not shaped as sealed opened", plain, got)
		}
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

// TestOpenLegacy reads values stored before the store recorded beside each
// whether it is sealed: what a user typed to look sealed stays their text.
func TestOpenLegacy(t *testing.T) {
	k, _ := secret.NewKeyring(key(1))
	sealed, _ := k.Seal("note")
	other, _ := secret.NewKeyring(key(2))
	foreign, _ := other.Seal("note")
	// Shaped as sealed with key 1's ID, but not sealed by it.
	forged := "enc1:" + secret.KeyID(key(1)) + ":" + base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 40))
	for _, tc := range []struct {
		in, want string
		unknown  bool
	}{
		{in: "plain", want: "plain"},
		{in: "enc1:deadbeef:AAAA", want: "enc1:deadbeef:AAAA"}, // too short to be sealed
		{in: "enc1:", want: "enc1:"},
		{in: "enc1:DEADBEEF:" + strings.Repeat("A", 40), want: "enc1:DEADBEEF:" + strings.Repeat("A", 40)},
		{in: forged, want: forged},
		{in: sealed, want: "note"},
		{in: foreign, unknown: true},
	} {
		got, err := k.OpenLegacy(tc.in)
		if tc.unknown {
			if !errors.Is(err, secret.ErrUnknownKey) {
				t.Errorf("OpenLegacy(%q) = %q, %v; want ErrUnknownKey", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("OpenLegacy(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	var none *secret.Keyring
	if got, err := none.OpenLegacy("enc1:deadbeef:AAAA"); err != nil || got != "enc1:deadbeef:AAAA" {
		t.Errorf("without keys: %q %v", got, err)
	}
}

// FuzzOpenLegacy: whatever is stored, reading it never panics, and
// returns the text itself unless it is a value some key really sealed.
func FuzzOpenLegacy(f *testing.F) {
	k, _ := secret.NewKeyring(key(1))
	sealed, _ := k.Seal("note")
	for _, s := range []string{"", "plain", "enc1:deadbeef:AAAA", sealed, sealed[:len(sealed)-1], "enc1:" + strings.Repeat("a", 8) + ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := k.OpenLegacy(s)
		if err != nil && !errors.Is(err, secret.ErrUnknownKey) {
			t.Fatalf("OpenLegacy(%q): %v", s, err)
		}
		if err == nil && got != s && s != sealed {
			if again, err := k.Open(s); err != nil || again != got {
				t.Fatalf("OpenLegacy(%q) = %q, but it does not open: %v", s, got, err)
			}
		}
		if v, err := k.Seal(s); err != nil || s != "" && !k.Current(v) {
			t.Fatalf("Seal(%q) = %q, %v", s, v, err)
		} else if back, err := k.Open(v); s != "" && (err != nil || back != s) {
			t.Fatalf("Open(Seal(%q)) = %q, %v", s, back, err)
		}
	})
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
