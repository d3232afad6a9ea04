//! The constraint-system layer every gadget writes to: arkworks' [`ConstraintSystem`]
//! (`ark-relations`) allocates the wires and, in setup mode, keeps the constraints that
//! become the R1CS matrices; [`Cs`] adds what the gadgets need on top of it.
//!
//! - Gadgets work with [`Num`]: a concrete linear combination of wires ([`Lc`], never an
//!   arkworks symbolic LC) together with its value. Additions and scalings are free and
//!   make no arkworks objects, so the matrices need no inlining and a 2-million-constraint
//!   batch synthesizes in seconds.
//! - Wires are numbered as circom numbers them: wire 0 is the constant 1, wire 1 the one
//!   public input, then the private wires in allocation order (arkworks' instance
//!   variables, then its witness variables).
//! - In prove mode every constraint is checked the moment it is enforced; the first one that
//!   fails is remembered with the namespace path it was enforced under (`tx slot 3: sender:
//!   new balance range check`), so a bad batch is named, not just refused.
//!
//! The constraints enforced are identical in both modes: no gadget branches on a value,
//! only on whether a linear combination is a constant.

use ark_ff::{Field, One, PrimeField, Zero};
use ark_relations::r1cs::{
    ConstraintSystem, ConstraintSystemRef, LinearCombination, SynthesisMode, Variable,
};
use smallvec::{smallvec, SmallVec};

/// BN254's scalar field, the circuit's field.
pub type Fr = ark_bn254::Fr;

/// The terms of a linear combination (two of them inline: most are a wire or a constant,
/// or a wire and a constant).
pub type Terms = SmallVec<[(u32, Fr); 2]>;

/// A linear combination of wires: `(wire, coefficient)` terms, wire 0 being the constant 1.
/// Terms may repeat a wire until [`Lc::compact`] merges them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lc(pub Terms);

impl Lc {
    /// The constant `c`.
    pub fn constant(c: Fr) -> Lc {
        if c.is_zero() {
            Lc(Terms::new())
        } else {
            Lc(smallvec![(0, c)])
        }
    }

    /// The wire `w`.
    pub fn wire(w: u32) -> Lc {
        Lc(smallvec![(w, Fr::one())])
    }

    /// `self + k·other`.
    pub fn add_scaled(&mut self, other: &Lc, k: Fr) {
        if k.is_zero() {
            return;
        }
        if k.is_one() {
            self.0.extend_from_slice(&other.0);
        } else {
            self.0.extend(other.0.iter().map(|&(w, c)| (w, c * k)));
        }
    }

    /// Sorts the terms by wire, merges repeated wires and drops zero coefficients.
    pub fn compact(&mut self) {
        if self.0.len() <= 1 {
            self.0.retain(|(_, c)| !c.is_zero());
            return;
        }
        self.0.sort_unstable_by_key(|&(w, _)| w);
        let mut out = Terms::with_capacity(self.0.len());
        for &(w, c) in &self.0 {
            match out.last_mut() {
                Some((lw, lc)) if *lw == w => *lc += c,
                _ => out.push((w, c)),
            }
        }
        out.retain(|(_, c)| !c.is_zero());
        self.0 = out;
    }

    /// The constant this combination is, if it names no wire but wire 0.
    pub fn as_constant(&self) -> Option<Fr> {
        let mut acc = Fr::zero();
        for &(w, c) in &self.0 {
            if w != 0 {
                return None;
            }
            acc += c;
        }
        Some(acc)
    }
}

/// A field element of the circuit: a linear combination of wires and its value (the value
/// is meaningless in setup mode).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Num {
    /// The combination.
    pub lc: Lc,
    /// Its value.
    pub val: Fr,
}

impl Num {
    /// The constant `c`.
    pub fn constant(c: Fr) -> Num {
        Num {
            lc: Lc::constant(c),
            val: c,
        }
    }

    /// The constant 0.
    pub fn zero() -> Num {
        Num::default()
    }

    /// The constant 1.
    pub fn one() -> Num {
        Num::constant(Fr::one())
    }

    /// The constant `c` from an integer.
    pub fn from_u64(c: u64) -> Num {
        Num::constant(Fr::from(c))
    }

    /// The value if this is a constant.
    pub fn as_constant(&self) -> Option<Fr> {
        self.lc.as_constant()
    }

    /// `self + k·other`.
    pub fn add_scaled(&self, other: &Num, k: Fr) -> Num {
        let mut lc = self.lc.clone();
        lc.add_scaled(&other.lc, k);
        Num {
            lc,
            val: self.val + other.val * k,
        }
    }

    /// `self += k·other`, in place.
    pub fn add_scaled_assign(&mut self, other: &Num, k: Fr) {
        self.lc.add_scaled(&other.lc, k);
        self.val += other.val * k;
    }

    /// `self + other`.
    pub fn add(&self, other: &Num) -> Num {
        self.add_scaled(other, Fr::one())
    }

    /// `self - other`.
    pub fn sub(&self, other: &Num) -> Num {
        self.add_scaled(other, -Fr::one())
    }

    /// `k·self`.
    pub fn scale(&self, k: Fr) -> Num {
        Num::zero().add_scaled(self, k)
    }

    /// `self + c`.
    pub fn add_const(&self, c: Fr) -> Num {
        self.add(&Num::constant(c))
    }

    /// `Σ kᵢ·xᵢ`.
    pub fn sum_scaled<'a>(terms: impl IntoIterator<Item = (&'a Num, Fr)>) -> Num {
        let mut out = Num::zero();
        for (x, k) in terms {
            out.lc.add_scaled(&x.lc, k);
            out.val += x.val * k;
        }
        out
    }

    /// The same value with its repeated wires merged.
    pub fn compacted(mut self) -> Num {
        self.lc.compact();
        self
    }
}

/// The first constraint a witness does not satisfy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Its index in the constraint order.
    pub index: usize,
    /// The namespace path it was enforced under.
    pub path: String,
}

/// How values are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// No values; constraints go to arkworks for the matrices.
    Setup,
    /// Values; each constraint is checked when enforced and not kept.
    Prove,
}

/// The constraint system the gadgets write to (see the module documentation).
pub struct Cs {
    ark: ConstraintSystemRef<Fr>,
    mode: Mode,
    /// Every wire's value in prove mode (wire order).
    values: Vec<Fr>,
    /// The namespace stack.
    path: Vec<String>,
    failure: Option<Failure>,
    error: Option<String>,
    n_constraints: usize,
    n_wires: u32,
    /// Prove mode that also builds and checks the constraints gadgets declare to hold by
    /// construction ([`Cs::enforce_with`]), for tests.
    paranoid: bool,
}

impl Cs {
    fn with_mode(mode: Mode) -> Cs {
        let ark = ConstraintSystem::<Fr>::new_ref();
        ark.set_mode(match mode {
            Mode::Setup => SynthesisMode::Setup,
            Mode::Prove => SynthesisMode::Prove {
                construct_matrices: false,
            },
        });
        Cs {
            ark,
            mode,
            values: vec![Fr::one()],
            path: Vec::new(),
            failure: None,
            error: None,
            n_constraints: 0,
            n_wires: 1,
            paranoid: false,
        }
    }

    /// A system that records constraints (no values): the circuit's shape.
    pub fn setup() -> Cs {
        Cs::with_mode(Mode::Setup)
    }

    /// A system that takes values and checks every constraint as it is enforced.
    pub fn prove() -> Cs {
        Cs::with_mode(Mode::Prove)
    }

    /// Prove mode that checks even the constraints that hold by construction (slower; for
    /// tests of the gadgets themselves).
    pub fn prove_paranoid() -> Cs {
        let mut cs = Cs::with_mode(Mode::Prove);
        cs.paranoid = true;
        cs
    }

    /// Whether values are tracked.
    pub fn is_prove(&self) -> bool {
        self.mode == Mode::Prove
    }

    /// The arkworks system underneath.
    pub fn ark(&self) -> &ConstraintSystemRef<Fr> {
        &self.ark
    }

    /// Constraints enforced so far.
    pub fn num_constraints(&self) -> usize {
        self.n_constraints
    }

    /// Wires so far, the constant included.
    pub fn num_wires(&self) -> usize {
        self.n_wires as usize
    }

    /// The first unsatisfied constraint (prove mode).
    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// An arkworks error met while synthesizing, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Every wire's value in wire order (prove mode).
    pub fn values(&self) -> &[Fr] {
        &self.values
    }

    /// Runs `f` inside the namespace `name`.
    pub fn ns<T>(&mut self, name: impl Into<String>, f: impl FnOnce(&mut Cs) -> T) -> T {
        self.path.push(name.into());
        let out = f(self);
        self.path.pop();
        out
    }

    fn note_error(&mut self, e: impl std::fmt::Display) {
        if self.error.is_none() {
            self.error = Some(format!("{}: {e}", self.path.join(": ")));
        }
    }

    /// Allocates the public input with value `val` (wire 1; call it first).
    pub fn public_input(&mut self, val: Fr) -> Num {
        let prove = self.is_prove();
        match self.ark.new_input_variable(|| Ok(val)) {
            Ok(Variable::Instance(i)) if i == self.n_wires as usize => {}
            Ok(v) => self.note_error(format!("the public input became {v:?}, not wire 1")),
            Err(e) => self.note_error(e),
        }
        if prove {
            self.values.push(val);
        }
        let w = self.n_wires;
        self.n_wires += 1;
        Num {
            lc: Lc::wire(w),
            val,
        }
    }

    /// Allocates a private wire with value `val`.
    pub fn alloc(&mut self, val: Fr) -> Num {
        let prove = self.is_prove();
        match self.ark.new_witness_variable(|| Ok(val)) {
            Ok(Variable::Witness(i)) if i + 2 == self.n_wires as usize => {}
            Ok(v) => self.note_error(format!(
                "private wire {} became {v:?}: the public input must come first",
                self.n_wires
            )),
            Err(e) => self.note_error(e),
        }
        if prove {
            self.values.push(val);
        }
        let w = self.n_wires;
        self.n_wires += 1;
        Num {
            lc: Lc::wire(w),
            val,
        }
    }

    fn eval(&self, lc: &Lc) -> Fr {
        lc.0.iter().fold(Fr::zero(), |acc, &(w, c)| {
            acc + self.values.get(w as usize).copied().unwrap_or_default() * c
        })
    }

    fn to_ark(&self, lc: &Lc) -> LinearCombination<Fr> {
        let mut lc = lc.clone();
        lc.compact();
        LinearCombination(
            lc.0.iter()
                .map(|&(w, c)| {
                    let v = match w {
                        0 => Variable::One,
                        1 => Variable::Instance(1),
                        w => Variable::Witness(w as usize - 2),
                    };
                    (c, v)
                })
                .collect(),
        )
    }

    /// Enforces `⟨a⟩·⟨b⟩ = ⟨c⟩`.
    pub fn enforce(&mut self, a: &Lc, b: &Lc, c: &Lc) {
        let index = self.n_constraints;
        self.n_constraints += 1;
        match self.mode {
            Mode::Setup => {
                let (a, b, c) = (self.to_ark(a), self.to_ark(b), self.to_ark(c));
                if let Err(e) = self.ark.enforce_constraint(a, b, c) {
                    self.note_error(e);
                }
            }
            Mode::Prove => {
                if self.failure.is_none() && self.eval(a) * self.eval(b) != self.eval(c) {
                    self.failure = Some(Failure {
                        index,
                        path: self.path.join(": "),
                    });
                }
                self.count_in_ark();
            }
        }
    }

    /// Counts, in prove mode, a constraint that holds by construction (its output wire was
    /// just given the product of its inputs' values); in setup mode enforces it as
    /// [`Cs::enforce`] does. Gadgets whose linear combinations are costly to build (the
    /// Poseidon rounds) use it through [`Cs::enforce_with`].
    fn count_in_ark(&mut self) {
        if let Err(e) = self.ark.enforce_constraint(
            LinearCombination::zero(),
            LinearCombination::zero(),
            LinearCombination::zero(),
        ) {
            self.note_error(e);
        }
    }

    /// Enforces `⟨a⟩·⟨b⟩ = ⟨c⟩` where the caller knows it holds in prove mode (c's only new
    /// wire was assigned `a·b`): the combinations are built (by `build`) only in setup mode.
    pub fn enforce_with(&mut self, build: impl FnOnce() -> (Lc, Lc, Lc)) {
        match self.mode {
            Mode::Setup => {
                let (a, b, c) = build();
                self.enforce(&a, &b, &c);
            }
            Mode::Prove if self.paranoid => {
                let (a, b, c) = build();
                self.enforce(&a, &b, &c);
            }
            Mode::Prove => {
                self.n_constraints += 1;
                self.count_in_ark();
            }
        }
    }

    /// Enforces `a = b`.
    pub fn enforce_equal(&mut self, a: &Num, b: &Num) {
        let d = a.sub(b);
        self.enforce(&d.lc, &Lc::constant(Fr::one()), &Lc::default());
    }

    /// Enforces `a·b = c`.
    pub fn enforce_product(&mut self, a: &Num, b: &Num, c: &Num) {
        self.enforce(&a.lc, &b.lc, &c.lc);
    }

    /// `a·b` as a new wire (no constraint when either is a constant).
    pub fn mul(&mut self, a: &Num, b: &Num) -> Num {
        if let Some(k) = a.as_constant() {
            return b.scale(k);
        }
        if let Some(k) = b.as_constant() {
            return a.scale(k);
        }
        let out = self.alloc(a.val * b.val);
        self.enforce_product(a, b, &out);
        out
    }

    /// `a / b` as a new wire, enforcing `out·b = a` (0 where `b` is 0, which leaves the
    /// constraint unsatisfied unless `a` is 0 too).
    pub fn div(&mut self, a: &Num, b: &Num) -> Num {
        // Values mean nothing in setup mode: skip the inversion there.
        let val = if self.is_prove() {
            a.val * b.val.inverse().unwrap_or_default()
        } else {
            Fr::zero()
        };
        if let Some(k) = b.as_constant() {
            if let Some(inv) = k.inverse() {
                return a.scale(inv);
            }
        }
        let out = self.alloc(val);
        self.enforce_product(&out, b, a);
        out
    }

    /// `(a1 / b1, a2 / b2)`: the same wires and constraints as two [`Cs::div`] calls, one
    /// after the other, with one field inversion for both values in prove mode.
    pub fn div2(&mut self, a1: &Num, b1: &Num, a2: &Num, b2: &Num) -> (Num, Num) {
        let shared = if self.is_prove() && b1.as_constant().is_none() && b2.as_constant().is_none()
        {
            (b1.val * b2.val).inverse()
        } else {
            None
        };
        let Some(inv) = shared else {
            let first = self.div(a1, b1);
            return (first, self.div(a2, b2));
        };
        let out1 = self.alloc(a1.val * b2.val * inv);
        self.enforce_product(&out1, b1, a1);
        let out2 = self.alloc(a2.val * b1.val * inv);
        self.enforce_product(&out2, b2, a2);
        (out1, out2)
    }

    /// The integer value of `x` as little-endian 64-bit limbs (for bit decompositions).
    pub fn limbs(x: &Fr) -> [u64; 4] {
        x.into_bigint().0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wires_follow_circom_order_and_failures_are_named() {
        let mut cs = Cs::prove();
        let x = cs.public_input(Fr::from(6u64));
        let a = cs.alloc(Fr::from(2u64));
        let b = cs.alloc(Fr::from(3u64));
        assert_eq!((x.lc.clone(), a.lc.clone()), (Lc::wire(1), Lc::wire(2)));
        cs.ns("product", |cs| cs.enforce_product(&a, &b, &x));
        assert!(cs.failure().is_none());
        cs.ns("outer", |cs| {
            cs.ns("wrong", |cs| cs.enforce_equal(&a, &b));
        });
        assert_eq!(
            cs.failure(),
            Some(&Failure {
                index: 1,
                path: "outer: wrong".into()
            })
        );
        assert_eq!(cs.values(), &[1u64, 6, 2, 3].map(Fr::from));
        let c = cs.mul(&a, &Num::from_u64(5));
        assert_eq!((c.val, cs.num_constraints()), (Fr::from(10u64), 2));
        assert!(cs.error().is_none());
    }

    #[test]
    fn compact_merges_and_drops() {
        let mut lc = Lc(smallvec![
            (3, Fr::from(1u64)),
            (1, Fr::from(2u64)),
            (3, -Fr::from(1u64)),
            (1, Fr::from(1u64)),
        ]);
        lc.compact();
        assert_eq!(lc, Lc(smallvec![(1, Fr::from(3u64))]));
        assert_eq!(
            Lc::constant(Fr::from(4u64)).as_constant(),
            Some(Fr::from(4u64))
        );
        assert_eq!(Lc::wire(2).as_constant(), None);
    }
}
