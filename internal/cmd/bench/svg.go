//go:build linux

package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

// chart is the data of a simple chart: a value per group (an x position)
// and series. A NaN value is missing and not drawn.
type chart struct {
	Title  string
	YLabel string
	Groups []string // x positions, left to right
	Series []series
}

type series struct {
	Name   string
	Values []float64 // one per group
}

// Chart geometry, in SVG user units.
const (
	svgW, svgH                   = 720, 360
	padL, padR, padT, padB       = 72, 16, 56, 44
	plotW, plotH                 = svgW - padL - padR, svgH - padT - padB
	yTicks                       = 5
	legendX, legendY, legendStep = padL, 40, 120
	fontAttrs                    = `font-family="sans-serif" font-size="12"`
)

var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"}

// niceCeil returns the smallest number of the form {1, 1.5, 2, 2.5, 3, 4,
// 5, 6, 8} x 10^k that is at least x (x > 0): a scale whose 5 ticks are
// round numbers; 1 for x <= 0 or NaN.
func niceCeil(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*p >= x*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// maxValue returns the largest value of the chart, NaN when it has none.
func (c chart) maxValue() float64 {
	m := math.NaN()
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) && (math.IsNaN(m) || v > m) {
				m = v
			}
		}
	}
	return m
}

// frame writes the SVG header, title, legend, y grid and x labels, and
// returns the y scale: the SVG y of a value.
func (c chart) frame(b *bytes.Buffer) func(float64) float64 {
	top := niceCeil(c.maxValue())
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s>`+"\n", svgW, svgH, svgW, svgH, fontAttrs)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", svgW, svgH)
	fmt.Fprintf(b, `<text x="%d" y="20" font-size="15" font-weight="bold">%s</text>`+"\n", padL, esc(c.Title))
	for i, s := range c.Series {
		x := legendX + i*legendStep
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, legendY-10, color(i), x+16, legendY, esc(s.Name))
	}
	y := func(v float64) float64 { return padT + plotH - v/top*plotH }
	for i := 0; i <= yTicks; i++ {
		v := top * float64(i) / yTicks
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, padL, padL+plotW, y(v), y(v))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, y(v)+4, esc(axisLabel(v)))
	}
	fmt.Fprintf(b, `<text transform="translate(14 %d) rotate(-90)" text-anchor="middle">%s</text>`+"\n", padT+plotH/2, esc(c.YLabel))
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333"/>`+"\n", padL, padL+plotW, padT+plotH, padT+plotH)
	for g, name := range c.Groups {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", c.groupX(g), padT+plotH+18, esc(name))
	}
	return y
}

// groupX returns the SVG x of the centre of group g.
func (c chart) groupX(g int) float64 {
	return padL + (float64(g)+0.5)*plotW/float64(max(len(c.Groups), 1))
}

// BarSVG draws the chart as grouped bars: in each group, a bar per series.
func (c chart) BarSVG() []byte {
	var b bytes.Buffer
	y := c.frame(&b)
	groupW := float64(plotW) / float64(max(len(c.Groups), 1))
	barW := groupW * 0.8 / float64(max(len(c.Series), 1))
	for g := range c.Groups {
		x0 := c.groupX(g) - groupW*0.4
		for i, s := range c.Series {
			if g >= len(s.Values) || math.IsNaN(s.Values[g]) {
				continue
			}
			v := s.Values[g]
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`+"\n",
				x0+float64(i)*barW, y(v), barW*0.92, y(0)-y(v), color(i), esc(s.Name), esc(c.Groups[g]), esc(fmtFloat(v, 3)))
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// LineSVG draws the chart as a line per series through its values, the
// groups evenly spaced (as categories: 1000, 100000, 1000000 stored).
func (c chart) LineSVG() []byte {
	var b bytes.Buffer
	y := c.frame(&b)
	for i, s := range c.Series {
		var pts bytes.Buffer
		for g, v := range s.Values {
			if g >= len(c.Groups) || math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", c.groupX(g), y(v))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %s: %s</title></circle>`+"\n", c.groupX(g), y(v), color(i), esc(s.Name), esc(c.Groups[g]), esc(fmtFloat(v, 3)))
		}
		if pts.Len() > 0 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", bytes.TrimSpace(pts.Bytes()), color(i))
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func color(i int) string { return palette[i%len(palette)] }

func esc(s string) string { return html.EscapeString(s) }

// axisLabel formats a tick value briefly: 12000 as 12k, 2.5 as 2.5.
func axisLabel(v float64) string {
	switch {
	case v >= 1e6:
		return fmtFloat(v/1e6, 2) + "M"
	case v >= 1e3:
		return fmtFloat(v/1e3, 2) + "k"
	default:
		return fmtFloat(v, 3)
	}
}
