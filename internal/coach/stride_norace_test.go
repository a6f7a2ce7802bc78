//go:build !race

package coach_test

// corpusStride: see stride_race_test.go.
const corpusStride = 1
