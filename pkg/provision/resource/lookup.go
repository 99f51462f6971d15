package resource

// LookupOwned is the one lookup of every kind: of the resources given,
// those owned (the step's ownership tags, checked in code since some APIs
// ignore tag filters) are found; the recorded one (recorded: its id) is
// kept and the rest are duplicates.
func LookupOwned[T any](recorded string, items []T, id func(T) string, owned func(T) bool) Found[T] {
	var mine []T
	for _, it := range items {
		if owned(it) {
			mine = append(mine, it)
		}
	}
	if len(mine) == 0 {
		return Found[T]{}
	}
	keep, dups := KeepOne(mine, id, recorded)
	return Found[T]{Cur: keep, Exists: true, Duplicates: dups}
}

// KeepOne picks the resource to keep among several that carry one step's
// tags (a create whose answer was lost, then made again): the recorded one,
// else the first. The others are duplicates.
func KeepOne[T any](items []T, id func(T) string, recorded string) (keep T, dups []T) {
	if len(items) == 0 {
		return keep, nil
	}
	k := 0
	for i, it := range items {
		if recorded != "" && id(it) == recorded {
			k = i
		}
	}
	for i, it := range items {
		if i != k {
			dups = append(dups, it)
		}
	}
	return items[k], dups
}

// DuplicateReasons are the plan's lines for duplicates to delete.
func DuplicateReasons(ids []string) []string {
	var rs []string
	for _, id := range ids {
		rs = append(rs, "delete duplicate "+id+" (made by an interrupted run)")
	}
	return rs
}

// Pointers turns an SDK answer's slice into pointers to its elements.
func Pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
