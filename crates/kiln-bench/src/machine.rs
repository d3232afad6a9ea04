//! The machine a run is made on: CPU model and the features field arithmetic uses, cores,
//! memory, OS, every accelerator with its driver, and kiln's build.

use kiln_device::{DeviceKind, DeviceReport, DeviceStatus};

use crate::report::{Accelerator, Machine};
use crate::spec::BuildInfo;

/// The CPU flags worth knowing for big-integer and field arithmetic.
const FLAGS_OF_INTEREST: [&str; 12] = [
    "adx",
    "bmi2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512dq",
    "avx512ifma",
    "avx512vl",
    "sha_ni",
    "aes",
    "pclmulqdq",
];

/// Reads the machine's description (Linux's `/proc` where it has it; what std knows
/// elsewhere), its accelerators from the inventory's `reports`.
pub fn describe(build: &BuildInfo, reports: &[DeviceReport]) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let accelerators = reports
        .iter()
        .filter_map(|r| match &r.status {
            DeviceStatus::Ready { info } if info.spec.kind != DeviceKind::Cpu => {
                Some(Accelerator {
                    device: info.spec.to_string(),
                    name: info.name.clone(),
                    driver: info.driver.clone(),
                    emulated: info.emulated,
                })
            }
            _ => None,
        })
        .collect();
    Machine {
        cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| std::env::consts::ARCH.to_string()),
        cpu_flags: cpu_flags(&cpuinfo),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        physical_cores: physical_cores(&cpuinfo),
        threads: rayon::current_num_threads(),
        memory_bytes: mem_total(&meminfo),
        os: format!("{} {}", std::env::consts::OS, release.trim())
            .trim()
            .to_string(),
        accelerators,
        kiln_version: build.version.clone(),
        kiln_features: build.features.clone(),
        build_profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_string(),
    }
}

/// The value of the first `key : value` line of `/proc/cpuinfo` text.
fn field<'a>(cpuinfo: &'a str, key: &str) -> Option<&'a str> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    field(cpuinfo, "model name")
        .or_else(|| field(cpuinfo, "Model"))
        .or_else(|| field(cpuinfo, "uarch"))
        .map(str::to_string)
}

fn cpu_flags(cpuinfo: &str) -> Vec<String> {
    let flags = field(cpuinfo, "flags")
        .or_else(|| field(cpuinfo, "Features"))
        .or_else(|| field(cpuinfo, "isa"))
        .unwrap_or("");
    let have: Vec<&str> = flags.split_whitespace().collect();
    FLAGS_OF_INTEREST
        .iter()
        .filter(|f| have.contains(f))
        .map(|f| f.to_string())
        .collect()
}

/// Distinct (physical id, core id) pairs.
fn physical_cores(cpuinfo: &str) -> Option<usize> {
    let mut seen = std::collections::HashSet::new();
    let mut phys = "0";
    for l in cpuinfo.lines() {
        if let Some((k, v)) = l.split_once(':') {
            match k.trim() {
                "physical id" => phys = v.trim(),
                "core id" => {
                    seen.insert((phys.to_string(), v.trim().to_string()));
                }
                _ => {}
            }
        }
    }
    (!seen.is_empty()).then_some(seen.len())
}

/// `MemTotal` in bytes.
pub(crate) fn mem_total(meminfo: &str) -> Option<u64> {
    let kb: u64 = field(meminfo, "MemTotal")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The host's main memory in bytes, where the OS says.
pub fn host_memory() -> Option<u64> {
    mem_total(&std::fs::read_to_string("/proc/meminfo").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPUINFO: &str = "processor\t: 0\nmodel name\t: Example CPU @ 3.0GHz\nphysical id\t: 0\ncore id\t\t: 0\nflags\t\t: fpu adx bmi2 avx2 sse\n\nprocessor\t: 1\nmodel name\t: Example CPU @ 3.0GHz\nphysical id\t: 0\ncore id\t\t: 0\nflags\t\t: fpu adx bmi2 avx2 sse\n";

    #[test]
    fn cpuinfo_is_read() {
        assert_eq!(cpu_model(CPUINFO).unwrap(), "Example CPU @ 3.0GHz");
        assert_eq!(cpu_flags(CPUINFO), vec!["adx", "bmi2", "avx2"]);
        assert_eq!(physical_cores(CPUINFO), Some(1));
        assert_eq!(
            mem_total("MemTotal:       1024 kB\nMemFree: 1 kB\n"),
            Some(1 << 20)
        );
    }

    #[test]
    fn this_machine_is_described() {
        let m = describe(
            &BuildInfo {
                version: "0.1.0".into(),
                features: vec!["fpga".into()],
            },
            &kiln_device::probe_devices::<kiln_algebra::curve::Bn254>(),
        );
        assert!(m.cores >= 1 && m.threads >= 1);
        assert!(!m.cpu_model.is_empty());
        assert_eq!(m.kiln_features, vec!["fpga"]);
    }
}
