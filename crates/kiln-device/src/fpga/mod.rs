//! The FPGA backend (cargo feature `fpga`): a [`Device`](crate::Device) over a card that
//! runs kiln's firmware (`firmware/`, a `no_std` RISC-V crate) and HLS engines (`hw/`: a
//! pipelined Montgomery multiplier, G1/G2 XYZZ adders, the MSM bucket engine with its
//! hazard scheduler, the NTT engine).
//!
//! Two transports reach a card ([`transport::CardTransport`]: registers and DMA):
//! - [`emulator::EmulatedCard`]: the card emulated from its own sources: the firmware on a
//!   thread of its own, the engines' C++ compiled into kiln. It is always present (listed
//!   after any real card, as `fpga:N`, and labelled emulated); it computes on the host's
//!   cores, so `--device auto` leaves it out as it does PoCL. Each command reports the
//!   engine cycles of the pipeline models, so a run gives the modelled card time at the
//!   modelled clock beside its wall time ([`Device::usage`](crate::Device::usage)).
//! - [`xrt::XrtCard`]: an Alveo card through XRT, loaded at run time.
//!
//! Environment: `KILN_FPGA_TIMEOUT_MS` (how long the host waits for one command before it
//! resets the card; default 600 000), `KILN_FPGA_EMULATOR=off` (no emulated card),
//! `KILN_FPGA_EMU_FAULT` (faults for the emulated card to inject, see
//! [`emulator::FaultPlan`]), `KILN_FPGA_XCLBIN` (the card image for real cards).

pub mod device;
pub mod driver;
pub mod emulator;
pub mod engines;
pub mod heap;
pub mod transport;
pub mod xrt;

use std::time::Duration;

pub use device::FpgaDevice;
pub use emulator::{EmulatedCard, EmulatorConfig, FaultKind, FaultPlan};

use self::driver::CardDriver;
use super::{DeviceError, DeviceInfo, DeviceKind, DeviceSpec};
use kiln_algebra::curve::Curve;

/// Default of `KILN_FPGA_TIMEOUT_MS`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

fn spec(index: usize) -> DeviceSpec {
    DeviceSpec {
        kind: DeviceKind::Fpga,
        index,
    }
}

/// How long the host waits for one command.
fn timeout() -> Duration {
    std::env::var("KILN_FPGA_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

fn emulator_enabled() -> bool {
    !matches!(
        std::env::var("KILN_FPGA_EMULATOR").as_deref(),
        Ok("off" | "0" | "false")
    )
}

/// The emulated card's configuration from the environment.
fn emulator_config() -> Result<EmulatorConfig, String> {
    let mut config = EmulatorConfig::default();
    if let Ok(plan) = std::env::var("KILN_FPGA_EMU_FAULT") {
        if !plan.trim().is_empty() {
            config.faults = plan.trim().parse()?;
        }
    }
    Ok(config)
}

fn emulated_info(index: usize, config: &EmulatorConfig) -> DeviceInfo {
    DeviceInfo {
        spec: spec(index),
        name: format!(
            "kiln FPGA card, emulated (firmware + HLS C++ engines: {} MSM, {} NTT at {} MHz)",
            config.msm_engines,
            config.ntt_engines,
            engines::clock_mhz()
        ),
        memory_bytes: Some(config.mem_bytes),
        compute_units: config.msm_engines as usize,
        host_cpu: true,
        driver: Some(format!(
            "kiln card firmware (emulated), ABI v{}",
            kiln_firmware::abi::ABI_VERSION
        )),
        emulated: true,
    }
}

/// Every card: the Alveo cards XRT lists (when it and a card image are present), then the
/// emulated card. `Err` says why there are none.
pub fn probe() -> Result<Vec<DeviceInfo>, String> {
    let (real, why_no_real) = match xrt::probe() {
        Ok(cards) => (cards, None),
        Err(reason) => (Vec::new(), Some(reason)),
    };
    let mut out: Vec<DeviceInfo> = real
        .iter()
        .enumerate()
        .map(|(i, _)| DeviceInfo {
            spec: spec(i),
            name: "Alveo card running kiln's card image (XRT)".into(),
            memory_bytes: None,
            compute_units: 1,
            host_cpu: false,
            driver: Some("XRT".into()),
            emulated: false,
        })
        .collect();
    if emulator_enabled() {
        let config = emulator_config()?;
        out.push(emulated_info(out.len(), &config));
    }
    if out.is_empty() {
        return Err(why_no_real.unwrap_or_else(|| "no card".into()));
    }
    Ok(out)
}

/// Opens `fpga:index`.
pub fn open<C: Curve>(index: usize) -> Result<FpgaDevice<C>, DeviceError> {
    let spec = spec(index);
    let unavailable = |reason: String| DeviceError::Unavailable { spec, reason };
    let backend = |message: String| DeviceError::Backend { spec, message };
    let real = xrt::probe().unwrap_or_default();
    if index < real.len() {
        let card = xrt::XrtCard::open(real[index]).map_err(unavailable)?;
        let driver =
            CardDriver::open(Box::new(card), timeout()).map_err(|e| backend(e.to_string()))?;
        let info = DeviceInfo {
            spec,
            name: "Alveo card running kiln's card image (XRT)".into(),
            memory_bytes: Some(driver.mem_size()),
            compute_units: driver.msm_engines() as usize,
            host_cpu: false,
            driver: Some("XRT".into()),
            emulated: false,
        };
        return FpgaDevice::new(info, driver);
    }
    if index != real.len() || !emulator_enabled() {
        return Err(unavailable(format!(
            "there are {} FPGA cards (fpga:0..{}), {}",
            real.len() + usize::from(emulator_enabled()),
            real.len() + usize::from(emulator_enabled()),
            if emulator_enabled() {
                "the last one emulated"
            } else {
                "and the emulated card is off (KILN_FPGA_EMULATOR)"
            }
        )));
    }
    let config = emulator_config().map_err(unavailable)?;
    let info = emulated_info(index, &config);
    let card = EmulatedCard::start(config).map_err(backend)?;
    let driver = CardDriver::open(Box::new(card), timeout()).map_err(|e| backend(e.to_string()))?;
    FpgaDevice::new(info, driver)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;
    use crate::Device;
    use kiln_algebra::curve::Bn254;

    use kiln_firmware::abi::{Error as FwError, Opcode};

    fn small_card() -> CardDriver {
        let card = EmulatedCard::start(EmulatorConfig {
            mem_bytes: 16 << 20,
            ..EmulatorConfig::default()
        })
        .unwrap();
        CardDriver::open(Box::new(card), Duration::from_secs(30)).unwrap()
    }

    fn refused(r: Result<driver::Done, driver::DriverError>) -> (u32, u64) {
        match r {
            Err(driver::DriverError::Refused { status, detail, .. }) => (status, detail),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_card_refuses_malformed_descriptors_by_code_and_keeps_serving() {
        let mut d = small_card();
        let top = d.mem_size();
        let nop = [0u64; 7];
        let cases: [(u32, [u64; 7], FwError, u64); 6] = [
            (99, nop, FwError::UnknownOpcode, 0),
            (
                Opcode::Msm as u32,
                [7, 0, 1, 1 << 20, 8, 4, 2 << 20],
                FwError::UnknownTable,
                0,
            ),
            (
                Opcode::LoadTable as u32,
                [0, (1 << 20) + 8, 1, 1, 0, 0, 0],
                FwError::Misaligned,
                1,
            ),
            (
                Opcode::LoadTable as u32,
                [0, top - 64, 2, 1, 0, 0, 0],
                FwError::OutOfRange,
                1,
            ),
            (
                Opcode::LoadTable as u32,
                [0, 1 << 20, 0, 1, 0, 0, 0],
                FwError::BadLength,
                2,
            ),
            (
                Opcode::Ntt as u32,
                [1 << 20, 40, 1, 0, 2 << 20, 0, 0],
                FwError::BadLength,
                1,
            ),
        ];
        for (op, args, err, detail) in cases {
            let (status, got_detail) = refused(d.submit_code(op, args));
            assert_eq!((status, got_detail), (err as u32, detail), "{op} {args:?}");
        }
        // A table loads into its slot once; the slot is then in use.
        d.write(1 << 20, &[0u8; 64]).unwrap();
        d.submit(Opcode::LoadTable, [3, 1 << 20, 1, 1, 0, 0, 0])
            .unwrap();
        let (status, _) = refused(d.submit(Opcode::LoadTable, [3, 1 << 20, 1, 1, 0, 0, 0]));
        assert_eq!(status, FwError::TableInUse as u32);
        // A doorbell more than a ring ahead is an overrun: reported, and the card goes on.
        d.doorbell(100_000).unwrap();
        let err = d.submit(Opcode::Nop, nop).unwrap_err();
        assert!(err.to_string().contains("reset"), "{err}");
        assert!(d.counter(kiln_firmware::abi::Counter::Overruns).unwrap() >= 1);
        d.submit(Opcode::Nop, nop).unwrap();
        d.submit(Opcode::FreeTable, [3, 0, 0, 0, 0, 0, 0]).unwrap();
        let (status, _) = refused(d.submit(Opcode::FreeTable, [3, 0, 0, 0, 0, 0, 0]));
        assert_eq!(status, FwError::UnknownTable as u32);
        assert!(
            d.counter(kiln_firmware::abi::Counter::CommandsFailed)
                .unwrap()
                >= 8
        );
    }

    #[test]
    fn msms_split_into_double_buffered_chunks_match_the_cpu() {
        let index = xrt::probe().map_or(0, |c| c.len());
        let dev = open::<Bn254>(index).unwrap().with_msm_chunk(128);
        conformance::check_msm(&dev);
        let usage = crate::Device::usage(&dev);
        assert_eq!(usage.len(), 1, "{usage:?}");
        assert!(usage[0].commands > 0, "{}", usage[0]);
        assert!(usage[0].to_string().contains("commands"), "{}", usage[0]);
    }

    #[test]
    fn the_emulated_card_passes_the_conformance_suite() {
        let dev =
            open::<Bn254>(xrt::probe().map_or(0, |c| c.len())).expect("the emulated card opens");
        assert!(dev.info().emulated, "{:?}", dev.info());
        let driver = dev.info().driver.as_deref().unwrap_or_default();
        assert!(
            driver.contains("emulated") && driver.contains("ABI v"),
            "{driver}"
        );
        conformance::check_device(&dev);
        let report = crate::Device::usage(&dev);
        assert_eq!(report.len(), 1, "the card ran commands: {report:?}");
        assert!(
            report[0].to_string().contains("modelled card time"),
            "{}",
            report[0]
        );
    }

    #[test]
    fn usage_reports_the_modelled_card_clock_and_drains() {
        use crate::{DeviceUsage, UsageClock};
        use ark_ff::UniformRand;
        use rand::SeedableRng;

        let dev = open::<Bn254>(xrt::probe().map_or(0, |c| c.len())).unwrap();
        assert_eq!(Device::usage(&dev), Vec::new(), "nothing ran yet");
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let want: Vec<ark_bn254::Fr> = (0..64).map(|_| ark_bn254::Fr::rand(&mut rng)).collect();
        let mut batch = vec![want.clone()];
        dev.ntt(&mut batch, crate::NttOp::Forward).unwrap();
        dev.ntt(&mut batch, crate::NttOp::Inverse).unwrap();
        assert_eq!(batch[0], want, "forward then inverse is the identity");
        let usage = Device::usage(&dev);
        let [DeviceUsage {
            spec,
            commands,
            device_time,
            wall_time,
            clock: UsageClock::ModelledCard { cycles, clock_mhz },
        }] = usage.as_slice()
        else {
            panic!("one modelled-card entry expected: {usage:?}");
        };
        assert_eq!(*spec, dev.info().spec);
        // Forward is one command, inverse a transform and a scaling.
        assert_eq!(*commands, 3);
        assert!(*cycles > 0 && *clock_mhz > 0);
        assert_eq!(
            device_time.as_nanos(),
            u128::from(*cycles) * 1000 / u128::from(*clock_mhz)
        );
        assert!(*wall_time > std::time::Duration::ZERO);
        let text = usage[0].to_string();
        assert!(
            text.starts_with(&format!("{spec}: 3 commands, modelled card time "))
                && text.contains(&format!("({cycles} cycles at {clock_mhz} MHz), wall time ")),
            "{text}"
        );
        assert_eq!(Device::usage(&dev), Vec::new(), "the first call drained it");
    }
}
