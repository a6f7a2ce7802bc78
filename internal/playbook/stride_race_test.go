//go:build race

package playbook_test

// exampleStride: under the race detector, TestEmbeddedContent runs every
// exampleStride-th tone example; make test-tone runs them all, without
// it.
const exampleStride = 20
