# Vitis HLS project of kiln's MSM engine (G1; G2 in solution u250_g2) (hw/README.md). Not run in CI: needs Vitis HLS.
# From hw/:   vitis_hls -f msm/run_hls.tcl
# The C simulation reads vectors the Rust suite writes when KILN_HLS_VECTORS is set:
#   KILN_HLS_VECTORS=$PWD/vectors cargo test -p kiln-device --test hls_csim
set vectors [expr {[info exists ::env(KILN_HLS_VECTORS)] ? $::env(KILN_HLS_VECTORS) : "vectors"}]
set cflags "-std=c++17 -I[pwd]/include"

open_project -reset kiln_msm
set_top kiln_msm_g1_top
add_files src/msm.cpp -cflags $cflags
add_files -tb tb/tb_msm.cpp -cflags $cflags
add_files -tb tb/tb_common.h

open_solution -reset u250 -flow_target vitis
set_part xcu250-figd2104-2L-e
create_clock -period 4 -name default
config_interface -m_axi_addr64

csim_design -argv "$vectors/tb_msm_0.bin [pwd]/kiln_msm.csim.out"
csynth_design
# RTL co-simulation (slow; the same vectors):
# cosim_design -argv "$vectors/tb_msm_0.bin [pwd]/kiln_msm.cosim.out"
# The G2 engine: a second solution with the other top.
open_solution -reset u250_g2 -flow_target vitis
set_part xcu250-figd2104-2L-e
create_clock -period 4 -name default
set_top kiln_msm_g2_top
csynth_design
exit
