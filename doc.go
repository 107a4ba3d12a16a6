// Package onetime is an engine for one-time secrets, as onetimesecret.com
// serves them: a secret is stored sealed, can be revealed exactly once,
// expires by itself, can be burned by its creator before anyone reads it,
// and leaves its creator a receipt that tells whether it was received,
// burned or expired.
//
// # Using it
//
// A [Service] holds the rules and the cryptography; a [Store] keeps the
// sealed records. Pick a store (store/memory for tests and one process,
// store/sqlite for one machine, store/redis for many app servers), give the
// service a server secret, and call it:
//
//	svc, err := onetime.New(memory.New(), serverSecret, nil)
//	r, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("s3cret")})
//	// hand r.SecretKey to the reader, keep r.MetadataKey
//	v, err := svc.Reveal(ctx, r.SecretKey, "")  // once
//	_, err = svc.Reveal(ctx, r.SecretKey, "")   // errors.Is(err, onetime.ErrNotFound)
//
// Package httpapi serves the Onetime Secret REST API v1 on top of a Service.
//
// # Keys and receipts
//
// Share returns two bearer capabilities: the secret key, for the reader,
// and the metadata key, for the creator. Both are 56 characters of
// [0-9a-z] with at least 256 bits drawn from crypto/rand. The metadata key
// reads the [Receipt] (state, times, TTLs, obscured recipients) and burns
// an unread secret. A receipt's state moves new -> viewed (its first read)
// -> received or burned, and reads as expired, or orphaned, when the secret
// vanished otherwise. The receipt lives twice as long as the secret.
//
// # Guarantees
//
//   - Exactly once: among any number of concurrent readers of one secret,
//     across processes sharing a store, at most one gets the value. A burn
//     and a reveal race cleanly: one wins and the receipt says which.
//   - Wrong passphrases never consume a secret; they are counted, and the
//     attempt that reaches Options.MaxAttempts burns it.
//   - Expiry is exact: a secret is gone when !now.Before(expiresAt), by the
//     service's clock (Options.Now), whether or not the store has removed
//     it yet, and no state change extends a lifetime.
//   - Stores see no plaintext: ids are keyed hashes of the keys, values and
//     receipts are sealed with keys derived from the keys themselves. See
//     SECURITY.md for the threat model.
//   - Errors are sentinels for [errors.Is] ([ErrNotFound],
//     [ErrWrongPassphrase], [ErrTooLarge], [ErrInvalid]) and never carry a
//     key, passphrase or value.
//
// # Writing a Store
//
// A backend implements the [Store] interface, whose doc comments are its
// contract, and proves it with one line in its tests:
//
//	storetest.Run(t, func(t *testing.T) onetime.Store { return mystore.New(...) })
package onetime
