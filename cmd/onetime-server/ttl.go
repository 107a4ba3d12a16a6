package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/onetimego/onetime"
)

// ttlConfig is the TTL policy of the flags: the lifetimes the pages
// offer and the bounds that the API and the pages alike clamp to (see
// "Lifetimes" in package onetime's doc). A zero field means the
// library's default.
type ttlConfig struct {
	options      lifetimes // -ttl-options
	min          lifetime  // -min-ttl
	maxAnonymous lifetime  // -max-ttl-anonymous
	maxCustomer  lifetime  // -max-ttl-customer
	def          lifetime  // -default-ttl
}

// defineTTLFlags defines the flags of the TTL policy on fs.
func defineTTLFlags(fs *flag.FlagSet, c *ttlConfig) {
	c.min = lifetime(onetime.DefaultMinTTL)
	c.maxAnonymous = lifetime(onetime.DefaultMaxTTL)
	c.maxCustomer = lifetime(onetime.DefaultMaxTTLAuthenticated)
	fs.Var(&c.options, "ttl-options", "comma-separated `lifetimes` the pages offer, shortest first, e.g. 5m,1h,1d,7d (d: 24h), each within -min-ttl and the larger maximum, the default among them; a caller is offered those up to its maximum; the API takes any lifetime, clamped (default: -min-ttl, the maxima, the default and 5m,30m,1h,4h,12h,1d,3d,7d,14d,30d between)")
	fs.Var(&c.min, "min-ttl", "shortest `lifetime` of a secret, in whole seconds; shorter ones asked are raised to it")
	fs.Var(&c.maxAnonymous, "max-ttl-anonymous", "longest `lifetime` an anonymous caller may give a secret, through the API or the pages; longer ones asked are lowered to it")
	fs.Var(&c.maxCustomer, "max-ttl-customer", "longest `lifetime` a customer (a -users caller) may give a secret")
	fs.Var(&c.def, "default-ttl", "`lifetime` of a secret shared without one, clamped to the caller's maximum, which must be one of -ttl-options (default: 7d; with -ttl-options, the longest of them up to 7d and -max-ttl-anonymous)")
}

// apply sets the TTL policy in o and returns o.
func (c ttlConfig) apply(o *onetime.Options) *onetime.Options {
	o.TTLOptions = c.options
	o.MinTTL = time.Duration(c.min)
	o.MaxTTL = time.Duration(c.maxAnonymous)
	o.MaxTTLAuthenticated = time.Duration(c.maxCustomer)
	o.DefaultTTL = time.Duration(c.def)
	return o
}

// check refuses a policy that onetime.New would refuse, before anything
// is opened, in the flags' terms.
func (c ttlConfig) check(replayWindow time.Duration) error {
	o := c.apply(&onetime.Options{ReplayWindow: replayWindow})
	if err := o.Check(); err != nil {
		return fmt.Errorf("the TTL flags (-ttl-options, -min-ttl, -max-ttl-anonymous, -max-ttl-customer, -default-ttl, -replay-window): %w", err)
	}
	return nil
}

// A lifetime is a flag.Value for a duration that also takes days: "7d",
// "1d12h", as well as what time.ParseDuration takes ("90m").
type lifetime time.Duration

// String formats the lifetime as parseLifetime reads it, in days where
// it has some ("30d", "1d12h", "1h30m").
func (l *lifetime) String() string { return formatLifetime(time.Duration(*l)) }

// Set parses s, which must not be negative.
func (l *lifetime) Set(s string) error {
	d, err := parseLifetime(s)
	if err != nil {
		return err
	}
	*l = lifetime(d)
	return nil
}

// lifetimes is a flag.Value for a comma-separated list of lifetimes.
// Set replaces the list (a flag given twice, or the variable after the
// default, says the whole list); an empty one means the default list.
type lifetimes []time.Duration

func (l *lifetimes) String() string {
	s := make([]string, len(*l))
	for i, d := range *l {
		s[i] = formatLifetime(d)
	}
	return strings.Join(s, ",")
}

func (l *lifetimes) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		*l = nil // the default list
		return nil
	}
	var list []time.Duration
	for f := range strings.SplitSeq(s, ",") {
		d, err := parseLifetime(f)
		if err != nil {
			return err
		}
		list = append(list, d)
	}
	*l = list
	return nil
}

const day = 24 * time.Hour

// parseLifetime reads a duration as time.ParseDuration does, with a
// leading number of days allowed ("7d", "1d12h"); spaces around it are
// ignored. It refuses negative and empty lifetimes.
func parseLifetime(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New("empty lifetime")
	}
	var days time.Duration
	rest := in
	if n, r, ok := strings.Cut(in, "d"); ok {
		v, err := strconv.ParseUint(n, 10, 64)
		if err != nil || v > math.MaxInt64/uint64(day) || strings.HasPrefix(r, "+") || strings.HasPrefix(r, "-") {
			return 0, fmt.Errorf("lifetime %q: days must be a whole number before d, e.g. 7d or 1d12h", in)
		}
		days, rest = time.Duration(v)*day, r
		if rest == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(rest)
	switch {
	case err != nil:
		return 0, fmt.Errorf("lifetime %q: not a duration such as 90s, 5m, 1h or 7d", in)
	case d < 0:
		return 0, fmt.Errorf("lifetime %q: negative", in)
	case d > math.MaxInt64-days:
		return 0, fmt.Errorf("lifetime %q: too long", in)
	}
	return days + d, nil
}

// formatLifetime formats d as parseLifetime reads it: whole days as
// "7d", the rest as time.Duration.String without its zero units
// ("1d12h", "1h30m", "90s"); zero as "0", which the flags take as
// the default.
func formatLifetime(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < 0:
		return d.String()
	}
	var b strings.Builder
	if days := d / day; days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "d")
		d -= days * day
	}
	if d > 0 {
		s := d.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}
