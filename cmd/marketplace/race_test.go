//go:build race

package main

// raceDetector: under the race detector drawing is several times slower, so the tests draw
// a smaller catalogue (`make bench` checks the full one).
const raceDetector = true
