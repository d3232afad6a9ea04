//! Host tests of the firmware against the fake card of [`crate::testing`].

use crate::abi::{
    msm_windows, reg, Completion, Counter, Descriptor, Error, Group, NttKind, Opcode, ABI_VERSION,
    COUNTERS, MAGIC, MAX_CHUNK, MAX_RING_ENTRIES, MAX_TABLES,
};
use crate::card::{MsmPass, NttPass};
use crate::firmware::{Config, Firmware};
use crate::testing::{run, TestCard};

const MEM: usize = 32 << 20;
const DESC: u64 = 0;
const COMPL: u64 = 0x1000;
const PARAMS: u64 = 0x2000;
const TABLE: u64 = 1 << 20;
const SCALARS: u64 = 16 << 20;
const RESULT: u64 = 24 << 20;
const LIMIT: usize = 100_000;

fn card(msm: u32, ntt: u32) -> TestCard {
    TestCard::new(MEM, msm, ntt)
}

/// A booted firmware with both rings up (16 entries each).
fn setup_with(mut card: TestCard, config: Config) -> (Firmware, TestCard) {
    let mut fw = Firmware::new(config);
    card.setup_rings(DESC, 16, COMPL, 16);
    run(&mut fw, &mut card, LIMIT);
    assert_eq!(card.reg(reg::RING_ERROR), 0);
    assert_ne!(card.reg(reg::STATUS) & reg::STATUS_RINGS_UP, 0);
    (fw, card)
}

fn setup() -> (Firmware, TestCard) {
    setup_with(card(2, 2), Config::default())
}

fn desc(opcode: Opcode, tag: u32, args: &[u64]) -> Descriptor {
    let mut d = Descriptor {
        opcode: opcode as u32,
        tag,
        args: [0; 7],
    };
    d.args[..args.len()].copy_from_slice(args);
    d
}

/// Pushes one descriptor, runs the firmware to idle and returns its completion.
fn submit(fw: &mut Firmware, card: &mut TestCard, d: &Descriptor) -> Completion {
    card.push(d);
    run(fw, card, LIMIT);
    let c = card.completions();
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].tag, d.tag);
    assert_eq!(c[0].opcode, d.opcode);
    c[0]
}

fn expect_error(fw: &mut Firmware, card: &mut TestCard, d: &Descriptor, e: Error, detail: u64) {
    let c = submit(fw, card, d);
    assert_eq!(
        (Error::from_code(c.status), c.detail),
        (Some(e), detail),
        "{d:?}"
    );
}

fn load(fw: &mut Firmware, card: &mut TestCard, id: u64, addr: u64, count: u64, group: Group) {
    let c = submit(
        fw,
        card,
        &desc(Opcode::LoadTable, 7, &[id, addr, count, group as u64]),
    );
    assert_eq!(c.status, 0, "{c:?}");
}

fn msm(id: u64, start: u64, count: u64, c: u64, segments: u64) -> Descriptor {
    desc(
        Opcode::Msm,
        42,
        &[id, start, count, SCALARS, c, segments, RESULT],
    )
}

#[test]
fn boot_writes_identity_and_ready() {
    let mut card = card(3, 2);
    let mut fw = Firmware::new(Config::default());
    assert!(fw.poll(&mut card));
    assert_eq!(card.reg(reg::MAGIC), MAGIC);
    assert_eq!(card.reg(reg::VERSION), ABI_VERSION);
    assert_eq!(card.reg(reg::MEM_SIZE_LO), MEM as u32);
    assert_eq!(card.reg(reg::MEM_SIZE_HI), 0);
    assert_eq!(card.reg(reg::MSM_ENGINES), 3);
    assert_eq!(card.reg(reg::NTT_ENGINES), 2);
    assert_eq!(card.reg(reg::CLOCK_MHZ), 300);
    assert_eq!(card.reg(reg::STATUS), reg::STATUS_READY);
    // Nothing to do afterwards.
    assert!(!fw.poll(&mut card));
}

#[test]
fn ring_enable_zeroes_indices_and_acknowledges() {
    let mut card = card(1, 1);
    let mut fw = Firmware::new(Config::default());
    fw.poll(&mut card);
    card.set_reg(reg::DESC_HEAD, 5);
    card.set_reg(reg::DESC_TAIL, 3);
    card.set_reg(reg::COMPL_HEAD, 9);
    card.set_reg(reg::COMPL_TAIL, 9);
    card.setup_rings(DESC, 8, COMPL, 4);
    assert!(fw.poll(&mut card));
    assert_eq!(card.reg(reg::RING_ENABLE), 0);
    assert_eq!(
        card.reg(reg::STATUS),
        reg::STATUS_READY | reg::STATUS_RINGS_UP
    );
    for r in [
        reg::DESC_HEAD,
        reg::DESC_TAIL,
        reg::COMPL_HEAD,
        reg::COMPL_TAIL,
    ] {
        assert_eq!(card.reg(r), 0);
    }
    assert_eq!(fw.rings().unwrap().desc.entries, 8);
    assert_eq!(fw.rings().unwrap().compl.entries, 4);
}

#[test]
fn ring_setup_errors() {
    let cases: &[(u64, u32, u64, u32)] = &[
        (DESC, 0, COMPL, 4),                    // zero entries
        (DESC, 6, COMPL, 4),                    // not a power of two
        (DESC, 4, COMPL, 12),                   // not a power of two
        (DESC, MAX_RING_ENTRIES * 2, COMPL, 4), // too large
        (DESC, 4, COMPL, MAX_RING_ENTRIES * 2), // too large
        (32, 4, COMPL, 4),                      // descriptor ring misaligned
        (DESC, 4, COMPL + 16, 4),               // completion ring misaligned
        (MEM as u64 - 64, 2, COMPL, 4),         // past the memory
        (DESC, 4, MEM as u64 - 32, 2),          // past the memory
        (u64::MAX - 63, 4, COMPL, 4),           // overflow
        (DESC, 4, 128, 4),                      // overlapping
        (COMPL, 4, COMPL, 4),                   // overlapping
    ];
    for &(db, de, cb, ce) in cases {
        let (mut fw, mut card) = setup();
        card.setup_rings(db, de, cb, ce);
        fw.poll(&mut card);
        assert_eq!(card.reg(reg::RING_ENABLE), 0);
        assert_eq!(
            card.reg(reg::RING_ERROR),
            Error::BadRing as u32,
            "{db:#x} {de} {cb:#x} {ce}"
        );
        assert_eq!(card.reg(reg::STATUS) & reg::STATUS_RINGS_UP, 0);
        assert!(fw.rings().is_none());
        // A doorbell is ignored while the rings are down.
        card.set_reg(reg::DESC_HEAD, 1);
        run(&mut fw, &mut card, 100);
        assert_eq!(card.reg(reg::DESC_TAIL), 0);
        // A good configuration clears the error.
        card.setup_rings(DESC, 4, COMPL, 4);
        fw.poll(&mut card);
        assert_eq!(card.reg(reg::RING_ERROR), 0);
        assert_ne!(card.reg(reg::STATUS) & reg::STATUS_RINGS_UP, 0);
    }
}

#[test]
fn nop_completes() {
    let (mut fw, mut card) = setup();
    let c = submit(
        &mut fw,
        &mut card,
        &desc(Opcode::Nop, 0xdead_beef, &[1, 2, 3]),
    );
    assert_eq!(
        c,
        Completion {
            tag: 0xdead_beef,
            status: 0,
            cycles: 0,
            detail: 0,
            opcode: 0,
            index: 0,
        }
    );
    assert_eq!(card.reg(reg::DESC_TAIL), 1);
    assert_eq!(card.reg(reg::COMPL_HEAD), 1);
    assert_eq!(card.counter(Counter::CommandsDone as u32), 1);
}

#[test]
fn unknown_opcode_is_refused() {
    let (mut fw, mut card) = setup();
    let d = Descriptor {
        opcode: 99,
        tag: 5,
        args: [0; 7],
    };
    expect_error(&mut fw, &mut card, &d, Error::UnknownOpcode, 0);
    assert_eq!(card.counter(Counter::CommandsFailed as u32), 1);
}

#[test]
fn load_and_free_tables() {
    let (mut fw, mut card) = setup();
    load(&mut fw, &mut card, 3, TABLE, 100, Group::G1);
    load(&mut fw, &mut card, 63, TABLE, 10, Group::G2);
    assert_eq!(fw.tables().len(), 2);
    let t = fw.tables().get(3).unwrap();
    assert_eq!((t.addr, t.count, t.group), (TABLE, 100, Group::G1));
    assert_eq!(fw.tables().get(63).unwrap().group, Group::G2);

    let again = desc(Opcode::LoadTable, 1, &[3, TABLE, 5, 1]);
    expect_error(&mut fw, &mut card, &again, Error::TableInUse, 0);
    assert_eq!(fw.tables().get(3).unwrap().count, 100);

    let free = desc(Opcode::FreeTable, 2, &[3]);
    assert_eq!(submit(&mut fw, &mut card, &free).status, 0);
    assert!(fw.tables().get(3).is_none());
    expect_error(&mut fw, &mut card, &free, Error::UnknownTable, 0);
    let free_bad = desc(Opcode::FreeTable, 2, &[MAX_TABLES as u64]);
    expect_error(&mut fw, &mut card, &free_bad, Error::UnknownTable, 0);
    let free_huge = desc(Opcode::FreeTable, 2, &[u64::MAX]);
    expect_error(&mut fw, &mut card, &free_huge, Error::UnknownTable, 0);
    // The slot can be reused.
    load(&mut fw, &mut card, 3, TABLE + 64, 1, Group::G1);
    assert_eq!(fw.tables().len(), 2);
}

/// Submits `d`, expecting a refusal, and checks nothing changed: card memory (but the
/// completion ring), tables, engines.
fn expect_refusal(fw: &mut Firmware, card: &mut TestCard, d: &Descriptor, e: Error, detail: u64) {
    let tables_before = fw.tables().clone();
    let passes_before = card.started.len();
    card.write_desc(d);
    let after_desc = card.mem.clone();
    card.set_reg(reg::DESC_HEAD, card.host_head);
    run(fw, card, LIMIT);
    let c = card.completions();
    assert_eq!(c.len(), 1);
    assert_eq!(
        (Error::from_code(c[0].status), c[0].detail, c[0].cycles),
        (Some(e), detail, 0),
        "{d:?}"
    );
    let (lo, hi) = (COMPL as usize, COMPL as usize + 16 * 32);
    assert!(after_desc[..lo] == card.mem[..lo], "memory changed");
    assert!(after_desc[hi..] == card.mem[hi..], "memory changed");
    assert_eq!(fw.tables(), &tables_before);
    assert_eq!(card.started.len(), passes_before);
    assert!(!fw.busy());
}

#[test]
fn load_table_refusals() {
    let (mut fw, mut card) = setup();
    load(&mut fw, &mut card, 0, TABLE, 1, Group::G1);
    let m = MEM as u64;
    let cases: &[([u64; 4], Error, u64)] = &[
        ([MAX_TABLES as u64, TABLE, 1, 1], Error::UnknownTable, 0),
        ([u64::MAX, TABLE, 1, 1], Error::UnknownTable, 0),
        ([0, TABLE, 1, 1], Error::TableInUse, 0),
        ([1, TABLE, 1, 0], Error::Unsupported, 3),
        ([1, TABLE, 1, 3], Error::Unsupported, 3),
        ([1, TABLE, 0, 1], Error::BadLength, 2),
        ([1, TABLE, 1 << 32, 1], Error::BadLength, 2),
        ([1, TABLE + 32, 1, 1], Error::Misaligned, 1),
        ([1, m - 64, 2, 1], Error::OutOfRange, 1),
        ([1, m - 64, 1, 2], Error::OutOfRange, 1),
        ([1, m, 1, 1], Error::OutOfRange, 1),
        ([1, u64::MAX - 63, 1, 1], Error::OutOfRange, 1),
        ([1, 0, u32::MAX as u64, 2], Error::OutOfRange, 1),
    ];
    for (args, e, detail) in cases {
        let d = desc(Opcode::LoadTable, 9, args);
        expect_refusal(&mut fw, &mut card, &d, *e, *detail);
    }
    // The exact end of memory is fine.
    load(&mut fw, &mut card, 1, m - 128, 1, Group::G2);
    assert_eq!(fw.tables().len(), 2);
}

#[test]
fn msm_refusals() {
    let (mut fw, mut card) = setup();
    load(&mut fw, &mut card, 0, TABLE, 1000, Group::G1);
    let m = MEM as u64;
    let with = |i: usize, v: u64| {
        let mut d = msm(0, 0, 1000, 16, 256);
        d.args[i] = v;
        d
    };
    let cases: Vec<(Descriptor, Error, u64)> = vec![
        (with(0, 1), Error::UnknownTable, 0),
        (with(0, MAX_TABLES as u64), Error::UnknownTable, 0),
        (with(0, u64::MAX), Error::UnknownTable, 0),
        (with(2, 0), Error::BadLength, 2),
        (with(2, 1 << 32), Error::BadLength, 2),
        (with(1, 1000), Error::OutOfRange, 1),
        (with(1, u64::MAX), Error::OutOfRange, 1),
        (with(1, 1), Error::OutOfRange, 2),
        (with(2, 1001), Error::OutOfRange, 2),
        (msm(0, 999, u32::MAX as u64, 16, 1), Error::OutOfRange, 2),
        (with(4, 1), Error::Unsupported, 4),
        (with(4, 17), Error::Unsupported, 4),
        (with(4, u64::MAX), Error::Unsupported, 4),
        (with(5, 0), Error::Unsupported, 5),
        (with(5, 3), Error::Unsupported, 5),
        (with(5, 512), Error::Unsupported, 5),
        (msm(0, 0, 10, 4, 16), Error::Unsupported, 5), // > 2^(c-1)
        (msm(0, 0, 10, 2, 4), Error::Unsupported, 5),
        (with(3, SCALARS + 8), Error::Misaligned, 3),
        (with(3, m - 32), Error::OutOfRange, 3),
        (with(3, u64::MAX - 31), Error::OutOfRange, 3),
        (with(6, RESULT + 32), Error::Misaligned, 6),
        (with(6, m - 64), Error::OutOfRange, 6),
        (with(6, u64::MAX - 63), Error::OutOfRange, 6),
        (with(6, DESC), Error::OutOfRange, 6), // over the descriptor ring
        (with(6, COMPL - 64), Error::OutOfRange, 6), // over the completion ring
    ];
    for (d, e, detail) in cases {
        expect_refusal(&mut fw, &mut card, &d, e, detail);
    }
    // c = 2 allows segments up to 2.
    let ok = submit(&mut fw, &mut card, &msm(0, 0, 10, 2, 2));
    assert_eq!(ok.status, 0);
    // The last point of the table is in range.
    let ok = submit(&mut fw, &mut card, &msm(0, 999, 1, 16, 1));
    assert_eq!(ok.status, 0);
}

#[test]
fn msm_without_engines_is_unsupported() {
    let (mut fw, mut card) = setup_with(card(0, 1), Config::default());
    load(&mut fw, &mut card, 0, TABLE, 10, Group::G1);
    expect_refusal(
        &mut fw,
        &mut card,
        &msm(0, 0, 10, 8, 1),
        Error::Unsupported,
        0,
    );
    let ntt = desc(Opcode::Ntt, 1, &[TABLE, 4, 1, 0, PARAMS]);
    assert_eq!(submit(&mut fw, &mut card, &ntt).status, 0);
    let (mut fw, mut card) = setup_with(self::card(1, 0), Config::default());
    expect_refusal(&mut fw, &mut card, &ntt, Error::Unsupported, 0);
}

/// The cycles each engine reported, summed per engine, from the card's log.
fn per_engine_cycles(card: &TestCard) -> Vec<u64> {
    let mut sums = vec![0u64; card.msm.len().max(card.ntt.len())];
    for (e, p) in card.msm_passes() {
        sums[e as usize] += match p {
            MsmPass::Accumulate { count, .. } => count as u64 * card.cycles_per_point,
            MsmPass::Reduce { .. } => card.reduce_cycles,
        };
    }
    sums
}

#[test]
fn msm_sequencing_windows_chunks_and_reduce() {
    let (mut fw, mut card) = setup_with(card(3, 1), Config::default());
    let count = 2 * MAX_CHUNK as u64 + 5;
    let start = 7;
    load(&mut fw, &mut card, 5, TABLE, count + start, Group::G1);
    let (c, segments) = (16u32, 8u32);
    let d = msm(5, start, count, c as u64, segments as u64);
    card.push(&d);
    fw.poll(&mut card);
    assert_ne!(card.reg(reg::STATUS) & reg::STATUS_BUSY, 0);
    run(&mut fw, &mut card, LIMIT);
    let done = card.completions();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].status, 0, "{:?}", done[0]);
    assert_eq!(card.reg(reg::STATUS) & reg::STATUS_BUSY, 0);

    let windows = msm_windows(c);
    assert_eq!(windows, 16);
    let passes = card.msm_passes();
    assert_eq!(passes.len() as u32, windows * 4);
    assert_eq!(card.max_concurrent, 3, "all engines used at once");
    for w in 0..windows {
        let mine: Vec<_> = passes
            .iter()
            .filter(|(_, p)| match p {
                MsmPass::Accumulate { window, .. } => *window == w,
                MsmPass::Reduce { out, .. } => *out == RESULT + w as u64 * 8 * 2 * 128,
            })
            .collect();
        assert_eq!(mine.len(), 4, "window {w}");
        // One engine does the whole window, in order.
        assert!(mine.iter().all(|(e, _)| *e == mine[0].0));
        for (k, (_, p)) in mine.iter().take(3).enumerate() {
            let off = k as u64 * MAX_CHUNK as u64;
            let n = if k < 2 { MAX_CHUNK } else { 5 };
            assert_eq!(
                *p,
                MsmPass::Accumulate {
                    group: Group::G1,
                    points: TABLE + (start + off) * 64,
                    scalars: SCALARS + off * 32,
                    count: n,
                    c,
                    window: w,
                    clear: k == 0,
                }
            );
        }
        assert_eq!(
            mine[3].1,
            MsmPass::Reduce {
                group: Group::G1,
                c,
                segments,
                out: RESULT + w as u64 * segments as u64 * 2 * 128,
            }
        );
    }
    // Windows are handed out in order.
    let first_window = |i: usize| match passes[i].1 {
        MsmPass::Accumulate { window, .. } => window,
        _ => panic!(),
    };
    assert_eq!(
        (first_window(0), first_window(1), first_window(2)),
        (0, 1, 2)
    );

    let per_window = count * 10 + 1000;
    let sums = per_engine_cycles(&card);
    assert_eq!(done[0].cycles, *sums.iter().max().unwrap());
    assert_eq!(sums.iter().sum::<u64>(), per_window * windows as u64);
    // 16 windows over 3 engines of equal speed: 6, 5, 5.
    assert_eq!(done[0].cycles, 6 * per_window);
    assert_eq!(
        card.counter(Counter::MsmCycles as u32),
        per_window * windows as u64
    );
    assert_eq!(card.counter(Counter::MsmPasses as u32), 64);
    assert_eq!(card.counter(Counter::MsmDeferred as u32), 48);
    assert_eq!(card.counter(Counter::CommandsDone as u32), 2);
}

#[test]
fn msm_g2_uses_g2_sizes() {
    let (mut fw, mut card) = setup_with(card(2, 1), Config::default());
    load(&mut fw, &mut card, 1, TABLE, 100, Group::G2);
    let c = submit(&mut fw, &mut card, &msm(1, 10, 50, 4, 2));
    assert_eq!(c.status, 0);
    let passes = card.msm_passes();
    assert_eq!(passes.len() as u32, msm_windows(4) * 2);
    for (_, p) in &passes {
        match *p {
            MsmPass::Accumulate {
                group,
                points,
                count,
                clear,
                ..
            } => {
                assert_eq!(group, Group::G2);
                assert_eq!(points, TABLE + 10 * 128);
                assert_eq!(count, 50);
                assert!(clear);
            }
            MsmPass::Reduce {
                group,
                segments,
                out,
                ..
            } => {
                assert_eq!((group, segments), (Group::G2, 2));
                assert_eq!((out - RESULT) % (2 * 2 * 256), 0);
                assert!(out < RESULT + msm_windows(4) as u64 * 2 * 2 * 256);
            }
        }
    }
    // Result region: the last window's reduce ends exactly at the block's end.
    let block = crate::validate::MsmArgs::result_bytes(Group::G2, 4, 2);
    let m = MEM as u64;
    let mut d = msm(1, 0, 1, 4, 2);
    d.args[6] = m - block;
    assert_eq!(submit(&mut fw, &mut card, &d).status, 0);
    d.args[6] = m - block + 64;
    expect_refusal(&mut fw, &mut card, &d, Error::OutOfRange, 6);
}

#[test]
fn ntt_transform_and_scale() {
    let (mut fw, mut card) = setup_with(card(1, 2), Config::default());
    let omega: [u8; 32] = core::array::from_fn(|i| i as u8 + 1);
    let shift: [u8; 32] = core::array::from_fn(|i| 100 + i as u8);
    card.mem[PARAMS as usize..PARAMS as usize + 32].copy_from_slice(&omega);
    card.mem[PARAMS as usize + 32..PARAMS as usize + 64].copy_from_slice(&shift);
    let data = TABLE;
    let log_n = 10;
    let d = desc(Opcode::Ntt, 3, &[data, log_n, 3, 0, PARAMS]);
    let c = submit(&mut fw, &mut card, &d);
    assert_eq!(c.status, 0);
    let passes = card.ntt_passes();
    assert_eq!(passes.len(), 3);
    for (v, (_, p)) in passes.iter().enumerate() {
        assert_eq!(
            *p,
            NttPass::Transform {
                data: data + v as u64 * (32 << log_n),
                log_n: log_n as u32,
                omega,
            }
        );
    }
    assert_eq!(card.max_concurrent, 2);
    let per = (1u64 << log_n) * 3;
    assert_eq!(c.cycles, 2 * per); // 3 vectors on 2 engines
    assert_eq!(card.counter(Counter::NttCycles as u32), 3 * per);

    let d = desc(Opcode::Ntt, 4, &[data, 1, 1, 1, PARAMS]);
    let c = submit(&mut fw, &mut card, &d);
    assert_eq!((c.status, c.cycles), (0, 2 * 3));
    assert_eq!(
        card.ntt_passes()[3].1,
        NttPass::Scale {
            data,
            log_n: 1,
            factor: omega,
            shift,
        }
    );
}

#[test]
fn ntt_refusals() {
    let (mut fw, mut card) = setup();
    let m = MEM as u64;
    let with = |i: usize, v: u64| {
        let mut d = desc(Opcode::Ntt, 8, &[TABLE, 10, 2, 0, PARAMS]);
        d.args[i] = v;
        d
    };
    let cases: Vec<(Descriptor, Error, u64)> = vec![
        (with(0, TABLE + 16), Error::Misaligned, 0),
        (with(1, 0), Error::BadLength, 1),
        (with(1, 29), Error::BadLength, 1),
        (with(1, u64::MAX), Error::BadLength, 1),
        (with(2, 0), Error::BadLength, 2),
        (with(2, 1 << 32), Error::BadLength, 2),
        (with(3, 2), Error::Unsupported, 3),
        (with(0, m - 32 * 1024), Error::OutOfRange, 0),
        (with(0, u64::MAX - 31), Error::OutOfRange, 0),
        (with(0, COMPL), Error::OutOfRange, 0), // over the completion ring
        (with(2, u32::MAX as u64), Error::OutOfRange, 0),
        (
            desc(Opcode::Ntt, 8, &[0x10_0000, 28, u32::MAX as u64, 0, PARAMS]),
            Error::OutOfRange,
            0,
        ),
        (with(4, PARAMS + 1), Error::Misaligned, 4),
        (with(4, m - 16), Error::Misaligned, 4),
        (with(4, m), Error::OutOfRange, 4),
        (with(4, u64::MAX - 31), Error::OutOfRange, 4),
    ];
    for (d, e, detail) in cases {
        expect_refusal(&mut fw, &mut card, &d, e, detail);
    }
    // A scale needs 64 bytes of parameters, a transform 32.
    let mut d = desc(Opcode::Ntt, 8, &[TABLE, 2, 1, 1, m - 32]);
    expect_refusal(&mut fw, &mut card, &d, Error::OutOfRange, 4);
    d.args[3] = 0;
    assert_eq!(submit(&mut fw, &mut card, &d).status, 0);
}

#[test]
fn engine_fault_fails_the_command() {
    let (mut fw, mut card) = setup_with(card(2, 1), Config::default());
    load(&mut fw, &mut card, 0, TABLE, 10, Group::G1);
    card.fault_at = Some((3, 77));
    let d = msm(0, 0, 10, 8, 4);
    let c = submit(&mut fw, &mut card, &d);
    assert_eq!(Error::from_code(c.status), Some(Error::EngineFault));
    assert_eq!(c.detail, 77);
    assert_eq!(card.resets, 1);
    assert!(card.msm.iter().all(|e| e.is_none()));
    assert_eq!(card.counter(Counter::Faults as u32), 1);
    assert_eq!(card.counter(Counter::CommandsFailed as u32), 1);
    // The card keeps serving.
    card.fault_at = None;
    assert_eq!(submit(&mut fw, &mut card, &d).status, 0);

    // NTT faults too.
    card.fault_at = Some((card.started.len() + 1, 5));
    let ntt = desc(Opcode::Ntt, 1, &[TABLE, 3, 2, 0, PARAMS]);
    let c = submit(&mut fw, &mut card, &ntt);
    assert_eq!(
        (Error::from_code(c.status), c.detail),
        (Some(Error::EngineFault), 5)
    );
    assert_eq!(card.counter(Counter::Faults as u32), 2);
}

#[test]
fn watchdog_times_out_a_hung_pass() {
    let config = Config {
        watchdog_cycles: 50,
    };
    let (mut fw, mut card) = setup_with(card(2, 1), config);
    load(&mut fw, &mut card, 0, TABLE, 10, Group::G1);
    card.hang_at = Some(card.started.len() + 1);
    let c = submit(&mut fw, &mut card, &msm(0, 0, 10, 8, 4));
    assert_eq!(Error::from_code(c.status), Some(Error::EngineTimeout));
    assert_eq!(c.detail, 1, "engine 1 hung");
    assert_eq!(card.resets, 1);
    assert_eq!(card.counter(Counter::Faults as u32), 1);
    assert!(card.time > 50);
    card.hang_at = None;
    assert_eq!(submit(&mut fw, &mut card, &msm(0, 0, 10, 8, 4)).status, 0);

    card.hang_at = Some(card.started.len());
    let ntt = desc(Opcode::Ntt, 1, &[TABLE, 3, 1, 0, PARAMS]);
    let c = submit(&mut fw, &mut card, &ntt);
    assert_eq!(
        (Error::from_code(c.status), c.detail),
        (Some(Error::EngineTimeout), 0)
    );
    assert_eq!(card.counter(Counter::Faults as u32), 2);
}

#[test]
fn reset_mid_command_takes_rings_down_and_keeps_tables() {
    let (mut fw, mut card) = setup();
    load(&mut fw, &mut card, 0, TABLE, 10, Group::G1);
    card.latency = 5;
    card.push(&msm(0, 0, 10, 8, 4));
    for _ in 0..4 {
        fw.poll(&mut card);
    }
    assert!(fw.busy());
    assert_ne!(card.reg(reg::STATUS) & reg::STATUS_BUSY, 0);
    assert!(card.msm.iter().any(|e| e.is_some()));
    card.set_reg(reg::CONTROL, reg::CONTROL_RESET);
    assert!(fw.poll(&mut card));
    assert_eq!(card.reg(reg::CONTROL), 0);
    assert_eq!(card.reg(reg::STATUS), reg::STATUS_READY);
    assert!(!fw.busy());
    assert_eq!(card.resets, 1);
    assert!(card.msm.iter().all(|e| e.is_none()));
    assert_eq!(card.counter(Counter::Resets as u32), 1);
    run(&mut fw, &mut card, LIMIT);
    assert!(card.completions().is_empty(), "nothing posted");
    assert_eq!(fw.tables().len(), 1);

    // Re-enable and use the kept table.
    card.setup_rings(DESC, 16, COMPL, 16);
    run(&mut fw, &mut card, LIMIT);
    let c = submit(&mut fw, &mut card, &msm(0, 0, 10, 8, 4));
    assert_eq!((c.status, c.index), (0, 0));

    // A reset and an enable written together: reset, then rings up again.
    card.set_reg(reg::CONTROL, reg::CONTROL_RESET);
    card.setup_rings(DESC, 8, COMPL, 8);
    fw.poll(&mut card);
    assert_eq!(
        card.reg(reg::STATUS),
        reg::STATUS_READY | reg::STATUS_RINGS_UP
    );
    assert_eq!(card.counter(Counter::Resets as u32), 2);

    // Other CONTROL values are cleared and ignored.
    card.set_reg(reg::CONTROL, 0x80);
    fw.poll(&mut card);
    assert_eq!(card.reg(reg::CONTROL), 0);
    assert_eq!(card.counter(Counter::Resets as u32), 2);
    assert!(fw.rings().is_some());
}

#[test]
fn ring_enable_mid_command_abandons_it() {
    let (mut fw, mut card) = setup();
    load(&mut fw, &mut card, 0, TABLE, 10, Group::G1);
    card.latency = 5;
    card.push(&msm(0, 0, 10, 8, 4));
    fw.poll(&mut card);
    assert!(fw.busy());
    card.setup_rings(DESC, 16, COMPL, 16);
    fw.poll(&mut card);
    assert!(!fw.busy());
    assert_eq!(card.resets, 1);
    run(&mut fw, &mut card, LIMIT);
    assert!(card.completions().is_empty());
    assert_eq!(card.reg(reg::COMPL_HEAD), 0);
}

#[test]
fn ring_wraps_around() {
    let (mut fw, mut card) = setup();
    card.setup_rings(DESC, 4, COMPL, 2);
    run(&mut fw, &mut card, LIMIT);
    let mut seen = Vec::new();
    for batch in 0..7u32 {
        for k in 0..3 {
            card.push(&desc(Opcode::Nop, batch * 3 + k, &[]));
        }
        for _ in 0..4 {
            run(&mut fw, &mut card, LIMIT);
            seen.extend(card.completions());
        }
    }
    assert_eq!(seen.len(), 21);
    for (i, c) in seen.iter().enumerate() {
        assert_eq!((c.tag, c.index, c.status), (i as u32, i as u32, 0));
    }
    assert_eq!(card.reg(reg::DESC_TAIL), 21);
    assert_eq!(card.reg(reg::COMPL_HEAD), 21);
}

#[test]
fn free_running_indices_wrap_past_u32() {
    use crate::rings::{distance, Ring};
    let ring = Ring::check(0x100, 4, 64, 64, 0x1000).unwrap();
    assert_eq!(ring.addr(u32::MAX), 0x100 + 3 * 64);
    assert_eq!(ring.addr(u32::MAX.wrapping_add(1)), 0x100);
    assert_eq!(distance(2, u32::MAX - 1), 4);
    assert_eq!(distance(7, 7), 0);
    assert!(ring.overlaps(0x100 + 255, 1));
    assert!(!ring.overlaps(0x100 + 256, 1));
    assert!(!ring.overlaps(0, 0x100));
    assert!(!ring.overlaps(0x120, 0));
}

#[test]
fn overrun_is_reported_and_skipped() {
    let (mut fw, mut card) = setup();
    card.setup_rings(DESC, 4, COMPL, 8);
    run(&mut fw, &mut card, LIMIT);
    for k in 0..6 {
        card.write_desc(&desc(Opcode::Nop, k, &[]));
    }
    card.set_reg(reg::DESC_HEAD, 6);
    run(&mut fw, &mut card, LIMIT);
    let c = card.completions();
    assert_eq!(
        c,
        vec![Completion {
            tag: 0,
            status: Error::RingOverrun as u32,
            cycles: 0,
            detail: 6,
            opcode: 0,
            index: 0,
        }]
    );
    assert_eq!(card.reg(reg::DESC_TAIL), 6);
    assert_eq!(card.counter(Counter::Overruns as u32), 1);
    assert_eq!(card.counter(Counter::CommandsFailed as u32), 0);
    // Serving continues from the head.
    let c = submit(&mut fw, &mut card, &desc(Opcode::Nop, 77, &[]));
    assert_eq!((c.status, c.index), (0, 6));
    // Exactly a ring ahead is not an overrun.
    for k in 0..4 {
        card.push(&desc(Opcode::Nop, k, &[]));
    }
    run(&mut fw, &mut card, LIMIT);
    let c = card.completions();
    assert_eq!(c.len(), 4);
    assert!(c.iter().all(|c| c.status == 0));
}

#[test]
fn full_completion_ring_applies_back_pressure() {
    let (mut fw, mut card) = setup();
    card.setup_rings(DESC, 8, COMPL, 2);
    run(&mut fw, &mut card, LIMIT);
    for k in 0..5 {
        card.push(&desc(Opcode::Nop, k, &[]));
    }
    run(&mut fw, &mut card, LIMIT);
    assert_eq!(card.reg(reg::COMPL_HEAD), 2);
    assert_eq!(
        card.reg(reg::DESC_TAIL),
        2,
        "no descriptor taken while full"
    );
    let compl_ring = card.mem[COMPL as usize..COMPL as usize + 64].to_vec();
    run(&mut fw, &mut card, 100);
    assert_eq!(
        &card.mem[COMPL as usize..COMPL as usize + 64],
        &compl_ring[..]
    );
    // Acknowledge one: exactly one more is served.
    card.set_reg(reg::COMPL_TAIL, 1);
    run(&mut fw, &mut card, LIMIT);
    assert_eq!(card.reg(reg::COMPL_HEAD), 3);
    assert_eq!(card.reg(reg::DESC_TAIL), 3);
    // The host reads them all as it acknowledges.
    let mut all = Vec::new();
    card.host_tail = 0;
    for _ in 0..4 {
        all.extend(card.completions());
        run(&mut fw, &mut card, LIMIT);
    }
    // The first completion was overwritten only after the host acknowledged it.
    let tags: Vec<u32> = all.iter().map(|c| c.index).collect();
    assert_eq!(&tags[tags.len() - 2..], &[3, 4]);
    assert_eq!(card.reg(reg::COMPL_HEAD), 5);
}

#[test]
fn completion_found_full_is_held_not_overwritten() {
    // A host that moves COMPL_TAIL backwards while a command runs: the completion is
    // held until there is room rather than overwriting an unread entry.
    let (mut fw, mut card) = setup();
    card.setup_rings(DESC, 8, COMPL, 1);
    run(&mut fw, &mut card, LIMIT);
    load(&mut fw, &mut card, 0, TABLE, 10, Group::G1);
    card.latency = 3;
    card.push(&msm(0, 0, 10, 8, 4));
    fw.poll(&mut card);
    assert!(fw.busy());
    card.set_reg(reg::COMPL_TAIL, 0); // the load's completion "unread" again
    let before = card.mem[COMPL as usize..COMPL as usize + 32].to_vec();
    run(&mut fw, &mut card, 1000);
    assert!(fw.busy(), "held");
    assert_ne!(card.reg(reg::STATUS) & reg::STATUS_BUSY, 0);
    assert_eq!(&card.mem[COMPL as usize..COMPL as usize + 32], &before[..]);
    card.set_reg(reg::COMPL_TAIL, 1);
    run(&mut fw, &mut card, LIMIT);
    assert!(!fw.busy());
    assert_eq!(card.reg(reg::COMPL_HEAD), 2);
    card.host_tail = 1;
    let c = card.completions();
    assert_eq!((c.len(), c[0].status, c[0].tag), (1, 0, 42));
}

#[test]
fn telemetry_is_mirrored_into_registers() {
    let (mut fw, mut card) = setup();
    for i in 0..COUNTERS {
        assert_eq!(card.counter(i), 0);
    }
    load(&mut fw, &mut card, 0, TABLE, 10, Group::G1);
    submit(&mut fw, &mut card, &msm(0, 0, 10, 8, 4));
    submit(
        &mut fw,
        &mut card,
        &desc(Opcode::Ntt, 1, &[TABLE, 3, 1, 0, PARAMS]),
    );
    expect_error(
        &mut fw,
        &mut card,
        &desc(Opcode::FreeTable, 1, &[9]),
        Error::UnknownTable,
        0,
    );
    let all = [
        Counter::CommandsDone,
        Counter::CommandsFailed,
        Counter::MsmCycles,
        Counter::NttCycles,
        Counter::Faults,
        Counter::Overruns,
        Counter::Resets,
        Counter::MsmPasses,
        Counter::MsmDeferred,
    ];
    for c in all {
        assert_eq!(card.counter(c as u32), fw.telemetry().get(c), "{c:?}");
    }
    assert_eq!(fw.telemetry().get(Counter::CommandsDone), 3);
    assert_eq!(fw.telemetry().get(Counter::CommandsFailed), 1);
    assert_eq!(fw.telemetry().get(Counter::MsmPasses), 64);
    assert_eq!(fw.telemetry().get(Counter::NttCycles), 8 * 3);
    // High words too.
    let mut t = crate::telemetry::Telemetry::new();
    t.add(Counter::MsmCycles, 0x1_2345_6789);
    t.flush(&mut card);
    assert_eq!(card.counter(Counter::MsmCycles as u32), 0x1_2345_6789);
    assert!(!t.flush(&mut card), "only changes are written");
}

#[test]
fn error_codes_round_trip() {
    for code in 1..=12 {
        let e = Error::from_code(code).unwrap();
        assert_eq!(e as u32, code);
        assert!(!e.describe().is_empty());
    }
    assert_eq!(Error::from_code(0), None);
    assert_eq!(Error::from_code(13), None);
    for code in 0..=4 {
        assert_eq!(Opcode::from_code(code).unwrap() as u32, code);
    }
    assert_eq!(NttKind::from_code(1), Some(NttKind::Scale));
    let d = Descriptor {
        opcode: 3,
        tag: 9,
        args: core::array::from_fn(|i| (i as u64) << 40 | 7),
    };
    assert_eq!(Descriptor::from_bytes(&d.to_bytes()), d);
    let c = Completion {
        tag: 1,
        status: 2,
        cycles: 3 << 33,
        detail: 4,
        opcode: 5,
        index: 6,
    };
    assert_eq!(Completion::from_bytes(&c.to_bytes()), c);
}
