package imageio

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LlamaGen's layout of token grids (its extract_codes_c2i.py), under a root
// folder: for image i,
//
//	ROOT/{dataset}{size}_codes/{i}.npy   int64 (1, num_aug, H*W): augmentation 0 the image, 1 its flip
//	ROOT/{dataset}{size}_labels/{i}.npy  int64 (1,)
//
// LlamaGen's CustomDataset reads {i}.npy for i in range(count) and, when
// "flip" is in the folder's name, picks one augmentation at random.

// LlamaGenDirs names the codes and labels folders of a data set.
func LlamaGenDirs(root, dataset string, size int) (codes, labels string) {
	base := filepath.Join(root, dataset+strconv.Itoa(size))
	return base + "_codes", base + "_labels"
}

// WriteLlamaGen writes grid i (augs: one grid of h*w tokens per
// augmentation) and its label (label < 0: none) in LlamaGen's layout.
func WriteLlamaGen(codesDir, labelsDir string, i int, augs [][]int32, label int32) error {
	return writeLlamaGen(codesDir, labelsDir, i, augs, label, nil)
}

// writeLlamaGen is WriteLlamaGen that adds the sha256 of each file written
// to digest, when not nil.
func writeLlamaGen(codesDir, labelsDir string, i int, augs [][]int32, label int32, digest hash.Hash) error {
	n := len(augs[0])
	flat := make([]int64, 0, len(augs)*n)
	for _, a := range augs {
		if len(a) != n {
			return fmt.Errorf("imageio: augmentations of %d and %d tokens", n, len(a))
		}
		for _, v := range a {
			flat = append(flat, int64(v))
		}
	}
	name := strconv.Itoa(i) + ".npy"
	sum, err := writeHashed(filepath.Join(codesDir, name), func(w io.Writer) error {
		return writeNPYInt64(w, flat, []int{1, len(augs), n})
	})
	if err != nil {
		return err
	}
	if digest != nil {
		io.WriteString(digest, sum)
	}
	if label < 0 {
		return nil
	}
	sum, err = writeHashed(filepath.Join(labelsDir, name), func(w io.Writer) error {
		return writeNPYInt64(w, []int64{int64(label)}, []int{1})
	})
	if err == nil && digest != nil {
		io.WriteString(digest, sum)
	}
	return err
}

// A LlamaGenWriter writes images as token grids in LlamaGen's layout.
type LlamaGenWriter struct {
	Root, Dataset string // the folders ROOT/{Dataset}{Size}_codes and _labels
	Size          int    // image size in the folder names
	Flip          bool   // augmentation 1 is each image mirrored left to right
	Grid          int    // tokens per grid
	// Tokenizer fingerprints the tokenizer's weights for the manifest
	// ("" when unknown).
	Tokenizer string
	// Encode writes the grids of n channel-major images into dst.
	Encode func(dst []int32, images []float32, n int) error
}

// llamaGenManifest names the manifest of shard i (0-based) of n of the data
// set whose codes folder is codes: ROOT/{dataset}{size}.vqtool-I-of-N.json,
// beside the folders LlamaGen reads.
func llamaGenManifest(codes string, i, n int) string {
	return fmt.Sprintf("%s.vqtool-%d-of-%d.json", strings.TrimSuffix(codes, "_codes"), i+1, n)
}

// llamaGenManifests lists the manifests of the data set whose codes folder
// is codes.
func llamaGenManifests(codes string) ([]string, error) {
	base := strings.TrimSuffix(codes, "_codes")
	entries, err := os.ReadDir(filepath.Dir(base))
	if err != nil {
		return nil, err
	}
	var found []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), filepath.Base(base)+".vqtool-")
		if ok && strings.HasSuffix(rest, ".json") && strings.Contains(rest, "-of-") {
			found = append(found, filepath.Join(filepath.Dir(base), e.Name()))
		}
	}
	return found, nil
}

// Write writes images i = first, first+step, ... of d as {i}.npy, with
// their labels when d has them; progress, if not nil, hears the images
// written so far and stops the writing with its error. A manifest commits
// the shard (see Manifest): written pending first, then the files, then
// complete with their digest; before the files, Write removes this shard's
// files of an earlier encode that this one does not replace (grids beyond
// d's, labels when d has none, temporary files of a killed write) and the
// manifests of another split, so that the folder ends holding this encode
// alone once every shard has run.
func (lw LlamaGenWriter) Write(d *Dataset, first, step int, progress func(done int) error) error {
	codes, labels := LlamaGenDirs(lw.Root, lw.Dataset, lw.Size)
	for _, dir := range []string{codes, labels} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	mp := llamaGenManifest(codes, first, step)
	others, err := llamaGenManifests(codes)
	if err != nil {
		return err
	}
	suffix := fmt.Sprintf("-of-%d.json", step)
	for _, o := range others {
		if !strings.HasSuffix(o, suffix) {
			if err := os.Remove(o); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	side := int(math.Sqrt(float64(lw.Grid)))
	augs := 1
	if lw.Flip {
		augs = 2
	}
	m := &Manifest{Grids: d.N, Grid: [2]int{side, lw.Grid / max(side, 1)}, Labels: d.Labels != nil, Classes: d.Classes,
		Tokenizer: lw.Tokenizer, Shard: fmt.Sprintf("%d/%d", first+1, step), Augmentations: augs}
	if err := writeManifest(mp, m); err != nil {
		return err
	}
	if err := clearShard(codes, first, step, d.N); err != nil {
		return err
	}
	keep := d.N
	if d.Labels == nil {
		keep = 0
	}
	if err := clearShard(labels, first, step, keep); err != nil {
		return err
	}
	digest := sha256.New()
	g, per := lw.Grid, d.ImageSize()
	both := make([]float32, 2*per)
	tok := make([]int32, 2*g)
	done := 0
	for i := first; i < d.N; i += step {
		img := d.Image(i)
		if lw.Flip {
			copy(both, img)
			flipTo(both[per:], img, d.C, d.H, d.W)
			img = both
		}
		if err := lw.Encode(tok[:augs*g], img, augs); err != nil {
			return err
		}
		grids := [][]int32{tok[:g], tok[g : 2*g]}[:augs]
		label := int32(-1)
		if d.Labels != nil {
			label = d.Labels[i]
		}
		if err := writeLlamaGen(codes, labels, i, grids, label, digest); err != nil {
			return err
		}
		done++
		if progress != nil {
			if err := progress(done); err != nil {
				return err
			}
		}
	}
	m.Complete, m.Digest = true, hexSum(digest)
	return writeManifest(mp, m)
}

// clearShard removes from dir the files of grids j = first (mod step) that
// are not below keep, and the temporary files of this shard's interrupted
// writes.
func clearShard(dir string, first, step, keep int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name, tmp := e.Name(), false
		if rest, ok := strings.CutPrefix(name, "."); ok { // atomicfile's .{j}.npy.tmpNNN
			name, tmp = rest, true
		}
		num, ok := strings.CutSuffix(name, ".npy")
		if tmp {
			num, _, ok = strings.Cut(name, ".npy.tmp")
		}
		j, err := strconv.Atoi(num)
		if !ok || err != nil || j < 0 || j%step != first || (!tmp && j < keep) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// flipTo writes the horizontal mirror of a channel-major image into dst.
func flipTo(dst, src []float32, c, h, w int) {
	for p := range c * h {
		row, out := src[p*w:(p+1)*w], dst[p*w:(p+1)*w]
		for x := range w {
			out[x] = row[w-1-x]
		}
	}
}

func writeNPYInt64(w io.Writer, data []int64, shape []int) error {
	return writeNPY(w, "<i8", len(data), shape, func(buf []byte, i int) {
		v := uint64(data[i])
		for b := range 8 {
			buf[b] = byte(v >> (8 * b))
		}
	})
}

// IsLlamaGen reports whether dir holds one LlamaGen codes folder.
func IsLlamaGen(dir string) bool {
	_, _, err := llamaGenFolders(dir)
	return err == nil
}

func llamaGenFolders(dir string) (codes, labels string, err error) {
	found, err := filepath.Glob(filepath.Join(dir, "*_codes"))
	if err != nil {
		return "", "", err
	}
	if len(found) != 1 {
		return "", "", fmt.Errorf("imageio: %s: %d folders named *_codes: want one (LlamaGen's layout)", dir, len(found))
	}
	codes = found[0]
	return codes, strings.TrimSuffix(codes, "_codes") + "_labels", nil
}

// LoadLlamaGen reads grids 0, 1, ... of a LlamaGen layout under dir
// (augmentation 0 of each, the image itself) as square grids, with labels
// when the labels folder holds one for every grid. When the folder has
// manifests (vqtool encode writes one a shard), every shard's must be there
// and complete, agree with the others, and record the files the folders
// hold (else the error is ErrIncomplete); a folder without any (LlamaGen's
// own, an older vqtool's) is read as it is.
func LoadLlamaGen(dir string) (*Tokens, error) {
	codes, labels, err := llamaGenFolders(dir)
	if err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(codes, "*.npy"))
	if err != nil {
		return nil, err
	}
	count := len(names)
	mans, err := readLlamaGenManifests(codes)
	if err != nil {
		return nil, err
	}
	haveLabels := true
	if _, err := os.Stat(labels); err != nil {
		haveLabels = false
	}
	var m *Manifest
	if mans != nil {
		m = mans[0]
		if count != m.Grids {
			return nil, fmt.Errorf("imageio: %s: %w: %d grid files, but the manifests record %d (files of another encode): encode it again", codes, ErrIncomplete, count, m.Grids)
		}
		haveLabels = m.Labels
		nl, err := filepath.Glob(filepath.Join(labels, "*.npy"))
		if err != nil {
			return nil, err
		}
		if want := map[bool]int{true: count}[m.Labels]; len(nl) != want {
			return nil, fmt.Errorf("imageio: %s: %w: %d label files, but the manifests record %d (files of another encode): encode it again", labels, ErrIncomplete, len(nl), want)
		}
	}
	if count == 0 {
		return nil, fmt.Errorf("imageio: %s: no grids", codes)
	}
	t := &Tokens{N: count}
	if m != nil {
		t.Classes, t.Tokenizer = m.Classes, m.Tokenizer
	}
	digests := make([]hash.Hash, len(mans))
	for k := range digests {
		digests[k] = sha256.New()
	}
	for i := range count {
		path := filepath.Join(codes, strconv.Itoa(i)+".npy")
		v, shape, sum, err := readNPYFileSum(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("imageio: %s: %d grids but no %d.npy: want files 0 to %d", codes, count, i, count-1)
		}
		if err != nil {
			return nil, err
		}
		if len(shape) != 3 || shape[0] != 1 || shape[1] < 1 {
			return nil, fmt.Errorf("imageio: %s: shape %v: want (1, augmentations, tokens)", path, shape)
		}
		if len(mans) > 0 {
			io.WriteString(digests[i%len(mans)], sum)
		}
		l := shape[2]
		side := int(math.Sqrt(float64(l)))
		if side*side != l || l == 0 || (t.H != 0 && side != t.H) {
			return nil, fmt.Errorf("imageio: %s: %d tokens: want a square grid like the others", path, l)
		}
		t.H, t.W = side, side
		if t.Codes == nil { // grown as files are read: the count of names is not the count of grids
			t.Codes = make([]int32, 0, min(count*l, 1<<20))
		}
		t.Codes = append(t.Codes, v[:l]...)
		if !haveLabels {
			continue
		}
		lp := filepath.Join(labels, strconv.Itoa(i)+".npy")
		lab, lshape, sum, err := readNPYFileSum(lp)
		if err != nil {
			return nil, err
		}
		if len(mans) > 0 {
			io.WriteString(digests[i%len(mans)], sum)
		}
		if len(lshape) != 1 || lshape[0] != 1 {
			return nil, fmt.Errorf("imageio: %s: shape %v: want (1,)", lp, lshape)
		}
		t.Labels = append(t.Labels, lab[0])
	}
	for k, man := range mans {
		if hexSum(digests[k]) != man.Digest {
			return nil, fmt.Errorf("imageio: %s: %w: the files of shard %s are not those its manifest records (an interrupted or concurrent encode, or files changed since): encode it again",
				dir, ErrIncomplete, man.Shard)
		}
	}
	if err := t.CheckLabels(nil, labels); err != nil {
		return nil, err
	}
	return t, nil
}

// readLlamaGenManifests reads the manifests of a LlamaGen folder, by shard
// (shard I at I-1): nil when there are none, an error that is ErrIncomplete
// when one is pending, a shard's is missing, or two disagree.
func readLlamaGenManifests(codes string) ([]*Manifest, error) {
	paths, err := llamaGenManifests(codes)
	if err != nil || len(paths) == 0 {
		return nil, err
	}
	var mans []*Manifest
	var first string
	for _, p := range paths {
		m, err := readManifest(p)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue // removed since listed
		}
		if !m.Complete {
			return nil, unfinished(filepath.Dir(codes), p)
		}
		var i, n int
		if _, err := fmt.Sscanf(m.Shard, "%d/%d", &i, &n); err != nil || n < 1 || i < 1 || i > n || n > 1<<20 {
			return nil, fmt.Errorf("imageio: %s: shard %q: want I/N", p, m.Shard)
		}
		if mans == nil {
			mans, first = make([]*Manifest, n), p
		}
		if n != len(mans) {
			return nil, fmt.Errorf("imageio: %s: %w: %s is shard %s but %s one of %d (manifests of two encodes)", filepath.Dir(codes), ErrIncomplete, p, m.Shard, first, len(mans))
		}
		mans[i-1] = m
	}
	for i, m := range mans {
		if m == nil {
			return nil, fmt.Errorf("imageio: %s: %w: no manifest of shard %d/%d: its encode has not run, or was killed before it began", filepath.Dir(codes), ErrIncomplete, i+1, len(mans))
		}
		o := mans[0]
		if o.Grids != m.Grids || o.Grid != m.Grid || o.Labels != m.Labels || o.Tokenizer != m.Tokenizer ||
			o.Augmentations != m.Augmentations || !slices.Equal(o.Classes, m.Classes) {
			return nil, fmt.Errorf("imageio: %s: %w: shards %s and %s were written by two encodes (%d and %d grids, tokenizers %s and %s): encode it again",
				filepath.Dir(codes), ErrIncomplete, o.Shard, m.Shard, o.Grids, m.Grids, o.Tokenizer, m.Tokenizer)
		}
	}
	return mans, nil
}
