// Package zkvectors reads the zk1 format's test vectors
// (zk/testdata/vectors.json, written and pinned by package zk's tests) for
// the tests of the packages that must open what the other side makes:
// client, the onetime tool and the pages.
package zkvectors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A Vector is one entry of the file; the fields are package zk's.
type Vector struct {
	Fragment           string `json:"fragment"`
	Passphrase         string `json:"passphrase"`
	Nonce              string `json:"nonce"`
	Value              string `json:"value"`
	Sealed             string `json:"sealed"`
	KeyProof           string `json:"key_proof"`
	PassphraseProof    string `json:"passphrase_proof"`
	KeyVerifier        string `json:"key_verifier"`
	PassphraseVerifier string `json:"passphrase_verifier"`
}

// Load returns the vectors, failing t if the file is missing or empty.
func Load(t testing.TB) []Vector {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "zk", "testdata", "vectors.json"))
	if err != nil {
		t.Fatalf("zk test vectors: %v", err)
	}
	var vs []Vector
	if err := json.Unmarshal(raw, &vs); err != nil || len(vs) == 0 {
		t.Fatalf("zk test vectors: %d read, %v", len(vs), err)
	}
	return vs
}
