package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const smallVQ = "../../testdata/fmnist-small.vq"

// wantUsage checks that err is a usage error whose text holds every part.
func wantUsage(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	var ue usageError
	if !errors.As(err, &ue) {
		t.Errorf("%s: %v, want a usage error", what, err)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %q does not say %q", what, err, p)
		}
	}
}

// A --channels or --size that disagrees with the model is an error naming
// both values, not images reshaped until they fit.
func TestShapeFlagsMustMatchTheModel(t *testing.T) {
	dir := t.TempDir()
	eo := encodeOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 20, Channels: 3}, Model: smallVQ, Out: filepath.Join(dir, "e.npy"), Shard: "0/1"}
	wantUsage(t, "encode --channels 3", runEncode(context.Background(), &bytes.Buffer{}, eo, nil), "--channels 3", "1-channel")
	if _, err := os.Stat(eo.Out); err == nil {
		t.Error("encode wrote its output after the error")
	}
	ro := reconstructOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Size: 32}, Model: smallVQ, Out: filepath.Join(dir, "r.png"), N: 8, JSON: true}
	wantUsage(t, "reconstruct --size 32", runReconstruct(context.Background(), &bytes.Buffer{}, ro), "--size 32", "28x28")
	ro.Size, ro.Channels = 28, 1 // the model's own values are fine
	if err := runReconstruct(context.Background(), &bytes.Buffer{}, ro); err != nil {
		t.Errorf("reconstruct with the model's own size and channels: %v", err)
	}
}
