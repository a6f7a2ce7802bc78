package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// The mark is two overlapping speech bubbles, a conversation between two
// people, the front one carrying a check mark. Shapes are signed distance
// functions, sampled 8×8 times in each pixel they cross.

// The palette: a calm, deep teal behind a white and a pale mint bubble.
var (
	teal        = color.NRGBA{0x2D, 0x6E, 0x6C, 0xFF}
	mint        = color.NRGBA{0xA9, 0xD8, 0xCF, 0xFF}
	white       = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	transparent = color.NRGBA{}
)

// samples is the number of samples per pixel along each axis.
const samples = 8

// drawIcons writes color.png and outline.png into dir.
func drawIcons(dir string) error {
	for name, img := range map[string]image.Image{"color.png": colorIcon(), "outline.png": outlineIcon()} {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// colorIcon is the 192×192 icon: the mark on a full-bleed teal square (Teams
// masks the corners itself), inside the central 120×120 safe area.
func colorIcon() *image.NRGBA {
	m := mark{
		back:   bubble{x0: 72, y0: 42, x1: 154, y1: 106, r: 20, tail: [3]pt{{118, 104}, {140, 104}, {148, 126}}},
		front:  bubble{x0: 38, y0: 76, x1: 126, y1: 144, r: 22, tail: [3]pt{{56, 142}, {79, 142}, {47, 156}}},
		check:  [3]pt{{62, 111}, {78, 127}, {104, 96}},
		checkW: 10,
		gap:    6,
	}
	return render(colorSize, func(p pt) color.NRGBA {
		switch front := m.front.dist(p); {
		case front <= 0:
			if m.checkDist(p) <= m.checkW/2 {
				return teal
			}
			return white
		case front <= m.gap:
			return teal
		case m.back.dist(p) <= 0:
			return mint
		}
		return teal
	})
}

// outlineIcon is the 32×32 icon: the same mark in white on transparent, the
// back bubble drawn as a line and the check cut out of the front one.
func outlineIcon() *image.NRGBA {
	m := mark{
		back:   bubble{x0: 12, y0: 2, x1: 30, y1: 17, r: 4.5, tail: [3]pt{{22.5, 16.5}, {27, 16.5}, {28.5, 21.5}}},
		front:  bubble{x0: 2, y0: 10.5, x1: 21, y1: 26, r: 5, tail: [3]pt{{5.5, 25.5}, {10.5, 25.5}, {3, 30.5}}},
		check:  [3]pt{{6.8, 18.2}, {10.2, 21.4}, {16.2, 14.8}},
		checkW: 2.3,
		gap:    1.6,
	}
	const line = 2.0
	return render(outlineSize, func(p pt) color.NRGBA {
		switch front := m.front.dist(p); {
		case front <= 0:
			if m.checkDist(p) <= m.checkW/2 {
				return transparent
			}
			return white
		case front <= m.gap:
			return transparent
		case math.Abs(m.back.dist(p)+line/2) <= line/2:
			return white // a line just inside the back bubble's edge
		}
		return transparent
	})
}

// render draws a size×size image of scene. A pixel whose corners, edge
// midpoints and centre all show the same colour is that colour; any other
// is sampled samples×samples times and the colours averaged, weighted by
// their alpha. (No shape of the icons is thin enough to slip between the
// nine probes.)
func render(size int, scene func(pt) color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			img.SetNRGBA(x, y, pixel(float64(x), float64(y), scene))
		}
	}
	return img
}

func pixel(x, y float64, scene func(pt) color.NRGBA) color.NRGBA {
	first := scene(pt{x, y})
	uniform := true
	for _, d := range [...]pt{{0.5, 0}, {1, 0}, {0, 0.5}, {0.5, 0.5}, {1, 0.5}, {0, 1}, {0.5, 1}, {1, 1}} {
		if scene(pt{x + d.x, y + d.y}) != first {
			uniform = false
			break
		}
	}
	if uniform {
		return first
	}
	var r, g, b, a float64
	for sy := range samples {
		for sx := range samples {
			c := scene(pt{x + (float64(sx)+0.5)/samples, y + (float64(sy)+0.5)/samples})
			ca := float64(c.A) / 255
			r += float64(c.R) * ca
			g += float64(c.G) * ca
			b += float64(c.B) * ca
			a += ca
		}
	}
	if a == 0 {
		return transparent
	}
	return color.NRGBA{
		R: uint8(math.Round(r / a)), G: uint8(math.Round(g / a)), B: uint8(math.Round(b / a)),
		A: uint8(math.Round(a / (samples * samples) * 255)),
	}
}

// pt is a point in pixels, x to the right and y down.
type pt struct{ x, y float64 }

// mark is the two bubbles and the check mark on the front one.
type mark struct {
	back, front bubble
	check       [3]pt   // the check's polyline
	checkW      float64 // its line width
	gap         float64 // the space kept clear around the front bubble
}

func (m mark) checkDist(p pt) float64 {
	return min(segDist(p, m.check[0], m.check[1]), segDist(p, m.check[1], m.check[2]))
}

// bubble is a rounded rectangle with a triangular tail.
type bubble struct {
	x0, y0, x1, y1, r float64
	tail              [3]pt
}

// dist is the signed distance from p to the bubble's edge: negative inside.
func (b bubble) dist(p pt) float64 {
	return min(roundRect(p, b.x0, b.y0, b.x1, b.y1, b.r), triangle(p, b.tail))
}

// roundRect is the signed distance to a rectangle with corners of radius r.
func roundRect(p pt, x0, y0, x1, y1, r float64) float64 {
	cx, cy := (x0+x1)/2, (y0+y1)/2
	qx := math.Abs(p.x-cx) - ((x1-x0)/2 - r)
	qy := math.Abs(p.y-cy) - ((y1-y0)/2 - r)
	return length(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - r
}

// triangle is the signed distance to a triangle.
func triangle(p pt, t [3]pt) float64 {
	d := min(segDist(p, t[0], t[1]), segDist(p, t[1], t[2]), segDist(p, t[2], t[0]))
	cross := func(a, b pt) float64 { return (b.x-a.x)*(p.y-a.y) - (b.y-a.y)*(p.x-a.x) }
	c0, c1, c2 := cross(t[0], t[1]), cross(t[1], t[2]), cross(t[2], t[0])
	if (c0 >= 0 && c1 >= 0 && c2 >= 0) || (c0 <= 0 && c1 <= 0 && c2 <= 0) {
		return -d
	}
	return d
}

// segDist is the distance from p to the segment ab.
func segDist(p, a, b pt) float64 {
	dx, dy := b.x-a.x, b.y-a.y
	t := ((p.x-a.x)*dx + (p.y-a.y)*dy) / (dx*dx + dy*dy)
	t = max(0, min(1, t))
	return length(p.x-(a.x+t*dx), p.y-(a.y+t*dy))
}

// length is the length of (x, y); math.Hypot's care for overflow is not
// needed at icon sizes and costs more than the rest of the drawing.
func length(x, y float64) float64 { return math.Sqrt(x*x + y*y) }
