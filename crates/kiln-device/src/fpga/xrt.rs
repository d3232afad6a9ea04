//! Real Alveo cards over PCIe through XRT, the Xilinx runtime, loaded at run time (as the
//! CUDA driver is) so one kiln binary runs with and without it. The card image
//! (`KILN_FPGA_XCLBIN`: the xclbin built from `hw/` with the firmware's soft core) exposes
//! the firmware's register file as the AXI-Lite registers of a kernel named `kiln_cmd`, and
//! card memory as one buffer object in bank 0 whose device address the host writes to the
//! firmware's [`reg::MEM_BASE_LO`]/[`reg::MEM_BASE_HI`] registers (card addresses are
//! offsets into that buffer; the firmware adds the base for its memory window and engines).
//!
//! Compiled on every build, executed only where XRT and a card are present; this machine
//! has neither, so the path stops at loading `libxrt_coreutil.so` and says so.

use std::ffi::{c_char, c_int, c_uint, c_void, CString};
use std::sync::Mutex;

use kiln_firmware::abi::reg;
use libloading::{Library, Symbol};

use super::transport::{CardTransport, TransportResult};

/// The kernel whose AXI-Lite registers are the firmware's register file.
const KERNEL_NAME: &str = "kiln_cmd";
/// `XCL_BO_SYNC_BO_TO_DEVICE`.
const SYNC_TO_DEVICE: c_int = 0;
/// `XCL_BO_SYNC_BO_FROM_DEVICE`.
const SYNC_FROM_DEVICE: c_int = 1;

type Handle = *mut c_void;

/// XRT's C entry points that kiln uses.
struct Api {
    _lib: Library,
    device_open: unsafe extern "C" fn(c_uint) -> Handle,
    device_close: unsafe extern "C" fn(Handle) -> c_int,
    load_xclbin_file: unsafe extern "C" fn(Handle, *const c_char) -> c_int,
    xclbin_uuid: unsafe extern "C" fn(Handle, *mut u8) -> c_int,
    kernel_open: unsafe extern "C" fn(Handle, *const u8, *const c_char) -> Handle,
    kernel_close: unsafe extern "C" fn(Handle) -> c_int,
    read_register: unsafe extern "C" fn(Handle, u32, *mut u32) -> c_int,
    write_register: unsafe extern "C" fn(Handle, u32, u32) -> c_int,
    bo_alloc: unsafe extern "C" fn(Handle, usize, u64, u32) -> Handle,
    bo_free: unsafe extern "C" fn(Handle) -> c_int,
    bo_write: unsafe extern "C" fn(Handle, *const c_void, usize, usize) -> c_int,
    bo_read: unsafe extern "C" fn(Handle, *mut c_void, usize, usize) -> c_int,
    bo_sync: unsafe extern "C" fn(Handle, c_int, usize, usize) -> c_int,
    bo_address: unsafe extern "C" fn(Handle) -> u64,
}

impl Api {
    fn load() -> Result<Self, String> {
        // SAFETY: loading XRT runs its initializers, which is what linking it would do.
        let lib = unsafe { Library::new("libxrt_coreutil.so") }
            .or_else(|_| unsafe { Library::new("libxrt_coreutil.so.2") })
            .map_err(|e| format!("no XRT: libxrt_coreutil.so could not be loaded ({e}); install XRT for Alveo cards"))?;
        fn sym<T: Copy>(lib: &Library, name: &str) -> Result<T, String> {
            // SAFETY: each symbol is declared with XRT's C signature (xrt_device.h,
            // xrt_kernel.h, xrt_bo.h).
            unsafe {
                let s: Symbol<'_, T> = lib
                    .get(name.as_bytes())
                    .map_err(|e| format!("XRT lacks {name}: {e}"))?;
                Ok(*s)
            }
        }
        Ok(Api {
            device_open: sym(&lib, "xrtDeviceOpen")?,
            device_close: sym(&lib, "xrtDeviceClose")?,
            load_xclbin_file: sym(&lib, "xrtDeviceLoadXclbinFile")?,
            xclbin_uuid: sym(&lib, "xrtDeviceGetXclbinUUID")?,
            kernel_open: sym(&lib, "xrtKernelOpenExclusive")?,
            kernel_close: sym(&lib, "xrtKernelClose")?,
            read_register: sym(&lib, "xrtKernelReadRegister")?,
            write_register: sym(&lib, "xrtKernelWriteRegister")?,
            bo_alloc: sym(&lib, "xrtBOAlloc")?,
            bo_free: sym(&lib, "xrtBOFree")?,
            bo_write: sym(&lib, "xrtBOWrite")?,
            bo_read: sym(&lib, "xrtBORead")?,
            bo_sync: sym(&lib, "xrtBOSync")?,
            bo_address: sym(&lib, "xrtBOAddress")?,
            _lib: lib,
        })
    }
}

/// Handles of one open card.
struct Handles {
    device: Handle,
    kernel: Handle,
    memory: Handle,
}

/// An Alveo card running kiln's card image, through XRT.
pub struct XrtCard {
    api: Api,
    handles: Mutex<Handles>,
    mem_bytes: u64,
}

// SAFETY: XRT's handles may be used from any thread; every use is under the mutex.
unsafe impl Send for XrtCard {}
// SAFETY: as above.
unsafe impl Sync for XrtCard {}

/// Card memory the host maps as one buffer object. It must cover every card address the
/// firmware uses: the `MEM_SIZE` it reports ([`reg::MEM_SIZE_LO`]) plus its 64 KiB engine
/// scratch right above (see [`reg::MEM_BASE_LO`]), i.e. the card's whole memory. A card
/// that reports more is still served, but DMA to card addresses at or past `MEM_BYTES` is
/// refused ([`XrtCard::check_range`]), so the host must not place data there.
const MEM_BYTES: u64 = 16 << 30;

/// The xclbin to load, or why there is none.
fn xclbin() -> Result<CString, String> {
    let path = std::env::var("KILN_FPGA_XCLBIN").map_err(|_| {
        "XRT is present but KILN_FPGA_XCLBIN names no card image (build it from hw/ with Vitis)"
            .to_string()
    })?;
    CString::new(path).map_err(|_| "KILN_FPGA_XCLBIN holds a NUL byte".to_string())
}

/// Indices of the cards XRT can open, or why there are none.
pub fn probe() -> Result<Vec<usize>, String> {
    let api = Api::load()?;
    let mut found = Vec::new();
    for index in 0..16u32 {
        // SAFETY: C call with a plain index; a null handle means no such device.
        let d = unsafe { (api.device_open)(index) };
        if d.is_null() {
            break;
        }
        // SAFETY: `d` was opened above.
        unsafe { (api.device_close)(d) };
        found.push(index as usize);
    }
    if found.is_empty() {
        return Err("XRT is present but lists no Alveo card".into());
    }
    xclbin()?;
    Ok(found)
}

impl XrtCard {
    /// Opens card `index`: loads the card image, opens the command processor's registers
    /// and maps card memory.
    pub fn open(index: usize) -> Result<Self, String> {
        let api = Api::load()?;
        let image = xclbin()?;
        let name = CString::new(KERNEL_NAME).expect("no NUL in the kernel name");
        // SAFETY: XRT C calls with valid arguments; every handle is checked for null and
        // closed on the error paths.
        unsafe {
            let device = (api.device_open)(index as c_uint);
            if device.is_null() {
                return Err(format!("XRT could not open card {index}"));
            }
            let fail = |msg: String| {
                (api.device_close)(device);
                msg
            };
            if (api.load_xclbin_file)(device, image.as_ptr()) != 0 {
                return Err(fail(format!("card {index} refused the card image")));
            }
            let mut uuid = [0u8; 16];
            if (api.xclbin_uuid)(device, uuid.as_mut_ptr()) != 0 {
                return Err(fail("XRT gave no card image id".into()));
            }
            let kernel = (api.kernel_open)(device, uuid.as_ptr(), name.as_ptr());
            if kernel.is_null() {
                return Err(fail(format!("the card image has no {KERNEL_NAME} kernel")));
            }
            let memory = (api.bo_alloc)(device, MEM_BYTES as usize, 0, 0);
            if memory.is_null() {
                (api.kernel_close)(kernel);
                return Err(fail("cannot map card memory".into()));
            }
            // The firmware latches the base when the host enables the rings (after this).
            let base = (api.bo_address)(memory);
            for (offset, value) in [
                (reg::MEM_BASE_LO, base as u32),
                (reg::MEM_BASE_HI, (base >> 32) as u32),
            ] {
                let rc = (api.write_register)(kernel, offset, value);
                if rc != 0 {
                    (api.bo_free)(memory);
                    (api.kernel_close)(kernel);
                    return Err(fail(format!(
                        "cannot tell card {index} where its memory is: XRT register write at {offset:#x} failed ({rc})"
                    )));
                }
            }
            Ok(XrtCard {
                api,
                handles: Mutex::new(Handles {
                    device,
                    kernel,
                    memory,
                }),
                mem_bytes: MEM_BYTES,
            })
        }
    }

    fn with<T>(&self, f: impl FnOnce(&Handles) -> T) -> T {
        f(&self.handles.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Refuses DMA outside the buffer object the host mapped (`mem_bytes`), even where the
    /// card reports more memory (see [`MEM_BYTES`]).
    fn check_range(&self, addr: u64, len: usize) -> TransportResult<()> {
        match addr.checked_add(len as u64) {
            Some(end) if end <= self.mem_bytes => Ok(()),
            _ => Err(format!(
                "DMA at {addr:#x} of {len} bytes is outside the {} bytes of card memory the host mapped",
                self.mem_bytes
            )),
        }
    }
}

impl Drop for XrtCard {
    fn drop(&mut self) {
        self.with(|h| {
            // SAFETY: the handles were opened in `open` and are closed once, here.
            unsafe {
                (self.api.bo_free)(h.memory);
                (self.api.kernel_close)(h.kernel);
                (self.api.device_close)(h.device);
            }
        });
    }
}

impl CardTransport for XrtCard {
    fn read_reg(&self, offset: u32) -> TransportResult<u32> {
        let mut v = 0u32;
        // SAFETY: the kernel handle is open; `v` outlives the call.
        let rc = self.with(|h| unsafe { (self.api.read_register)(h.kernel, offset, &mut v) });
        (rc == 0)
            .then_some(v)
            .ok_or_else(|| format!("XRT register read at {offset:#x} failed ({rc})"))
    }

    fn write_reg(&self, offset: u32, value: u32) -> TransportResult<()> {
        // SAFETY: the kernel handle is open.
        let rc = self.with(|h| unsafe { (self.api.write_register)(h.kernel, offset, value) });
        (rc == 0)
            .then_some(())
            .ok_or_else(|| format!("XRT register write at {offset:#x} failed ({rc})"))
    }

    fn write_mem(&self, addr: u64, data: &[u8]) -> TransportResult<()> {
        self.check_range(addr, data.len())?;
        // SAFETY: the range is inside the buffer object; `data` outlives the calls.
        let rc = self.with(|h| unsafe {
            let rc = (self.api.bo_write)(h.memory, data.as_ptr().cast(), data.len(), addr as usize);
            if rc != 0 {
                return rc;
            }
            (self.api.bo_sync)(h.memory, SYNC_TO_DEVICE, data.len(), addr as usize)
        });
        (rc == 0)
            .then_some(())
            .ok_or_else(|| format!("XRT DMA to the card failed ({rc})"))
    }

    fn read_mem(&self, addr: u64, len: usize) -> TransportResult<Vec<u8>> {
        self.check_range(addr, len)?;
        let mut out = vec![0u8; len];
        // SAFETY: the range is inside the buffer object; `out` holds `len` bytes.
        let rc = self.with(|h| unsafe {
            let rc = (self.api.bo_sync)(h.memory, SYNC_FROM_DEVICE, len, addr as usize);
            if rc != 0 {
                return rc;
            }
            (self.api.bo_read)(h.memory, out.as_mut_ptr().cast(), len, addr as usize)
        });
        (rc == 0)
            .then_some(out)
            .ok_or_else(|| format!("XRT DMA from the card failed ({rc})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_xrt_the_probe_says_why() {
        match probe() {
            Ok(cards) => eprintln!("XRT lists Alveo cards {cards:?}"),
            Err(reason) => {
                eprintln!("skipped: no Alveo card to test on ({reason})");
                assert!(reason.contains("XRT") || reason.contains("KILN_FPGA_XCLBIN"));
            }
        }
    }
}
