//go:build amd64 && !purego

#include "textflag.h"

// func dotRows(q, k *float32, stride, n, dh int, scale float32, out *float32)
//
// out[j] = scale * sum_c q[c] k[j*stride+c] for j < n, c < dh (dh a multiple
// of 16).
TEXT ·dotRowsAVX512(SB), NOSPLIT, $0-56
	MOVQ q+0(FP), SI
	MOVQ k+8(FP), DI
	MOVQ stride+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), CX
	MOVQ dh+32(FP), R9
	SHRQ $4, R9
	VMOVSS scale+40(FP), X3
	MOVQ out+48(FP), DX
	TESTQ CX, CX
	JEQ dotdone
dotrow:
	VPXORD Z0, Z0, Z0
	MOVQ R9, R10
	XORQ AX, AX
dotchunk:
	VMOVUPS (SI)(AX*1), Z1
	VFMADD231PS (DI)(AX*1), Z1, Z0
	ADDQ $64, AX
	DECQ R10
	JNE dotchunk
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDSS X1, X0, X0
	VMULSS X3, X0, X0
	VMOVSS X0, (DX)
	ADDQ $4, DX
	ADDQ R8, DI
	DECQ CX
	JNE dotrow
dotdone:
	VZEROUPPER
	RET

// func axpyRows(p, v *float32, stride, n, dh int, out *float32)
//
// out[c] = sum_j p[j] v[j*stride+c] for c < dh (a multiple of 16), j < n.
TEXT ·axpyRowsAVX512(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), SI
	MOVQ v+8(FP), DI
	MOVQ stride+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), CX
	MOVQ dh+32(FP), R9
	SHRQ $4, R9
	MOVQ out+40(FP), DX
axpychunk:
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	MOVQ CX, R10
	MOVQ SI, R11
	MOVQ DI, R12
	TESTQ R10, R10
	JEQ axpystore
	// Two rows per step into two accumulators, then the odd one.
	SHRQ $1, R10
	JEQ axpyodd
axpypair:
	VBROADCASTSS (R11), Z1
	VFMADD231PS (R12), Z1, Z0
	VBROADCASTSS 4(R11), Z3
	VFMADD231PS (R12)(R8*1), Z3, Z2
	ADDQ $8, R11
	LEAQ (R12)(R8*2), R12
	DECQ R10
	JNE axpypair
axpyodd:
	TESTQ $1, CX
	JEQ axpystore
	VBROADCASTSS (R11), Z1
	VFMADD231PS (R12), Z1, Z0
axpystore:
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, (DX)
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ R9
	JNE axpychunk
	VZEROUPPER
	RET

// func argmin16(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32)
//
// Lane l of vals and idx gets the smallest x[i] over i = l (mod 16), and the
// first i where it occurs; n is a positive multiple of 16.
TEXT ·argmin16AVX512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $4, CX
	MOVQ iota+16(FP), AX
	VMOVDQU32 (AX), Z3
	VMOVUPS (SI), Z0
	VMOVDQA32 Z3, Z2
	MOVL $16, AX
	VPBROADCASTD AX, Z4
	ADDQ $64, SI
	DECQ CX
	JEQ argmindone
argminloop:
	VPADDD Z4, Z3, Z3
	VMOVUPS (SI), Z1
	VCMPPS $1, Z0, Z1, K1
	VMOVAPS Z1, K1, Z0
	VMOVDQA32 Z3, K1, Z2
	ADDQ $64, SI
	DECQ CX
	JNE argminloop
argmindone:
	MOVQ vals+24(FP), AX
	VMOVUPS Z0, (AX)
	MOVQ idx+32(FP), AX
	VMOVDQU32 Z2, (AX)
	VZEROUPPER
	RET

// func reluCopy(dst, src *float32, n int)
//
// dst[i] = max(src[i], 0) for i < n, n a multiple of 16.
TEXT ·reluCopyAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ reludone
	VPXORD Z1, Z1, Z1
reluloop:
	VMAXPS (SI), Z1, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNE reluloop
reludone:
	VZEROUPPER
	RET

// func maskPositive(dst, src, ref *float32, n int)
//
// dst[i] = src[i] where ref[i] > 0, else 0, for i < n (a multiple of 16).
TEXT ·maskPositiveAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ref+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JEQ maskdone
	VPXORD Z1, Z1, Z1
maskloop:
	VMOVUPS (DX), Z2
	VCMPPS $1, Z2, Z1, K1
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, DX
	DECQ CX
	JNE maskloop
maskdone:
	VZEROUPPER
	RET
