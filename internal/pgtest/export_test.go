package pgtest

// SetBinGlob points the search for binaries elsewhere until the returned
// function restores it.
func SetBinGlob(glob string) (restore func()) {
	old := binGlob
	binGlob = glob
	return func() { binGlob = old }
}
