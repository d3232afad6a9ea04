// OpenCL entry point. The host concatenates these files in this order
// (crates/kiln-device/src/gpu/kernel_source.rs),
// so the same list works without an include path: common.h bn254.h field.h curve.h msm.h ntt.h
