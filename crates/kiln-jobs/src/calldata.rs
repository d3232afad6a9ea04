//! Solidity calldata for a proof: exactly what `snarkjs zkey export soliditycalldata` prints
//! (without its trailing newline), ready to paste into a verifier contract call.

use num_bigint::BigUint;

use kiln_formats::ProofJson;

/// Why calldata could not be formed (a proof or signal that is not a decimal number).
#[derive(Debug, thiserror::Error)]
#[error("cannot form calldata: {what} is {value:?}, not a decimal number")]
pub struct CalldataError {
    /// Which value.
    pub what: String,
    /// The value.
    pub value: String,
}

fn p256(what: &str, dec: &str) -> Result<String, CalldataError> {
    let n: BigUint = dec.parse().map_err(|_| CalldataError {
        what: what.to_string(),
        value: dec.to_string(),
    })?;
    Ok(format!("\"0x{:0>64}\"", n.to_str_radix(16)))
}

fn at<'a, T>(v: &'a [T], i: usize, what: &str) -> Result<&'a T, CalldataError> {
    v.get(i).ok_or_else(|| CalldataError {
        what: format!("{what}[{i}]"),
        value: "missing".into(),
    })
}

/// `[a],[[b]],[c],[public]` with G2 coordinates in the EVM's order (imaginary part first).
pub fn solidity_calldata(proof: &ProofJson, public: &[String]) -> Result<String, CalldataError> {
    let a0 = p256("pi_a[0]", at(&proof.pi_a, 0, "pi_a")?)?;
    let a1 = p256("pi_a[1]", at(&proof.pi_a, 1, "pi_a")?)?;
    let b = |i: usize, j: usize| -> Result<String, CalldataError> {
        let row = at(&proof.pi_b, i, "pi_b")?;
        p256(&format!("pi_b[{i}][{j}]"), at(row, j, "pi_b row")?)
    };
    let c0 = p256("pi_c[0]", at(&proof.pi_c, 0, "pi_c")?)?;
    let c1 = p256("pi_c[1]", at(&proof.pi_c, 1, "pi_c")?)?;
    let inputs = public
        .iter()
        .enumerate()
        .map(|(i, s)| p256(&format!("public[{i}]"), s))
        .collect::<Result<Vec<_>, _>>()?
        .join(",");
    Ok(format!(
        "[{a0}, {a1}],[[{}, {}],[{}, {}]],[{c0}, {c1}],[{inputs}]",
        b(0, 1)?,
        b(0, 0)?,
        b(1, 1)?,
        b(1, 0)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_snarkjs() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let proof = ProofJson {
            pi_a: s(&["1", "2", "1"]),
            pi_b: vec![s(&["3", "4"]), s(&["5", "6"]), s(&["1", "0"])],
            pi_c: s(&["7", "255", "1"]),
            protocol: "groth16".into(),
            curve: "bn128".into(),
        };
        let z = |h: &str| format!("\"0x{h:0>64}\"");
        let got = solidity_calldata(&proof, &s(&["16", "17"])).unwrap();
        let want = format!(
            "[{}, {}],[[{}, {}],[{}, {}]],[{}, {}],[{},{}]",
            z("1"),
            z("2"),
            z("4"),
            z("3"),
            z("6"),
            z("5"),
            z("7"),
            z("ff"),
            z("10"),
            z("11")
        );
        assert_eq!(got, want);
        assert!(solidity_calldata(&proof, &s(&["x"])).is_err());
    }
}
