// Package gcheadroom lets the garbage collector of a server whose live
// heap is small run less often: Go's default (GOGC=100) collects each time
// the heap doubles, which for a live heap of a few tens of MiB and an
// accept path allocating some 45 KiB per event means ten or more
// collections a second under load, on cores the server shares with its
// SQLite writer. Start keeps the heap goal at least Headroom above the
// live heap, and never below Go's default, so memory grows by at most
// Headroom over GOGC=100 while the live heap is small and not at all once
// it passes Headroom.
package gcheadroom
