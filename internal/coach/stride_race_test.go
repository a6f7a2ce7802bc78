//go:build race

package coach_test

// corpusStride: under the race detector, the tests that read the whole
// tone corpus read every corpusStride-th draft; make test-tone reads them
// all, without it.
const corpusStride = 20
