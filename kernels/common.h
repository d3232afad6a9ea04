// Portability layer: the kernel sources are written once and compiled both as OpenCL C
// (by the OpenCL driver at run time) and as CUDA C++ (by nvcc or NVRTC). Everything
// backend-specific lives here; the other files use only these macros and plain C.
#ifndef KILN_COMMON_H
#define KILN_COMMON_H

#ifdef __CUDACC__
// ---- CUDA C++ ----
// Macros rather than typedefs: nvcc's host pass has already seen glibc's own typedefs of
// these names (NVRTC has not), and a macro works under both.
#define uint unsigned int
#define ulong unsigned long long
#define KERNEL extern "C" __global__
#define GLOBAL
#define LOCAL __shared__
#define DEVICE static __device__ __forceinline__
// Point additions and doublings are called, not inlined: inlining them into every loop
// multiplies code size, register pressure and compile time (G2 above all).
#define DEVICE_CALL static __device__ __noinline__
#define BARRIER() __syncthreads()
#define GID_X ((uint)(blockIdx.x * blockDim.x + threadIdx.x))
#define GID_Y ((uint)(blockIdx.y * blockDim.y + threadIdx.y))
#define LID_X ((uint)threadIdx.x)
#define ATOMIC_INC(p) atomicAdd((p), 1u)
#else
// ---- OpenCL C ----
#define KERNEL kernel
#define GLOBAL global
#define LOCAL local
#define DEVICE static inline
#define DEVICE_CALL static
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define GID_X ((uint)get_global_id(0))
#define GID_Y ((uint)get_global_id(1))
#define LID_X ((uint)get_local_id(0))
#define ATOMIC_INC(p) atomic_inc(p)
#endif

#endif
