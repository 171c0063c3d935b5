package orchestrator

import (
	"fmt"
	"slices"
	"testing"
)

// TestAssignBalancesAndMovesLittle: every partition has one owner, each
// member owns its share (rounded down or up), the assignment does not
// depend on the order members were heard in, and a member joining moves
// few partitions.
func TestAssignBalancesAndMovesLittle(t *testing.T) {
	const n = 16
	var members []string
	for i := range 9 {
		members = append(members, fmt.Sprintf("member-%d", i))
	}
	var prev []string
	for k := 1; k <= len(members); k++ {
		owners := assign(n, members[:k])
		counts := map[string]int{}
		for p, o := range owners {
			if o == "" {
				t.Fatalf("%d members: partition %d has no owner", k, p)
			}
			counts[o]++
		}
		for _, m := range members[:k] {
			if c := counts[m]; c < n/k || c > (n+k-1)/k {
				t.Errorf("%d members: %s owns %d partitions, want %d or %d", k, m, c, n/k, (n+k-1)/k)
			}
		}
		reversed := slices.Clone(members[:k])
		slices.Reverse(reversed)
		if !slices.Equal(assign(n, reversed), owners) {
			t.Errorf("%d members: the assignment depends on the order members are heard in", k)
		}
		if prev != nil {
			moved := 0
			for p := range n {
				if owners[p] != prev[p] && owners[p] != members[k-1] {
					moved++
				}
			}
			if moved > n/2 {
				t.Errorf("member %d joining moved %d partitions between the others", k, moved)
			}
		}
		prev = owners
	}
	if got := assign(3, []string{"a", "a", "b"}); got[0] == "" || got[1] == "" || got[2] == "" {
		t.Fatalf("a member heard twice: %v", got)
	}
}
