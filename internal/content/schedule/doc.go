// Package schedule holds the pure time arithmetic of a recipient's schedule:
// quiet hours, during which nothing is sent, and digest windows, which batch
// what arrives into one message sent when the window ends.
//
// Everything is computed on the wall clock of the recipient's location, so
// "07:00" stays 07:00 local across daylight-saving changes. A wall time that a
// change skips (02:30 on the morning clocks spring forward) resolves to the
// moment of the change, the first instant whose wall clock is at or after it;
// a wall time that a change repeats (01:30 on the morning clocks fall back)
// resolves to its first occurrence.
//
// A nil *time.Location means UTC throughout.
package schedule
