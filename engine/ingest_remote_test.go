package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestRemoteError_Timeout: a download stopped by a time limit says so and
// names the settings that bound the wait.
func TestRemoteError_Timeout(t *testing.T) {
	t.Parallel()
	err := remoteError(fmt.Errorf("fetch: %w", context.DeadlineExceeded))
	if ErrorCode(err) != Timeout {
		t.Errorf("code %s, want Timeout", ErrorCode(err))
	}
	for _, want := range []string{"took too long", "EXOHUNTER_FETCH_HEADER_TIMEOUT", "exohunter ingest URL"} {
		if !strings.Contains(ErrorMessage(err), want) {
			t.Errorf("message %q does not say %q", ErrorMessage(err), want)
		}
	}
}
