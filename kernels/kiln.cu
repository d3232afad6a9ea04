// CUDA entry point: the same kernel sources as the OpenCL build, compiled by nvcc (CI checks
// sm_80 and sm_90, see kernels/ptxas.txt) or by NVRTC at run time.
#include "common.h"
#include "bn254.h"
#include "field.h"
#include "curve.h"
#include "msm.h"
#include "ntt.h"
