package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryPlans checks that every statement finds its rows through an
// index: no statement's cost grows with the number of records stored
// (Sweep's with the number expired, Recent's with the owner's list).
func TestQueryPlans(t *testing.T) {
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "onetime.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	plan := func(q string, args ...any) string {
		rows, err := st.r.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		return strings.Join(lines, "; ")
	}
	b20 := make([]byte, 20)
	for _, tc := range []struct {
		name string
		q    string
		args []any
		want []string
	}{
		{"receipt", readQueries[rReceipt], []any{b20, 1}, []string{"SEARCH r USING PRIMARY KEY (id=?)", "SEARCH s USING PRIMARY KEY (id=?)"}},
		{"recent", readQueries[rRecent], []any{"o", 1, 10}, []string{"USING INDEX onetime_records_owner (owner=?)"}},
		{"take", writeQueries[wTakeSecret], []any{b20, 1, nil, nil}, []string{"USING PRIMARY KEY (id=?)"}},
		{"insert receipt", writeQueries[wInsertReceipt], []any{b20, b20, "o", 1, 0, "", 1, 1, nil, nil, 1, 1, nil, nil},
			[]string{"USING COVERING INDEX onetime_records_owner (owner=? AND created=?)"}},
		{"burn", writeQueries[wBurn], []any{b20, 1, 4, 1, 2}, []string{"SEARCH r USING PRIMARY KEY (id=?)", "SEARCH s USING PRIMARY KEY (id=?)"}},
		{"received", writeQueries[wReceived], []any{3, 1, b20}, []string{"USING PRIMARY KEY (id=?)"}},
		{"wrong attempt", writeQueries[wWrongAttempt], []any{b20, 1, nil}, []string{"USING PRIMARY KEY (id=?)"}},
		{"view read", writeQueries[wViewRead], []any{b20, 1}, []string{"SEARCH r USING PRIMARY KEY (id=?)", "SEARCH s USING PRIMARY KEY (id=?)"}},
		{"viewed", writeQueries[wViewed], []any{2, 1, b20, 1}, []string{"USING PRIMARY KEY (id=?)"}},
		{"peek", readQueries[rPeek], []any{b20, 1}, []string{"USING PRIMARY KEY (id=?)"}},
		{"sweep", writeQueries[wSweep], []any{1, 500}, []string{"USING COVERING INDEX onetime_records_expiry (expires_at<?)"}},
		{"replayed", writeQueries[wReplayed], []any{b20, 1}, []string{"USING PRIMARY KEY (id=?)"}},
		{"sweep replays", writeQueries[wSweepReplays], []any{1, 500}, []string{"USING COVERING INDEX onetime_replays_expiry (expires_at<?)"}},
	} {
		got := plan(tc.q, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: plan %q lacks %q", tc.name, got, w)
			}
		}
		if strings.Contains(got, "SCAN ") || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s: plan %q scans or sorts", tc.name, got)
		}
		t.Logf("%s: %s", tc.name, got)
	}
}
