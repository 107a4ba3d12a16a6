package webui

import (
	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/frontdoor"
	"github.com/onetimego/onetime/zk"
)

// The zero-knowledge mode of the pages (docs/zero-knowledge.md): where
// JavaScript runs, static/zk.js seals the value in the browser and posts
// the zk1 ciphertext with the verifiers of its proofs; a reader's page
// posts the proofs and opens the answer itself. The key travels only in
// the link's fragment, which no request carries. The handlers below only
// read those fields and call the Service's zero-knowledge forms: nothing
// here ever holds a plaintext, a passphrase or a link's key of a secret
// shared that way.

// verifier reads the verifiers of a share form: nil without any (the
// server-side mode), an input error for malformed ones.
func verifier(form frontdoor.Params) (*zk.Verifier, error) {
	key, pass := form.Get(frontdoor.ParamProofVerifier), form.Get(frontdoor.ParamPassphraseVerifier)
	if key == "" && pass == "" {
		return nil, nil
	}
	v := &zk.Verifier{Key: zk.DecodeBytes(key)}
	if pass != "" {
		if v.Passphrase = zk.DecodeBytes(pass); v.Passphrase == nil {
			return nil, &onetime.InputError{Field: "proof", Message: "Malformed zero-knowledge verifier"}
		}
	}
	if !v.Valid() {
		return nil, &onetime.InputError{Field: "proof", Message: "Malformed zero-knowledge verifier"}
	}
	return v, nil
}

// proof reads the proofs of a reveal form, and reports whether the form
// carries any: a form without is a reveal in the server-side mode. As the
// API reads them: a malformed key proof is a proof of no key (answered
// like an unknown secret), a malformed passphrase proof is none (counted
// as a wrong passphrase when the key proof is right).
func proof(form frontdoor.Params) (zk.Proof, bool) {
	key, pass := form.Get(frontdoor.ParamProof), form.Get(frontdoor.ParamPassphraseProof)
	if key == "" && pass == "" {
		return zk.Proof{}, false
	}
	return zk.Proof{Key: zk.DecodeBytes(key), Passphrase: zk.DecodeBytes(pass)}, true
}

// zkMaxValue is the largest value, in bytes, whose zk1 ciphertext fits in
// maxSize: "zk1." and the unpadded base64url of a 12-byte nonce, the value
// and a 16-byte tag. zk.js checks it before sealing, and the form's error
// names it.
func zkMaxValue(maxSize int) int {
	return max((maxSize-len(zk.Scheme)-1)*3/4-12-16, 0)
}
