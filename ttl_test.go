package onetime_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

const (
	minute = time.Minute
	hour   = time.Hour
	day    = 24 * time.Hour
)

func TestTTLOptionsDefault(t *testing.T) {
	svc, _ := newService(t, nil, nil)
	o := svc.Options()
	want := []time.Duration{minute, 5 * minute, 30 * minute, hour, 4 * hour, 12 * hour, day, 3 * day, 7 * day, 14 * day, 30 * day}
	assert.Equal(t, want, o.TTLOptions)
	o.TTLOptions[0] = 42 * hour
	assert.Equal(t, want, svc.Options().TTLOptions, "Options answers a copy")

	// The default list follows the bounds: the odd ones, and each
	// kind of caller's default, are offered; what lies outside is not.
	svc, _ = newService(t, nil, &onetime.Options{MinTTL: 10 * minute, MaxTTL: 90 * minute, MaxTTLAuthenticated: 2 * day, DefaultTTL: 36 * hour})
	assert.Equal(t, []time.Duration{10 * minute, 30 * minute, hour, 90 * minute, 4 * hour, 12 * hour, day, 36 * hour, 2 * day}, svc.Options().TTLOptions)
}

func TestTTLOptionsRefused(t *testing.T) {
	for name, c := range map[string]struct {
		opts onetime.Options
		err  string
	}{
		"unsorted":          {onetime.Options{TTLOptions: []time.Duration{hour, 5 * minute, 7 * day}}, "sorted"},
		"repeated":          {onetime.Options{TTLOptions: []time.Duration{hour, hour, 7 * day}}, "without repeats"},
		"below MinTTL":      {onetime.Options{TTLOptions: []time.Duration{30 * time.Second, 7 * day}}, "below MinTTL"},
		"zero":              {onetime.Options{TTLOptions: []time.Duration{0, 7 * day}}, "below MinTTL"},
		"negative":          {onetime.Options{TTLOptions: []time.Duration{-hour, 7 * day}}, "below MinTTL"},
		"above both maxima": {onetime.Options{TTLOptions: []time.Duration{7 * day, 31 * day}}, "above the longest"},
		"part seconds":      {onetime.Options{TTLOptions: []time.Duration{90500 * time.Millisecond, 7 * day}}, "whole number of seconds"},
		"without the default": {
			onetime.Options{DefaultTTL: 2 * day, TTLOptions: []time.Duration{hour, day, 7 * day}},
			"lack 48h0m0s, the default lifetime for anonymous callers",
		},
		"without the customers' default": {
			onetime.Options{MaxTTLAuthenticated: 3 * day, DefaultTTL: 5 * day, TTLOptions: []time.Duration{hour, day, 5 * day}},
			"lack 72h0m0s, the default lifetime for customers",
		},
	} {
		_, err := onetime.New(memory.New(), serverSecret, &c.opts)
		assert.ErrorContains(t, err, c.err, name)
		assert.Equal(t, err, c.opts.Check(), "%s: Check says what New says", name)
	}
	var none *onetime.Options
	assert.NoError(t, none.Check())
	assert.NoError(t, (&onetime.Options{TTLOptions: []time.Duration{minute, 7 * day}}).Check())
}

// TestTTLOptionsDefaultTTL: with TTLOptions and no DefaultTTL, the
// default is one of the options, so that the pages can preselect what the
// API grants without a ttl.
func TestTTLOptionsDefaultTTL(t *testing.T) {
	for _, c := range []struct {
		opts onetime.Options
		want time.Duration
	}{
		{onetime.Options{TTLOptions: []time.Duration{5 * minute, hour, day}}, day},
		{onetime.Options{TTLOptions: []time.Duration{5 * minute, hour, day, 7 * day, 30 * day}}, 7 * day},
		{onetime.Options{MaxTTL: 2 * hour, TTLOptions: []time.Duration{5 * minute, hour, day, 7 * day}}, hour},
		{onetime.Options{MaxTTL: 30 * day, TTLOptions: []time.Duration{14 * day, 30 * day}}, 14 * day},
		{onetime.Options{DefaultTTL: hour, TTLOptions: []time.Duration{5 * minute, hour, day}}, hour},
	} {
		svc, _ := newService(t, nil, &c.opts)
		assert.Equal(t, c.want, svc.Options().DefaultTTL, "%v", c.opts.TTLOptions)
		for _, owner := range []string{"", "cust"} {
			m := share(t, svc, onetime.ShareRequest{Owner: owner, Value: []byte("x")})
			assert.Equal(t, c.want, m.TTL, "%v, owner %q", c.opts.TTLOptions, owner)
			assert.Contains(t, svc.TTLChoices(owner, 0).Offered, m.TTL)
		}
	}

	// The caller's slice is copied: changing it later changes nothing.
	opts := []time.Duration{5 * minute, hour, 7 * day}
	svc, _ := newService(t, nil, &onetime.Options{TTLOptions: opts})
	opts[1] = 2 * hour
	assert.Equal(t, []time.Duration{5 * minute, hour, 7 * day}, svc.Options().TTLOptions)
}

// TestTTLChoices: what a front end offers each caller, and that Share and
// Generate grant what Clamp says for offered and other lifetimes alike.
// No per-request maximum raises a caller above its kind's ceiling.
func TestTTLChoices(t *testing.T) {
	svc, _ := newService(t, nil, &onetime.Options{
		MaxTTL: day, MaxTTLAuthenticated: 14 * day, DefaultTTL: 7 * day,
		TTLOptions: []time.Duration{5 * minute, hour, day, 7 * day, 14 * day},
	})
	for _, c := range []struct {
		name   string
		owner  string
		maxTTL time.Duration
		want   onetime.TTLChoices
	}{
		{"anonymous", "", 0, onetime.TTLChoices{
			Offered: []time.Duration{5 * minute, hour, day}, Default: day, Min: minute, Max: day}},
		{"customer", "cust", 0, onetime.TTLChoices{
			Offered: []time.Duration{5 * minute, hour, day, 7 * day, 14 * day}, Default: 7 * day, Min: minute, Max: 14 * day}},
		{"anonymous, a higher per-request maximum", "", 30 * day, onetime.TTLChoices{
			Offered: []time.Duration{5 * minute, hour, day}, Default: day, Min: minute, Max: day}},
		{"customer lowered to an option", "cust", day, onetime.TTLChoices{
			Offered: []time.Duration{5 * minute, hour, day}, Default: day, Min: minute, Max: day}},
		{"customer lowered between options", "cust", 2 * day, onetime.TTLChoices{
			Offered: []time.Duration{5 * minute, hour, day, 2 * day}, Default: 2 * day, Min: minute, Max: 2 * day}},
		{"customer lowered below every option", "cust", 2 * minute, onetime.TTLChoices{
			Offered: []time.Duration{2 * minute}, Default: 2 * minute, Min: minute, Max: 2 * minute}},
		{"customer lowered below MinTTL", "cust", time.Second, onetime.TTLChoices{
			Offered: []time.Duration{minute}, Default: minute, Min: minute, Max: minute}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := svc.TTLChoices(c.owner, c.maxTTL)
			require.Equal(t, c.want, got)
			for _, ttl := range []time.Duration{0, -time.Second, time.Second, 5 * minute, 90*minute + 500*time.Millisecond, day, 2 * day, 14 * day, 1000 * day} {
				want := got.Clamp(ttl)
				assert.GreaterOrEqual(t, want, got.Min)
				assert.LessOrEqual(t, want, got.Max)
				req := onetime.ShareRequest{Owner: c.owner, Value: []byte("x"), TTL: ttl, MaxTTL: c.maxTTL}
				assert.Equal(t, want, share(t, svc, req).TTL, "Share, ttl %v", ttl)
				req.Value = nil
				m, err := svc.Generate(context.Background(), onetime.GenerateRequest{ShareRequest: req})
				require.NoError(t, err)
				assert.Equal(t, want, m.TTL, "Generate, ttl %v", ttl)
			}
		})
	}
}

// The operator's policy: lifetimes offered of 5 minutes to 7 days,
// anonymous callers up to a day. A front end offers each caller its
// choices; Share clamps whatever lifetime is asked, offered or not.
func ExampleService_TTLChoices() {
	st := memory.New()
	defer st.Close()
	svc, _ := onetime.New(st, exampleSecret, &onetime.Options{
		MaxTTL:     24 * time.Hour,
		TTLOptions: []time.Duration{5 * time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour},
	})
	defer svc.Close()

	anon := svc.TTLChoices("", 0)
	fmt.Println("anonymous:", anon.Offered, "default", anon.Default)
	cust := svc.TTLChoices("customer-42", 0)
	fmt.Println("customers:", cust.Offered, "default", cust.Default)

	m, _ := svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v"), TTL: 30 * 24 * time.Hour})
	fmt.Println("30 days asked, anonymous:", m.TTL, "=", anon.Clamp(30*24*time.Hour))
	// Output:
	// anonymous: [5m0s 1h0m0s 24h0m0s] default 24h0m0s
	// customers: [5m0s 1h0m0s 24h0m0s 168h0m0s] default 24h0m0s
	// 30 days asked, anonymous: 24h0m0s = 24h0m0s
}
