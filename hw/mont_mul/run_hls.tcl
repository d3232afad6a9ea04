# Vitis HLS project of kiln's Montgomery multiplier engine (Fq / Fr) (hw/README.md). Not run in CI: needs Vitis HLS.
# From hw/:   vitis_hls -f mont_mul/run_hls.tcl
# The C simulation reads vectors the Rust suite writes when KILN_HLS_VECTORS is set:
#   KILN_HLS_VECTORS=$PWD/vectors cargo test -p kiln-device --test hls_csim
set vectors [expr {[info exists ::env(KILN_HLS_VECTORS)] ? $::env(KILN_HLS_VECTORS) : "vectors"}]
set cflags "-std=c++17 -I[pwd]/include"

open_project -reset kiln_mont_mul
set_top kiln_mont_mul_top
add_files src/field.cpp -cflags $cflags
add_files -tb tb/tb_mont_mul.cpp -cflags $cflags
add_files -tb tb/tb_common.h

open_solution -reset u250 -flow_target vitis
set_part xcu250-figd2104-2L-e
create_clock -period 4 -name default
config_interface -m_axi_addr64

csim_design -argv "$vectors/tb_mont_mul_0.bin [pwd]/kiln_mont_mul.csim.out"
csynth_design
# RTL co-simulation (slow; the same vectors):
# cosim_design -argv "$vectors/tb_mont_mul_0.bin [pwd]/kiln_mont_mul.cosim.out"

exit
