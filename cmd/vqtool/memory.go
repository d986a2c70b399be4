package main

import (
	"errors"
	"fmt"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/memory"
)

// maxMemory returns the budget of --max-memory.
func maxMemory() int64 {
	if global.MaxMemory > 0 {
		return int64(global.MaxMemory)
	}
	return memory.DefaultBudget
}

// checkMemory refuses work whose large arrays, need bytes for what, exceed
// --max-memory: a usage error naming what, the bytes, the budget and the
// way out, less: the flags that ask for less.
func checkMemory(need int64, what, less string) error {
	return budgetError(memory.Check(need, maxMemory(), what), less)
}

// budgetError adds the way out, less, to an error over the memory budget
// and makes it a usage error; other errors it returns as they are.
func budgetError(err error, less string) error {
	if errors.Is(err, memory.ErrBudget) {
		return usagef("%v; %s, or raise the budget with --max-memory", err, less)
	}
	return err
}

// gridBytes returns the memory of a picture grid of n images of c x h x w
// pixels, cols to a row at scale, with captions: the decoded images as
// float32 and as cells, and the RGBA sheet.
func gridBytes(n, cols, c, h, w, scale int, captions []string) int64 {
	sw, sh := imageio.GridSize(n, w, h, imageio.GridOptions{Cols: cols, Scale: scale, Pad: 2, RowCaptions: captions})
	return memory.Add(memory.Mul(n, c, h, w, 4), memory.Mul(n, h, w, 4), memory.Mul(sw, sh, 4))
}

// checkGrid refuses a picture grid (see gridBytes) beyond --max-memory,
// naming its images and scale.
func checkGrid(n, cols, c, h, w, scale int, captions []string) error {
	return checkMemory(gridBytes(n, cols, c, h, w, scale, captions),
		fmt.Sprintf("a picture grid of %d images of %dx%d at scale %d", n, w, h, scale), "draw fewer with a smaller --n or --scale")
}
