# Vitis HLS project of kiln's NTT engine over Fr (hw/README.md). Not run in CI: needs Vitis HLS.
# From hw/:   vitis_hls -f ntt/run_hls.tcl
# The C simulation reads vectors the Rust suite writes when KILN_HLS_VECTORS is set:
#   KILN_HLS_VECTORS=$PWD/vectors cargo test -p kiln-device --test hls_csim
set vectors [expr {[info exists ::env(KILN_HLS_VECTORS)] ? $::env(KILN_HLS_VECTORS) : "vectors"}]
set cflags "-std=c++17 -I[pwd]/include"

open_project -reset kiln_ntt
set_top kiln_ntt_top
add_files src/ntt.cpp -cflags $cflags
add_files -tb tb/tb_ntt.cpp -cflags $cflags
add_files -tb tb/tb_common.h

open_solution -reset u250 -flow_target vitis
set_part xcu250-figd2104-2L-e
create_clock -period 4 -name default
config_interface -m_axi_addr64

csim_design -argv "$vectors/tb_ntt_0.bin [pwd]/kiln_ntt.csim.out"
csynth_design
# RTL co-simulation (slow; the same vectors):
# cosim_design -argv "$vectors/tb_ntt_0.bin [pwd]/kiln_ntt.cosim.out"

exit
