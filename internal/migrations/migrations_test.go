package migrations

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql":  {Data: []byte("two")},
		"m/0001_init.sql":  {Data: []byte("one")},
		"m/README.txt":     {Data: []byte("not a migration")},
		"other/0003_x.sql": {Data: []byte("elsewhere")},
	}
	ms, err := Load(fsys, "m/*.sql", 2)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, Migration{Version: 1, Name: "0001_init.sql", SQL: "one"}, ms[0])
	assert.Equal(t, Migration{Version: 2, Name: "0002_more.sql", SQL: "two"}, ms[1])

	_, err = Load(fsys, "m/*.sql", 3)
	assert.ErrorContains(t, err, "2 migrations for schema version 3")

	for name, bad := range map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"no number": {"m/init.sql": {}},
		"zero":      {"m/0000_a.sql": {}},
	} {
		_, err := Load(bad, "m/*.sql", len(bad))
		assert.Error(t, err, name)
	}
}
