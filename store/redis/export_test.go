package redis

// PipelineAll makes s send every command through the client's
// auto-pipeliner, however few are in flight, for the tests of that path.
// s must pipeline (Options.Pipeline).
func PipelineAll(s *Store) {
	s.piped.above = 0
}
