package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/gemm"
)

func TestKernelJSON(t *testing.T) {
	var out bytes.Buffer
	opts := kernelOptions{lossOptions: lossOptions{Tau: "1", Distance: "squared"}, Scalar: "0:9", Target: 5, JSON: true}
	if err := runKernel(context.Background(), &out, opts); err != nil {
		t.Fatal(err)
	}
	var res kernelResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	var z float64
	for v := range 10 {
		z += math.Exp(-float64((v - 5) * (v - 5)))
	}
	if len(res.P) != 10 || math.Abs(float64(res.P[5])-1/z) > 1e-6 || res.Tau != 1 {
		t.Errorf("target %v tau %v, want p(5) = %v", res.P, res.Tau, 1/z)
	}
	if math.Abs(res.Perplexity-math.Exp(res.Entropy)) > 1e-9 {
		t.Errorf("perplexity %v != exp(entropy %v)", res.Perplexity, res.Entropy)
	}
}

func TestKernelAutoTau(t *testing.T) {
	var out bytes.Buffer
	opts := kernelOptions{lossOptions: lossOptions{Tau: "auto", Perplexity: 4, Distance: "absolute"}, Scalar: "0:99", Target: 50, JSON: true}
	if err := runKernel(context.Background(), &out, opts); err != nil {
		t.Fatal(err)
	}
	var res kernelResult
	json.Unmarshal(out.Bytes(), &res)
	if !res.TauAuto || math.Abs(res.MeanPerplexity-4) > 0.04 {
		t.Errorf("auto tau %v: mean perplexity %v, want 4", res.Tau, res.MeanPerplexity)
	}
}

// Every bad flag is a usage error that names the flag and its value.
func TestKernelBadFlags(t *testing.T) {
	scalar := func(tau string, ppl float64, distance string) kernelOptions {
		return kernelOptions{lossOptions: lossOptions{Tau: tau, Perplexity: ppl, Distance: distance}, Scalar: "0:9"}
	}
	bad := []struct {
		opts kernelOptions
		want string
	}{
		{func() kernelOptions { o := scalar("1", 0, "squared"); o.Target = 10; return o }(), "--target 10"},
		{scalar("-1", 0, "squared"), `--tau "-1": want a number > 0, or auto`},
		{scalar("x", 0, "l2"), `--tau "x"`},
		{scalar("1", 0, "manhattan"), `--distance "manhattan": want`},
		{func() kernelOptions { o := scalar("1", 0, "squared"); o.Scalar = "9:0"; return o }(), "--scalar"},
		{scalar("auto", 50, "squared"), "--perplexity 50: want a number in (1, 10)"},
		{scalar("auto", -1, "squared"), "--perplexity -1: want"},
		{kernelOptions{lossOptions: lossOptions{Tau: "auto", Perplexity: 64, Distance: "cosine"}, Model: smallVQ, Token: 3}, "--perplexity 64"},
		{kernelOptions{lossOptions: lossOptions{Tau: "auto", Distance: "l3"}, Model: smallVQ}, `--distance "l3"`},
		{kernelOptions{lossOptions: defaultLossOptions()}, "kernel needs"},
	}
	for _, c := range bad {
		err := runKernel(context.Background(), &bytes.Buffer{}, c.opts)
		if !isUsage(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want a usage error with %q", c.opts, err, c.want)
		}
	}
}

func TestDataCommands(t *testing.T) {
	var out bytes.Buffer
	if err := runDataInfo(context.Background(), &out, dataInfoOptions{dataOptions: dataOptions{Data: "embedded", Split: "test"}, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var info imageio.Info
	json.Unmarshal(out.Bytes(), &info)
	if info.Images != 1000 || len(info.PerClass) != 10 {
		t.Errorf("info %+v", info)
	}
	png := filepath.Join(t.TempDir(), "grid.png")
	out.Reset()
	opts := dataShowOptions{dataOptions: dataOptions{Data: "embedded", Split: "train", Fit: "crop"}, N: 20, Cols: 10, Scale: 1, Out: png}
	if err := runDataShow(context.Background(), &out, opts); err != nil {
		t.Fatal(err)
	}
	img, err := imageio.DecodeFile(png)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dy() < 2*28 || !strings.Contains(out.String(), "Ankle boot") {
		t.Errorf("grid %v, output %q", img.Bounds(), out.String())
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := runVersion(context.Background(), &out, versionOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "kernels "+gemm.Name()) {
		t.Errorf("version output %q does not name the kernels (%s)", out.String(), gemm.Name())
	}
	if err := gemm.PathError(); err != nil && !strings.Contains(out.String(), err.Error()) {
		t.Errorf("version output %q does not say why VQTOOL_CPU was not followed (%v)", out.String(), err)
	}

	// The version comes from the build: a module version, else the commit.
	for _, c := range []struct {
		version string
		vcs     []debug.BuildSetting
		want    string
	}{
		{"v1.2.0", nil, "v1.2.0"},
		{"v0.0.0-20260101000000-0123456789ab+dirty", []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}, "v0.0.0-20260101000000-0123456789ab+dirty"},
		{"(devel)", []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "false"}}, "0123456789ab"},
		{"(devel)", []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}, "0123456789ab+dirty"},
		{"(devel)", nil, "(devel)"},
	} {
		v := versionInfo{Version: "(devel)"}
		v.setBuild(&debug.BuildInfo{Main: debug.Module{Version: c.version}, Settings: c.vcs})
		if v.Version != c.want {
			t.Errorf("built as %s %v: version %q, want %q", c.version, c.vcs, v.Version, c.want)
		}
	}
}

// Commands that measure read the test split unless told otherwise, and
// their help says so.
func TestMeasuringCommandsDefaultToTest(t *testing.T) {
	root := newRootCommand()
	for _, path := range [][]string{{"reconstruct"}, {"swap-tokens"}, {"codebook", "stats"}, {"codebook", "atlas"}} {
		cmd, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		f := cmd.Flags().Lookup("split")
		if f == nil || f.Value.String() != "test" || f.DefValue != "test" {
			t.Errorf("%v --split: %+v", path, f)
		}
	}
}
