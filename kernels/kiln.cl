// OpenCL entry point. The host concatenates these files in this order (src/device/opencl),
// so the same list works without an include path: common.h bn254.h field.h curve.h msm.h ntt.h
