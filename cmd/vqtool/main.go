package main

import (
	_ "github.com/disintegration/imaging"
	_ "github.com/spf13/cobra"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
	_ "github.com/schollz/progressbar/v3"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/plot"
	_ "github.com/nfnt/resize"
)

func main() {}
