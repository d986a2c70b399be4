//go:build amd64 && !purego

#include "textflag.h"

// The element-wise kernels of vec.go, 16 floats at a time; each function's
// plain Go loop in vec.go is its reference.

// GELU_CONSTS loads geluConsts (at AX) into Z16-Z29, in order: sqrt(2/pi),
// 0.044715, 0.5, 1, the six Pade coefficients, 4.97, -4.97, -1 and
// 3 * 0.044715 * sqrt(2/pi).
#define GELU_CONSTS \
	VBROADCASTSS 0(AX), Z16  \
	VBROADCASTSS 4(AX), Z17  \
	VBROADCASTSS 8(AX), Z18  \
	VBROADCASTSS 12(AX), Z19 \
	VBROADCASTSS 16(AX), Z20 \
	VBROADCASTSS 20(AX), Z21 \
	VBROADCASTSS 24(AX), Z22 \
	VBROADCASTSS 28(AX), Z23 \
	VBROADCASTSS 32(AX), Z24 \
	VBROADCASTSS 36(AX), Z25 \
	VBROADCASTSS 40(AX), Z26 \
	VBROADCASTSS 44(AX), Z27 \
	VBROADCASTSS 48(AX), Z28 \
	VBROADCASTSS 52(AX), Z29

// GELU_TANH sets Z1 = x^2 and Z5 = Tanh(sqrt(2/pi) (x + 0.044715 x^3)) for
// x in Z0; it uses Z2-Z4, K1 and K2.
#define GELU_TANH \
	VMULPS Z0, Z0, Z1         \
	VMULPS Z17, Z1, Z2        \
	VFMADD213PS Z0, Z0, Z2    \
	VMULPS Z16, Z2, Z2        \
	VMULPS Z2, Z2, Z3         \
	VADDPS Z22, Z3, Z4        \
	VFMADD213PS Z21, Z3, Z4   \
	VFMADD213PS Z20, Z3, Z4   \
	VMULPS Z2, Z4, Z4         \
	VMOVAPS Z25, Z5           \
	VFMADD213PS Z24, Z3, Z5   \
	VFMADD213PS Z23, Z3, Z5   \
	VFMADD213PS Z20, Z3, Z5   \
	VDIVPS Z5, Z4, Z5         \
	VCMPPS $0x0e, Z26, Z2, K1 \
	VMOVAPS Z19, K1, Z5       \
	VCMPPS $0x01, Z27, Z2, K2 \
	VMOVAPS Z28, K2, Z5

// HSUM0 sets X0 to the sum of the 16 floats of Z0; it uses Z1.
#define HSUM0 \
	VEXTRACTF64X4 $1, Z0, Y1 \
	VADDPS Y1, Y0, Y0        \
	VEXTRACTF128 $1, Y0, X1  \
	VADDPS X1, X0, X0        \
	VPERMILPS $0x4e, X0, X1  \
	VADDPS X1, X0, X0        \
	VPERMILPS $0xb1, X0, X1  \
	VADDSS X1, X0, X0

// func geluForward(dst, src *float32, n int, c *[14]float32)
TEXT ·geluForwardAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), AX
	SHRQ $4, CX
	JEQ gfdone
	GELU_CONSTS
gfloop:
	VMOVUPS (SI), Z0
	GELU_TANH
	VMULPS Z18, Z0, Z6
	VFMADD213PS Z6, Z6, Z5 // 0.5 x + 0.5 x tanh
	VMOVUPS Z5, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNE gfloop
gfdone:
	VZEROUPPER
	RET

// func geluBackward(dst, dy, x *float32, n int, c *[14]float32)
TEXT ·geluBackwardAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), AX
	SHRQ $4, CX
	JEQ gbdone
	GELU_CONSTS
gbloop:
	VMOVUPS (SI), Z0
	GELU_TANH
	VMOVAPS Z29, Z7
	VFMADD213PS Z16, Z1, Z7 // du = c + 3 a c x^2
	VMULPS Z18, Z0, Z6      // 0.5 x
	VMOVAPS Z19, Z8
	VFNMADD231PS Z5, Z5, Z8 // 1 - tanh^2
	VMULPS Z6, Z8, Z8
	VMULPS Z7, Z8, Z8
	VFMADD231PS Z18, Z5, Z8 // + 0.5 tanh
	VADDPS Z18, Z8, Z8      // + 0.5
	VMULPS (DX), Z8, Z8
	VMOVUPS Z8, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNE gbloop
gbdone:
	VZEROUPPER
	RET

// func layerNormRow(out, xhat, x, gamma, beta *float32, d int, eps float32) float32
//
// d is a positive multiple of 16.
TEXT ·layerNormRowAVX512(SB), NOSPLIT, $0-60
	MOVQ out+0(FP), DI
	MOVQ xhat+8(FP), R8
	MOVQ x+16(FP), SI
	MOVQ gamma+24(FP), R9
	MOVQ beta+32(FP), R10
	MOVQ d+40(FP), DX
	MOVQ DX, R11
	SHRQ $4, R11
	// mean
	VPXORD Z0, Z0, Z0
	XORQ AX, AX
	MOVQ R11, CX
lnsum:
	VADDPS (SI)(AX*1), Z0, Z0
	ADDQ $64, AX
	DECQ CX
	JNE lnsum
	HSUM0
	VCVTSI2SSQ DX, X7, X7
	VDIVSS X7, X0, X0
	VBROADCASTSS X0, Z8 // mean
	// variance
	VPXORD Z0, Z0, Z0
	XORQ AX, AX
	MOVQ R11, CX
lnvar:
	VMOVUPS (SI)(AX*1), Z2
	VSUBPS Z8, Z2, Z2
	VFMADD231PS Z2, Z2, Z0
	ADDQ $64, AX
	DECQ CX
	JNE lnvar
	HSUM0
	VDIVSS X7, X0, X0
	VADDSS eps+48(FP), X0, X0
	VSQRTSS X0, X0, X0
	MOVL $0x3f800000, AX
	VMOVD AX, X1
	VDIVSS X0, X1, X0
	VMOVSS X0, ret+56(FP)
	VBROADCASTSS X0, Z9 // rstd
	// xhat and out
	XORQ AX, AX
	MOVQ R11, CX
lnout:
	VMOVUPS (SI)(AX*1), Z2
	VSUBPS Z8, Z2, Z2
	VMULPS Z9, Z2, Z2
	VMOVUPS Z2, (R8)(AX*1)
	VMOVUPS (R9)(AX*1), Z3
	VFMADD213PS (R10)(AX*1), Z3, Z2
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNE lnout
	VZEROUPPER
	RET

// func layerNormGradRow(dx, dy, xhat, gamma *float32, d int, rstd float32)
//
// d is a positive multiple of 16.
TEXT ·layerNormGradRowAVX512(SB), NOSPLIT, $0-44
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ xhat+16(FP), R8
	MOVQ gamma+24(FP), R9
	MOVQ d+32(FP), DX
	MOVQ DX, R11
	SHRQ $4, R11
	VPXORD Z0, Z0, Z0 // sum dy g
	VPXORD Z4, Z4, Z4 // sum dy g xhat
	XORQ AX, AX
	MOVQ R11, CX
lngsum:
	VMOVUPS (SI)(AX*1), Z2
	VMULPS (R9)(AX*1), Z2, Z2
	VADDPS Z2, Z0, Z0
	VFMADD231PS (R8)(AX*1), Z2, Z4
	ADDQ $64, AX
	DECQ CX
	JNE lngsum
	VCVTSI2SSQ DX, X7, X7
	HSUM0
	VDIVSS X7, X0, X0
	VBROADCASTSS X0, Z8 // mean(dy g)
	VMOVAPS Z4, Z0
	HSUM0
	VDIVSS X7, X0, X0
	VBROADCASTSS X0, Z9 // mean(dy g xhat)
	VBROADCASTSS rstd+40(FP), Z10
	XORQ AX, AX
	MOVQ R11, CX
lngout:
	VMOVUPS (SI)(AX*1), Z2
	VMULPS (R9)(AX*1), Z2, Z2
	VSUBPS Z8, Z2, Z2
	VMOVUPS (R8)(AX*1), Z3
	VFNMADD231PS Z9, Z3, Z2
	VMULPS Z10, Z2, Z2
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNE lngout
	VZEROUPPER
	RET

// func colSums(dst, a, b *float32, rows, n, ld int)
//
// dst[j] += a[r*ld+j] (times b[r*ld+j] unless b is nil) for r < rows in
// order and j < n: rows > 0, n a positive multiple of 16.
TEXT ·colSumsAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ rows+24(FP), R8
	MOVQ n+32(FP), R9
	MOVQ ld+40(FP), R10
	SHLQ $2, R10
	SHRQ $4, R9
	TESTQ DX, DX
	JNE csdotrow
cssumrow:
	XORQ AX, AX
	MOVQ R9, CX
cssum:
	VMOVUPS (DI)(AX*1), Z0
	VADDPS (SI)(AX*1), Z0, Z0
	VMOVUPS Z0, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNE cssum
	ADDQ R10, SI
	DECQ R8
	JNE cssumrow
	VZEROUPPER
	RET
csdotrow:
	XORQ AX, AX
	MOVQ R9, CX
csdot:
	VMOVUPS (SI)(AX*1), Z1
	VMULPS (DX)(AX*1), Z1, Z1
	VADDPS (DI)(AX*1), Z1, Z1
	VMOVUPS Z1, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNE csdot
	ADDQ R10, SI
	ADDQ R10, DX
	DECQ R8
	JNE csdotrow
	VZEROUPPER
	RET

// func sumSquares(x *float32, n int) float64
//
// n is a positive multiple of 16; the squares are summed in float64.
TEXT ·sumSquaresAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $4, CX
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
ssloop:
	VCVTPS2PD (SI), Z2
	VCVTPS2PD 32(SI), Z3
	VFMADD231PD Z2, Z2, Z0
	VFMADD231PD Z3, Z3, Z1
	ADDQ $64, SI
	DECQ CX
	JNE ssloop
	VADDPD Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, ret+16(FP)
	VZEROUPPER
	RET

// func adamStep(w, grad, m, v *float32, n int, c *AdamConsts)
//
// n is a positive multiple of 16.
TEXT ·adamStepAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	SHRQ $4, CX
	VBROADCASTSS 0(AX), Z16  // gradient scale
	VBROADCASTSS 4(AX), Z17  // b1
	VBROADCASTSS 8(AX), Z18  // 1 - b1
	VBROADCASTSS 12(AX), Z19 // b2
	VBROADCASTSS 16(AX), Z20 // 1 - b2
	VBROADCASTSS 20(AX), Z21 // decay
	VBROADCASTSS 24(AX), Z22 // step
	VBROADCASTSS 28(AX), Z23 // rbc2
	VBROADCASTSS 32(AX), Z24 // eps
adamloop:
	VMULPS (SI), Z16, Z0
	VMULPS (R8), Z17, Z1
	VFMADD231PS Z18, Z0, Z1 // m
	VMULPS (R9), Z19, Z2
	VMULPS Z0, Z0, Z3
	VFMADD231PS Z20, Z3, Z2 // v
	VMOVUPS Z1, (R8)
	VMOVUPS Z2, (R9)
	VSQRTPS Z2, Z4
	VMOVAPS Z24, Z5
	VFMADD231PS Z23, Z4, Z5 // sqrt(v) rbc2 + eps
	VDIVPS Z5, Z1, Z6
	VMULPS (DI), Z21, Z7
	VFNMADD231PS Z22, Z6, Z7
	VMOVUPS Z7, (DI)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, DI
	DECQ CX
	JNE adamloop
	VZEROUPPER
	RET

// HMAX0 sets X0 to the largest of the 16 floats of Z0; it uses Z1.
#define HMAX0 \
	VEXTRACTF64X4 $1, Z0, Y1 \
	VMAXPS Y1, Y0, Y0        \
	VEXTRACTF128 $1, Y0, X1  \
	VMAXPS X1, X0, X0        \
	VPERMILPS $0x4e, X0, X1  \
	VMAXPS X1, X0, X0        \
	VPERMILPS $0xb1, X0, X1  \
	VMAXSS X1, X0, X0

// func softmaxRow(row *float32, width int, scale float32, c *[11]float32)
//
// row[j] = exp(scale (row[j] - max)) / sum over j < width (a positive
// multiple of 16); entries of -Inf become 0. c holds log2(e), ln2 in two
// parts (hi, lo), the Taylor coefficients 1/2 to 1/5040, 1 and the clamp
// -110, below which exp underflows to 0 through VSCALEFPS.
TEXT ·softmaxRowAVX512(SB), NOSPLIT, $0-32
	MOVQ row+0(FP), SI
	MOVQ width+8(FP), R11
	SHRQ $4, R11
	MOVQ c+24(FP), AX
	VBROADCASTSS 0(AX), Z16  // log2(e)
	VBROADCASTSS 4(AX), Z17  // ln2 hi
	VBROADCASTSS 8(AX), Z18  // ln2 lo
	VBROADCASTSS 12(AX), Z19 // 1/2
	VBROADCASTSS 16(AX), Z20 // 1/6
	VBROADCASTSS 20(AX), Z21 // 1/24
	VBROADCASTSS 24(AX), Z22 // 1/120
	VBROADCASTSS 28(AX), Z23 // 1/720
	VBROADCASTSS 32(AX), Z24 // 1/5040
	VBROADCASTSS 36(AX), Z25 // 1
	VBROADCASTSS 40(AX), Z26 // -110
	VBROADCASTSS scale+16(FP), Z27
	// the largest entry
	VMOVUPS (SI), Z0
	MOVQ $64, AX
	MOVQ R11, CX
	DECQ CX
	JEQ smmaxdone
smmax:
	VMAXPS (SI)(AX*1), Z0, Z0
	ADDQ $64, AX
	DECQ CX
	JNE smmax
smmaxdone:
	HMAX0
	VBROADCASTSS X0, Z8
	// exp and their sum
	VPXORD Z9, Z9, Z9
	XORQ AX, AX
	MOVQ R11, CX
smexp:
	VMOVUPS (SI)(AX*1), Z0
	VSUBPS Z8, Z0, Z0
	VMULPS Z27, Z0, Z0
	VMAXPS Z26, Z0, Z0
	VMULPS Z16, Z0, Z1
	VRNDSCALEPS $0, Z1, Z1
	VFNMADD231PS Z17, Z1, Z0
	VFNMADD231PS Z18, Z1, Z0
	VMOVAPS Z24, Z2
	VFMADD213PS Z23, Z0, Z2
	VFMADD213PS Z22, Z0, Z2
	VFMADD213PS Z21, Z0, Z2
	VFMADD213PS Z20, Z0, Z2
	VFMADD213PS Z19, Z0, Z2
	VFMADD213PS Z25, Z0, Z2
	VFMADD213PS Z25, Z0, Z2
	VSCALEFPS Z1, Z2, Z2
	VMOVUPS Z2, (SI)(AX*1)
	VADDPS Z2, Z9, Z9
	ADDQ $64, AX
	DECQ CX
	JNE smexp
	VMOVAPS Z9, Z0
	HSUM0
	VDIVSS X0, X25, X0
	VBROADCASTSS X0, Z8
	XORQ AX, AX
	MOVQ R11, CX
smnorm:
	VMULPS (SI)(AX*1), Z8, Z0
	VMOVUPS Z0, (SI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNE smnorm
	VZEROUPPER
	RET

// func softmaxGradRow(p, ds *float32, width int, scale float32)
//
// ds[j] = p[j] (ds[j] - sum_k p[k] ds[k]) scale for j < width (a positive
// multiple of 16).
TEXT ·softmaxGradRowAVX512(SB), NOSPLIT, $0-28
	MOVQ p+0(FP), SI
	MOVQ ds+8(FP), DI
	MOVQ width+16(FP), R11
	SHRQ $4, R11
	VPXORD Z0, Z0, Z0
	XORQ AX, AX
	MOVQ R11, CX
sgdot:
	VMOVUPS (SI)(AX*1), Z2
	VFMADD231PS (DI)(AX*1), Z2, Z0
	ADDQ $64, AX
	DECQ CX
	JNE sgdot
	HSUM0
	VBROADCASTSS X0, Z8
	VBROADCASTSS scale+24(FP), Z9
	XORQ AX, AX
	MOVQ R11, CX
sgout:
	VMOVUPS (DI)(AX*1), Z2
	VSUBPS Z8, Z2, Z2
	VMULPS (SI)(AX*1), Z2, Z2
	VMULPS Z9, Z2, Z2
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNE sgout
	VZEROUPPER
	RET

// func packRow(dst, src *float32, blocks, stride int)
TEXT ·packRowAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), CX
	MOVQ stride+24(FP), DX
	TESTQ CX, CX
	JEQ prdone
prloop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $128, SI
	ADDQ DX, DI
	DECQ CX
	JNE prloop
prdone:
	VZEROUPPER
	RET
