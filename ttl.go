package onetime

import (
	"fmt"
	"slices"
	"time"
)

// ttlSteps are the lifetimes of the default Options.TTLOptions, kept
// where they lie within the bounds.
var ttlSteps = []time.Duration{
	5 * time.Minute, 30 * time.Minute, time.Hour, 4 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// TTLChoices are the lifetimes one caller may choose among, as
// [Service.TTLChoices] reports them: what a front end offers, and the
// rule that Share applies to any lifetime asked, offered or not.
type TTLChoices struct {
	// Offered are the lifetimes to offer, shortest first: those of
	// Options.TTLOptions up to Max, and Default, which is always among
	// them.
	Offered []time.Duration
	// Default is the lifetime of a secret shared without one.
	Default time.Duration
	// Min and Max bound the lifetime the caller may ask for.
	Min, Max time.Duration
}

// Clamp returns the lifetime that Share grants the caller when asked for
// ttl: Default when ttl is zero, else ttl clamped into [Min, Max] (a
// negative ttl gives Min), in whole seconds.
func (c TTLChoices) Clamp(ttl time.Duration) time.Duration {
	if ttl == 0 {
		ttl = c.Default
	}
	return clampTTL(ttl, c.Min, c.Max)
}

// TTLChoices returns the lifetimes that owner ("" when anonymous) may
// choose among, maxTTL lowering its maximum as ShareRequest.MaxTTL does.
// The pages of package webui offer exactly Offered; Share and Generate,
// through whatever front end, clamp as Clamp does. A customer whose
// maxTTL is below the default is offered that maximum in its place, so
// that what a front end preselects is what the API grants by default.
func (s *Service) TTLChoices(owner string, maxTTL time.Duration) TTLChoices {
	c := TTLChoices{Min: s.opts.MinTTL, Max: s.opts.ttlLimit(owner, maxTTL)}
	c.Default = clampTTL(s.opts.DefaultTTL, c.Min, c.Max)
	end, _ := slices.BinarySearch(s.opts.TTLOptions, c.Max+1)
	c.Offered = slices.Clone(s.opts.TTLOptions[:end])
	if i, found := slices.BinarySearch(c.Offered, c.Default); !found {
		c.Offered = slices.Insert(c.Offered, i, c.Default)
	}
	return c
}

// clampTTL clamps ttl into [lo, hi], in whole seconds.
func clampTTL(ttl, lo, hi time.Duration) time.Duration {
	return min(max(ttl, lo), hi).Truncate(time.Second)
}

// ttlLimit is the longest lifetime that owner may grant: the maximum of
// its kind of caller, lowered to perCallerMax (but not below MinTTL)
// when that is positive.
func (o *Options) ttlLimit(owner string, perCallerMax time.Duration) time.Duration {
	limit := o.MaxTTL
	if owner != "" {
		limit = o.MaxTTLAuthenticated
	}
	if perCallerMax > 0 && perCallerMax < limit {
		limit = max(perCallerMax, o.MinTTL)
	}
	return limit
}

// defaultFromOptions picks the default lifetime among the TTLOptions of
// options that leave DefaultTTL unset: the longest up to DefaultTTL and
// the anonymous maximum, else the shortest. It runs before the defaults
// are filled in.
func (o *Options) defaultFromOptions() time.Duration {
	limit := DefaultTTL
	if o.MaxTTL > 0 {
		limit = min(limit, o.MaxTTL)
	}
	var longest, shortest time.Duration
	for _, d := range o.TTLOptions {
		if d <= 0 {
			continue // refused by resolveTTLOptions
		}
		if d <= limit {
			longest = max(longest, d)
		}
		if shortest == 0 || d < shortest {
			shortest = d
		}
	}
	if longest == 0 {
		return shortest
	}
	return longest
}

// resolveTTLOptions fills in the default TTLOptions, or checks the ones
// given (and takes a copy of them), once the bounds are resolved.
func (o *Options) resolveTTLOptions() error {
	hi := max(o.MaxTTL, o.MaxTTLAuthenticated)
	defaults := []struct {
		who string
		ttl time.Duration
	}{
		{"anonymous callers", clampTTL(o.DefaultTTL, o.MinTTL, o.MaxTTL)},
		{"customers", clampTTL(o.DefaultTTL, o.MinTTL, o.MaxTTLAuthenticated)},
	}
	if len(o.TTLOptions) == 0 {
		set := []time.Duration{o.MinTTL, o.MaxTTL, o.MaxTTLAuthenticated, defaults[0].ttl, defaults[1].ttl}
		for _, d := range ttlSteps {
			if d >= o.MinTTL && d <= hi {
				set = append(set, d)
			}
		}
		slices.Sort(set)
		o.TTLOptions = slices.Compact(set)
		return nil
	}
	o.TTLOptions = slices.Clone(o.TTLOptions)
	for i, d := range o.TTLOptions {
		switch {
		case d%time.Second != 0:
			return fmt.Errorf("onetime: TTLOptions: %v is not a whole number of seconds", d)
		case d < o.MinTTL:
			return fmt.Errorf("onetime: TTLOptions: %v is below MinTTL (%v)", d, o.MinTTL)
		case d > hi:
			return fmt.Errorf("onetime: TTLOptions: %v is above the longest lifetime allowed (%v)", d, hi)
		case i > 0 && d <= o.TTLOptions[i-1]:
			return fmt.Errorf("onetime: TTLOptions must be sorted, shortest first, without repeats (%v after %v)", d, o.TTLOptions[i-1])
		}
	}
	for _, k := range defaults {
		if _, found := slices.BinarySearch(o.TTLOptions, k.ttl); !found {
			return fmt.Errorf("onetime: TTLOptions lack %v, the default lifetime for %s (DefaultTTL up to their maximum)", k.ttl, k.who)
		}
	}
	return nil
}
