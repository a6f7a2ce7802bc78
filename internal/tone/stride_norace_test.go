//go:build !race

package tone_test

// corpusStride: see stride_race_test.go.
const corpusStride = 1
