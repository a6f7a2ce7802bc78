//go:build !race

package playbook_test

// exampleStride: see stride_race_test.go.
const exampleStride = 1
