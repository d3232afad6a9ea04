//! kiln's rollup batch circuit (`docs/rollup.md`, "The batch circuit"): one R1CS per batch
//! size `N` whose single public input is `sha256(D) mod r` of the batch data `D`, and its
//! witness computed from a [`BatchTrace`].
//!
//! - [`r1cs`]: the constraint system for batch size `N`, wires in circom's order (wire 0
//!   the constant 1, wire 1 the public input, then the private wires), the same on every
//!   call; [`write_r1cs`] writes it as a `.r1cs` file snarkjs reads.
//! - [`witness`]: every wire's value for a trace, checked constraint by constraint: a batch
//!   that breaks a rule yields [`CircuitError::Unsatisfied`] naming the first constraint it
//!   breaks (`tx slot 3: sender: new balance range check (amount + fee ≤ balance)`), never a
//!   witness.
//! - [`shape`]: constraints per part (header, each slot, fee credits, exit tree, data hash).
//!
//! Built on arkworks' constraint system (`ark-relations`), which allocates the wires and
//! holds the constraints that become the matrices; the gadgets are this crate's:
//!
//! - [`cs`]: the layer the gadgets write to (concrete linear combinations, namespaces,
//!   constraints checked as they are enforced in prove mode);
//! - [`bits`]: booleans, bit decompositions and range checks, comparisons, selections;
//! - [`poseidon`]: circomlib's Poseidon; [`sha256`]: SHA-256 on bits;
//! - [`babyjub`]: BabyJubJub in circomlib's coordinates; [`eddsa`]: EdDSA-Poseidon;
//! - [`merkle`]: state-tree writes and the exit tree; [`float`]: amount and fee codes;
//! - [`input`]: the private inputs from a trace; [`slots`]: L1, transaction and fee slots;
//!   [`circuit`]: the whole circuit.

#![deny(missing_docs)]

pub mod babyjub;
pub mod bits;
pub mod circuit;
pub mod cs;
pub mod eddsa;
pub mod float;
pub mod input;
pub mod merkle;
pub mod poseidon;
pub mod sha256;
pub mod slots;

use kiln_algebra::curve::Bn254;
use kiln_formats::r1cs::{Constraint, R1cs};
use kiln_rollup::trace::BatchTrace;

pub use circuit::Shape;
pub use cs::Fr;
pub use kiln_formats::r1cs::write_r1cs;

/// Why the circuit or a witness cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CircuitError {
    /// A batch size the circuit does not take.
    #[error("the batch circuit takes 1 or more transaction slots, not {0}")]
    BatchSize(usize),
    /// A trace that does not have the shape of a batch, or lacks what the circuit reads.
    #[error("the batch trace cannot be a witness: {0}")]
    Trace(String),
    /// The trace breaks a rule: the first constraint it does not satisfy.
    #[error("the batch breaks a rule of the circuit: {0}")]
    Unsatisfied(String),
    /// arkworks refused to synthesize (a bug).
    #[error("synthesizing the batch circuit failed: {0}")]
    Synthesis(String),
}

/// The constraint system of the batch circuit for `batch_size` transaction slots.
///
/// Synthesized in arkworks' setup mode; its matrices become the [`R1cs`]. The gadgets hand
/// arkworks concrete, compacted linear combinations (no symbolic ones), so arkworks'
/// `finalize` (inlining) would only copy them: it is skipped, which halves the peak memory
/// (a test checks that it changes nothing).
pub fn r1cs(batch_size: usize) -> Result<R1cs<Bn254>, CircuitError> {
    r1cs_with(batch_size, false)
}

fn r1cs_with(batch_size: usize, finalize: bool) -> Result<R1cs<Bn254>, CircuitError> {
    if batch_size == 0 {
        return Err(CircuitError::BatchSize(0));
    }
    let mut cs = cs::Cs::setup();
    let shape = circuit::synthesize(&mut cs, &input::BatchIn::blank(batch_size));
    if let Some(e) = cs.error() {
        return Err(CircuitError::Synthesis(e.to_string()));
    }
    if finalize {
        cs.ark().finalize();
    }
    let m = cs
        .ark()
        .to_matrices()
        .ok_or_else(|| CircuitError::Synthesis("arkworks kept no matrices in setup mode".into()))?;
    drop(cs);
    let n_wires = m.num_instance_variables + m.num_witness_variables;
    if n_wires != shape.wires
        || m.num_constraints != shape.constraints
        || m.num_instance_variables != 2
    {
        return Err(CircuitError::Synthesis(format!(
            "arkworks counts {} instance and {} witness variables and {} constraints; the circuit made {} wires and {} constraints",
            m.num_instance_variables, m.num_witness_variables, m.num_constraints, shape.wires, shape.constraints
        )));
    }
    let row = |r: Vec<(Fr, usize)>| -> Vec<(u32, Fr)> {
        r.into_iter().map(|(c, w)| (w as u32, c)).collect()
    };
    let constraints =
        m.a.into_iter()
            .zip(m.b)
            .zip(m.c)
            .map(|((a, b), c)| Constraint {
                a: row(a),
                b: row(b),
                c: row(c),
            })
            .collect();
    Ok(R1cs {
        n_wires,
        n_pub_out: 0,
        n_pub_in: 1,
        n_prv_in: 0,
        n_labels: n_wires as u64,
        constraints,
    })
}

/// Every wire's value for `trace` in [`r1cs`]'s wire order, every constraint checked.
pub fn witness(trace: &BatchTrace) -> Result<Vec<Fr>, CircuitError> {
    let input = input::BatchIn::from_trace(trace)?;
    let mut cs = cs::Cs::prove();
    circuit::synthesize(&mut cs, &input);
    if let Some(e) = cs.error() {
        return Err(CircuitError::Synthesis(e.to_string()));
    }
    if let Some(f) = cs.failure() {
        return Err(CircuitError::Unsatisfied(format!(
            "{} (constraint {})",
            f.path, f.index
        )));
    }
    let ark = cs.ark();
    let inner = ark
        .borrow()
        .ok_or_else(|| CircuitError::Synthesis("no arkworks constraint system".into()))?;
    let values: Vec<Fr> = inner
        .instance_assignment
        .iter()
        .chain(&inner.witness_assignment)
        .copied()
        .collect();
    if values.as_slice() != cs.values() {
        return Err(CircuitError::Synthesis(
            "arkworks' assignment differs from the gadgets' values".into(),
        ));
    }
    Ok(values)
}

/// Constraints per part of the circuit for `batch_size` transaction slots.
pub fn shape(batch_size: usize) -> Result<Shape, CircuitError> {
    if batch_size == 0 {
        return Err(CircuitError::BatchSize(0));
    }
    // Prove mode keeps nothing; the blank inputs need not satisfy anything to be counted.
    let mut cs = cs::Cs::prove();
    Ok(circuit::synthesize(
        &mut cs,
        &input::BatchIn::blank(batch_size),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arkworks_inlining_would_change_nothing() {
        assert!(r1cs_with(1, true).unwrap() == r1cs_with(1, false).unwrap());
        assert_eq!(r1cs(0).unwrap_err(), CircuitError::BatchSize(0));
    }

    #[test]
    fn the_shape_counts_what_the_r1cs_holds() {
        // The daemon checks a ceremony key against the shape, without building the R1CS.
        let (s, r) = (shape(1).unwrap(), r1cs(1).unwrap());
        assert_eq!((s.wires, s.constraints), (r.n_wires, r.constraints.len()));
    }
}
