//! [`FpgaDevice`]: the [`Device`] over one card. Point tables are DMA'd to card memory once
//! and registered with the firmware (they stay resident across proofs); an MSM sends its
//! scalars and one descriptor, and combines the per-window segment sums the card returns;
//! an NTT sends the vectors and one descriptor per step. Every refusal, timeout or bad
//! value from the card is a [`DeviceError::Backend`], which a fleet counts as the card's
//! fault before redoing the work on the CPU.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ops::AddAssign;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ark_ec::AdditiveGroup;
use ark_ff::{FftField, Field};
use kiln_firmware::abi::{
    msm_windows, Counter, Error as FwError, Group as CardGroup, NttKind, Opcode, MAX_LOG_NTT,
    MAX_SEGMENTS, MAX_TABLES, MAX_WINDOW_BITS, MIN_WINDOW_BITS,
};

use super::driver::{CardDriver, DriverError, Posted};
use crate::resident::ResidentTables;
use crate::words::{g1_from_xyzz, g1_words, g2_from_xyzz, g2_words, scalar_words};
use crate::{
    BasesHandle, Device, DeviceError, DeviceInfo, DeviceUsage, Group, MsmJob, MsmSum, NttOp,
    NttStep, Points, UsageClock,
};
use kiln_algebra::curve::Curve;

/// A table resident on the card.
#[derive(Clone, Debug)]
struct CardTable {
    slot: u32,
    addr: u64,
    bytes: u64,
}

/// The driver and the firmware's table slots, behind the device's lock.
struct State {
    driver: CardDriver,
    free_slots: Vec<u32>,
}

/// What the card has spent since the last [`Device::usage`] report.
#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    cycles: u64,
    wall: Duration,
    commands: u64,
}

/// A card running kiln's firmware, over any transport.
pub struct FpgaDevice<C: Curve> {
    info: DeviceInfo,
    tables: ResidentTables<CardTable>,
    state: Mutex<State>,
    usage: Mutex<Usage>,
    /// Most points per MSM command (a larger MSM is split into double-buffered chunks).
    msm_chunk: usize,
    _curve: PhantomData<fn() -> C>,
}

/// Default [`FpgaDevice::with_msm_chunk`]: 2^20 points (32 MiB of scalars per command).
pub const DEFAULT_MSM_CHUNK: usize = 1 << 20;

/// Widest window worth its buckets for `n` points: the `c` minimizing the engine's cycles,
/// windows × (points + 2 × buckets).
fn window_bits(n: usize, forced: Option<u32>) -> u32 {
    if let Some(c) = forced {
        return c.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS);
    }
    (MIN_WINDOW_BITS..=MAX_WINDOW_BITS)
        .min_by_key(|&c| u64::from(msm_windows(c)) * (n as u64 + (2u64 << (c - 1))))
        .unwrap_or(MAX_WINDOW_BITS)
}

/// Reduction segments for window width `c`: enough interleaved running sums to keep the
/// adder's pipeline full, few enough that the host's share stays small.
fn segments(c: u32) -> u32 {
    (1u32 << (c - 1)).min(64).min(MAX_SEGMENTS)
}

/// `Σ_w 2^(c·w) Σ_s (R_s + k0_s·T_s)` over the card's per-window pairs `(R_s, T_s)`, where
/// `k0_s = s·B/S`: each window's `Σ_s s·T_s` is a running sum, times `B/S` by doublings.
fn combine<T>(pairs: &[T], c: u32, windows: usize, segments: usize) -> T
where
    T: AdditiveGroup + for<'a> AddAssign<&'a T>,
{
    let per_segment_doublings = (c - 1) - segments.trailing_zeros();
    let mut total = T::ZERO;
    for w in (0..windows).rev() {
        for _ in 0..c {
            total.double_in_place();
        }
        let win = &pairs[w * 2 * segments..(w + 1) * 2 * segments];
        let (mut running, mut weighted) = (T::ZERO, T::ZERO);
        for s in (1..segments).rev() {
            running += &win[2 * s + 1];
            weighted += &running;
        }
        for _ in 0..per_segment_doublings {
            weighted.double_in_place();
        }
        total += &weighted;
        for s in 0..segments {
            total += &win[2 * s];
        }
    }
    total
}

/// The time `cycles` engine cycles take at `mhz` MHz (at least 1).
fn card_time(cycles: u64, mhz: u32) -> Duration {
    let nanos = u128::from(cycles) * 1000 / u128::from(mhz.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The arguments of a FreeTable descriptor.
fn free_args(slot: u32) -> [u64; 7] {
    [u64::from(slot), 0, 0, 0, 0, 0, 0]
}

/// Whether `r` is the card's refusal with `error`.
fn refused_as<T>(r: &Result<T, DriverError>, error: FwError) -> bool {
    matches!(r, Err(DriverError::Refused { status, .. }) if *status == error as u32)
}

fn words_to_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn bytes_to_words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn card_group(g: Group) -> CardGroup {
    match g {
        Group::G1 => CardGroup::G1,
        Group::G2 => CardGroup::G2,
    }
}

impl<C: Curve> FpgaDevice<C> {
    /// The device over an open driver; refuses curves the engines do not implement.
    pub fn new(info: DeviceInfo, driver: CardDriver) -> Result<Self, DeviceError> {
        if C::SNARKJS_NAME != "bn128" || C::FQ_BYTES != 32 || C::FR_BYTES != 32 {
            return Err(DeviceError::Unavailable {
                spec: info.spec,
                reason: format!(
                    "the card's engines are built for BN254, not {}",
                    C::SNARKJS_NAME
                ),
            });
        }
        Ok(FpgaDevice {
            tables: ResidentTables::new(info.spec),
            info,
            state: Mutex::new(State {
                driver,
                free_slots: (0..MAX_TABLES).rev().collect(),
            }),
            usage: Mutex::new(Usage::default()),
            msm_chunk: DEFAULT_MSM_CHUNK,
            _curve: PhantomData,
        })
    }

    /// Splits MSMs into commands of at most `points` points (at least 1), double
    /// buffered.
    pub fn with_msm_chunk(mut self, points: usize) -> Self {
        self.msm_chunk = points.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn backend(&self, message: impl std::fmt::Display) -> DeviceError {
        DeviceError::Backend {
            spec: self.info.spec,
            message: message.to_string(),
        }
    }

    /// Runs one command, counting its card cycles and wall time.
    fn submit(&self, st: &mut State, opcode: Opcode, args: [u64; 7]) -> Result<(), DeviceError> {
        self.submit_driver(st, opcode, args)
            .map_err(|e| self.backend(e))
    }

    /// [`FpgaDevice::submit`] with the driver's own error.
    fn submit_driver(
        &self,
        st: &mut State,
        opcode: Opcode,
        args: [u64; 7],
    ) -> Result<(), DriverError> {
        let posted = st.driver.post(opcode as u32, args)?;
        self.finish_driver(st, posted)
    }

    /// Waits for a posted command, counting its card cycles and wall time.
    fn finish_driver(&self, st: &mut State, posted: Posted) -> Result<(), DriverError> {
        let t = Instant::now();
        let done = st.driver.wait(posted);
        let mut u = self.usage.lock().unwrap_or_else(PoisonError::into_inner);
        u.wall += t.elapsed();
        u.commands += 1;
        u.cycles += done.as_ref().map_or(0, |d| d.cycles);
        done.map(drop)
    }

    /// [`FpgaDevice::finish_driver`] with the device's error.
    fn finish(&self, st: &mut State, posted: Posted) -> Result<(), DeviceError> {
        self.finish_driver(st, posted).map_err(|e| self.backend(e))
    }

    /// Frees table slot `slot` on the card. The slot is free for reuse when the card
    /// answered that it is empty (freed now, or never loaded); one the card did not answer
    /// for stays out of use.
    fn free_slot(&self, st: &mut State, slot: u32) -> Result<(), DriverError> {
        let r = self.submit_driver(st, Opcode::FreeTable, free_args(slot));
        if r.is_ok() || refused_as(&r, FwError::UnknownTable) {
            st.free_slots.push(slot);
        }
        r
    }

    /// Allocates `len` bytes of card memory, runs `f` with the address, frees it.
    fn with_buffer<T>(
        &self,
        st: &mut State,
        len: u64,
        f: impl FnOnce(&mut State, u64) -> Result<T, DeviceError>,
    ) -> Result<T, DeviceError> {
        let addr = st.driver.alloc(len).map_err(|e| self.backend(e))?;
        let r = f(st, addr);
        st.driver.free(addr, len);
        r
    }

    fn io(&self, r: Result<Vec<u8>, DriverError>) -> Result<Vec<u8>, DeviceError> {
        r.map_err(|e| self.backend(e))
    }

    /// The card's telemetry counter `c`.
    pub fn counter(&self, c: Counter) -> Result<u64, DeviceError> {
        self.lock().driver.counter(c).map_err(|e| self.backend(e))
    }

    /// The MSM's per-window pairs as read back, one block per chunk of at most
    /// `msm_chunk` points, with the geometry they share. Chunks are double buffered: the
    /// scalars of the next chunk are DMA'd to the card while it works on the current one.
    #[allow(clippy::type_complexity)]
    fn msm_pairs(
        &self,
        job: &MsmJob<'_, C::Fr>,
        table: &CardTable,
        group: CardGroup,
    ) -> Result<(Vec<Vec<u8>>, u32, usize, usize), DeviceError> {
        let n = job.scalars.len();
        let chunk = self.msm_chunk.min(n);
        let c = window_bits(chunk, job.cfg.window_bits);
        let segs = segments(c);
        let windows = msm_windows(c) as usize;
        let result_len = (windows * segs as usize * 2 * group.xyzz_bytes()) as u64;
        let scalar_len = (chunk * 32) as u64;
        let mut st = self.lock();
        // Two scalar buffers and two result buffers: A and B alternate.
        let mut buffers = Vec::with_capacity(4);
        for len in [scalar_len, scalar_len, result_len, result_len] {
            match st.driver.alloc(len) {
                Ok(addr) => buffers.push((addr, len)),
                Err(e) => {
                    for (addr, len) in buffers {
                        st.driver.free(addr, len);
                    }
                    return Err(self.backend(e));
                }
            }
        }
        let mut in_flight: VecDeque<(Posted, usize)> = VecDeque::new();
        let mut out = Vec::with_capacity(n.div_ceil(chunk));
        let mut run = |st: &mut State, in_flight: &mut VecDeque<(Posted, usize)>| {
            for (k, lo) in (0..n).step_by(chunk).enumerate() {
                let hi = (lo + chunk).min(n);
                let b = k % 2;
                if in_flight.len() == 2 {
                    let (posted, done_b) = in_flight.pop_front().expect("two in flight");
                    self.finish(st, posted)?;
                    out.push(self.io(st.driver.read(buffers[2 + done_b].0, result_len as usize))?);
                }
                let scalars = words_to_bytes(&scalar_words(&job.scalars[lo..hi]));
                st.driver
                    .write(buffers[b].0, &scalars)
                    .map_err(|e| self.backend(e))?;
                let args = [
                    u64::from(table.slot),
                    (job.start + lo) as u64,
                    (hi - lo) as u64,
                    buffers[b].0,
                    u64::from(c),
                    u64::from(segs),
                    buffers[2 + b].0,
                ];
                let posted = st
                    .driver
                    .post(Opcode::Msm as u32, args)
                    .map_err(|e| self.backend(e))?;
                in_flight.push_back((posted, b));
            }
            while let Some((posted, b)) = in_flight.pop_front() {
                self.finish(st, posted)?;
                out.push(self.io(st.driver.read(buffers[2 + b].0, result_len as usize))?);
            }
            Ok::<(), DeviceError>(())
        };
        let r = run(&mut st, &mut in_flight);
        // After a failure, what is still in flight finishes (or is dropped by a reset)
        // before its buffers are freed.
        while let Some((posted, _)) = in_flight.pop_front() {
            let _ = self.finish(&mut st, posted);
        }
        for (addr, len) in buffers {
            st.driver.free(addr, len);
        }
        r?;
        Ok((out, c, windows, segs as usize))
    }

    /// The sum of the chunks' pairs, point by point (pairs combine linearly).
    fn sum_chunks<T: AdditiveGroup + for<'a> AddAssign<&'a T>>(
        &self,
        chunks: &[Vec<u8>],
        parse: impl Fn(&[u32]) -> Option<Vec<T>>,
    ) -> Result<Vec<T>, DeviceError> {
        let mut sum: Option<Vec<T>> = None;
        for chunk in chunks {
            let pairs = parse(&bytes_to_words(chunk))
                .ok_or_else(|| self.backend("the card returned an unreduced field element"))?;
            match &mut sum {
                None => sum = Some(pairs),
                Some(s) => s.iter_mut().zip(&pairs).for_each(|(a, b)| *a += b),
            }
        }
        Ok(sum.unwrap_or_default())
    }
}

impl<C: Curve> Device<C> for FpgaDevice<C> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn load(&self, points: Points<C>) -> Result<BasesHandle, DeviceError> {
        if points.is_empty() {
            // Nothing to keep on the card: a table of no points needs no slot.
            return Ok(self.tables.insert(
                CardTable {
                    slot: u32::MAX,
                    addr: 0,
                    bytes: 0,
                },
                points.group(),
                0,
            ));
        }
        let bytes = words_to_bytes(&match &points {
            Points::G1(p) => g1_words::<C>(p),
            Points::G2(p) => g2_words::<C>(p),
        });
        let mut st = self.lock();
        let slot = st
            .free_slots
            .pop()
            .ok_or_else(|| self.backend(format!("the card holds {MAX_TABLES} tables already")))?;
        let len = bytes.len() as u64;
        let addr = match st.driver.alloc(len) {
            Ok(addr) => addr,
            Err(e) => {
                st.free_slots.push(slot);
                return Err(self.backend(e));
            }
        };
        let args = [
            u64::from(slot),
            addr,
            points.len() as u64,
            card_group(points.group()) as u64,
            0,
            0,
            0,
        ];
        let loaded = match st.driver.write(addr, &bytes) {
            Ok(()) => self.submit_driver(&mut st, Opcode::LoadTable, args),
            Err(e) => Err(e),
        };
        match loaded {
            Ok(()) => Ok(self.tables.insert(
                CardTable {
                    slot,
                    addr,
                    bytes: len,
                },
                points.group(),
                points.len(),
            )),
            Err(e) => {
                st.driver.free(addr, len);
                // A load the card refused for its arguments left the slot as it was;
                // one refused because the slot is taken, or one that got no answer (the
                // card may have loaded it and lost the completion), is freed on the card
                // before the slot is used again.
                let untouched = matches!(&e, DriverError::Refused { status, .. } if *status != FwError::TableInUse as u32);
                if untouched {
                    st.free_slots.push(slot);
                } else {
                    let _ = self.free_slot(&mut st, slot);
                }
                Err(self.backend(e))
            }
        }
    }

    fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError> {
        let table = self.tables.remove(bases)?.table;
        if table.slot == u32::MAX {
            return Ok(());
        }
        let mut st = self.lock();
        // The host forgets the table either way; a slot the card did not answer for stays
        // out of use.
        st.driver.free(table.addr, table.bytes);
        self.free_slot(&mut st, table.slot)
            .map_err(|e| self.backend(e))
    }

    fn msm(&self, job: &MsmJob<'_, C::Fr>) -> Result<MsmSum<C>, DeviceError> {
        let table = self.tables.for_msm(job)?;
        if job.scalars.is_empty() {
            return Ok(MsmSum::zero(table.group));
        }
        let group = card_group(table.group);
        let (chunks, c, windows, segs) = self.msm_pairs(job, &table.table, group)?;
        Ok(match table.group {
            Group::G1 => MsmSum::G1(combine(
                &self.sum_chunks(&chunks, g1_from_xyzz::<C>)?,
                c,
                windows,
                segs,
            )),
            Group::G2 => MsmSum::G2(combine(
                &self.sum_chunks(&chunks, g2_from_xyzz::<C>)?,
                c,
                windows,
                segs,
            )),
        })
    }

    fn ntt(&self, vectors: &mut [Vec<C::Fr>], op: NttOp<C::Fr>) -> Result<(), DeviceError> {
        let Some(n) = crate::ntt_batch_len(vectors)? else {
            return Ok(());
        };
        let log_n = n.trailing_zeros();
        if log_n > MAX_LOG_NTT {
            return Err(self.backend(format!(
                "the card's NTT engine takes at most 2^{MAX_LOG_NTT} elements, not 2^{log_n}"
            )));
        }
        let no_root = || {
            self.backend(format!(
                "no root of unity of order {n}, or no inverse of the shift"
            ))
        };
        let steps = crate::ntt_steps(op, n).ok_or_else(no_root)?;
        let omega = C::Fr::get_root_of_unity(n as u64).ok_or_else(no_root)?;
        let omega_inv = omega.inverse().ok_or_else(no_root)?;
        let mut data = vec![0u8; vectors.len() * n * 32];
        for (x, out) in vectors.iter().flatten().zip(data.chunks_exact_mut(32)) {
            C::fr_to_mont_le(x, out);
        }
        let fr = |x: &C::Fr| {
            let mut b = [0u8; 32];
            C::fr_to_mont_le(x, &mut b);
            b
        };
        let mut st = self.lock();
        let out = self.with_buffer(&mut st, data.len() as u64, |st, daddr| {
            st.driver.write(daddr, &data).map_err(|e| self.backend(e))?;
            self.with_buffer(st, 64, |st, paddr| {
                for step in &steps {
                    let (kind, params) = match step {
                        NttStep::Transform { inverse } => {
                            let w = if *inverse { &omega_inv } else { &omega };
                            (NttKind::Transform, fr(w).to_vec())
                        }
                        NttStep::Scale { factor, shift } => {
                            (NttKind::Scale, [fr(factor), fr(shift)].concat())
                        }
                    };
                    st.driver
                        .write(paddr, &params)
                        .map_err(|e| self.backend(e))?;
                    self.submit(
                        st,
                        Opcode::Ntt,
                        [
                            daddr,
                            u64::from(log_n),
                            vectors.len() as u64,
                            kind as u64,
                            paddr,
                            0,
                            0,
                        ],
                    )?;
                }
                self.io(st.driver.read(daddr, data.len()))
            })
        })?;
        drop(st);
        for (x, b) in vectors.iter_mut().flatten().zip(out.chunks_exact(32)) {
            *x = C::fr_from_mont_le(b)
                .ok_or_else(|| self.backend("the card returned an unreduced field element"))?;
        }
        Ok(())
    }

    fn usage(&self) -> Vec<DeviceUsage> {
        let u = std::mem::take(&mut *self.usage.lock().unwrap_or_else(PoisonError::into_inner));
        if u.commands == 0 {
            return Vec::new();
        }
        let mhz = self.lock().driver.clock_mhz().max(1);
        vec![DeviceUsage {
            spec: self.info.spec,
            commands: u.commands,
            device_time: card_time(u.cycles, mhz),
            wall_time: u.wall,
            clock: UsageClock::ModelledCard {
                cycles: u.cycles,
                clock_mhz: mhz,
            },
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::G1Projective;
    use ark_ec::PrimeGroup;

    #[test]
    fn windows_follow_the_cycle_model() {
        assert_eq!(window_bits(1 << 16, None), 13);
        assert_eq!(window_bits(1, None), MIN_WINDOW_BITS);
        assert_eq!(window_bits(1 << 30, None), MAX_WINDOW_BITS);
        assert_eq!(window_bits(10, Some(40)), MAX_WINDOW_BITS);
        assert_eq!(segments(2), 2);
        assert_eq!(segments(16), 64);
    }

    #[test]
    fn combining_segment_pairs_weights_each_bucket_by_its_digit() {
        // One window of c = 4 (8 buckets) in 4 segments of 2: bucket k holds (k+1)·G... as
        // the card would report it, R_s = Σ (k − k0 + 1)·B_k and T_s = Σ B_k.
        let g = G1Projective::generator();
        let (c, segs) = (4u32, 4usize);
        let buckets: Vec<G1Projective> = (0..8u64)
            .map(|k| g * ark_bn254::Fr::from(k * k + 3))
            .collect();
        let mut pairs = Vec::new();
        for s in 0..segs {
            let k0 = s * 2;
            let r = (k0..k0 + 2)
                .map(|k| buckets[k] * ark_bn254::Fr::from((k - k0 + 1) as u64))
                .sum::<G1Projective>();
            let t = (k0..k0 + 2).map(|k| buckets[k]).sum::<G1Projective>();
            pairs.extend([r, t]);
        }
        let want: G1Projective = buckets
            .iter()
            .enumerate()
            .map(|(k, b)| *b * ark_bn254::Fr::from(k as u64 + 1))
            .sum();
        assert_eq!(combine(&pairs, c, 1, segs), want);
        // Two windows: the high one counts 2^c times.
        let two = [pairs.clone(), pairs].concat();
        assert_eq!(combine(&two, c, 2, segs), want * ark_bn254::Fr::from(17u64));
    }
}
