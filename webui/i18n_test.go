package webui

import (
	"io/fs"
	"maps"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every language has every message, and every message the templates and
// the code ask for is in the catalogue.
func TestCatalogueComplete(t *testing.T) {
	en := slices.Sorted(maps.Keys(catalogue["en"]))
	for lang, msgs := range catalogue {
		assert.Equal(t, en, slices.Sorted(maps.Keys(msgs)), lang)
		for k, m := range msgs {
			assert.NotEmpty(t, m, "%s %s", lang, k)
			assert.Equal(t, strings.Count(catalogue["en"][k], "%"), strings.Count(m, "%"), "%s %s: the same verbs", lang, k)
		}
	}
	used := map[string]bool{}
	keyRE := regexp.MustCompile(`\.L\.T "([a-z_.]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, used)
	for k := range used {
		assert.Contains(t, catalogue["en"], k)
	}
	// Keys built at run time.
	for _, kind := range []string{"gone", "gone.receipt", "gone.attempts", "notfound", "method", "forbidden", "unauthorized", "notsignedin", "signedout", "error", "ratelimited", "guessing", "busy"} {
		assert.Contains(t, catalogue["en"], kind+".title")
		assert.Contains(t, catalogue["en"], kind+".text")
	}
	for _, s := range []string{"new", "viewed", "received", "burned", "expired", "orphaned"} {
		assert.Contains(t, catalogue["en"], "state."+s)
		assert.Contains(t, catalogue["en"], "state."+s+".desc")
	}
}

func TestDuration(t *testing.T) {
	en, ja := &locale{"en", catalogue["en"]}, &locale{"ja", catalogue["ja"]}
	for d, want := range map[time.Duration]string{
		time.Second: "1 second", 90 * time.Second: "90 seconds", time.Minute: "1 minute",
		30 * time.Minute: "30 minutes", time.Hour: "1 hour", 36 * time.Hour: "36 hours",
		24 * time.Hour: "1 day", 7 * 24 * time.Hour: "7 days",
	} {
		assert.Equal(t, want, en.Duration(d))
	}
	assert.Equal(t, "7 日", ja.Duration(7*24*time.Hour))
	assert.Equal(t, "missing.key", en.T("missing.key"))
}

func TestLocaleFor(t *testing.T) {
	for al, want := range map[string]string{
		"ja": "ja", "ja-JP": "ja", "en-GB": "en", "de, ja;q=0.5": "ja", "de": "en", "": "en", "*": "en",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", al)
		assert.Equal(t, want, localeFor(r).Lang, al)
	}
}
