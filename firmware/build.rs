//! Links the card binary (`src/bin/card.rs`, feature `card`) with `card.ld` when building
//! for the soft core (a bare-metal RISC-V target); host builds are untouched.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=card.ld");
    let target = std::env::var("TARGET").unwrap_or_default();
    let card = std::env::var_os("CARGO_FEATURE_CARD").is_some();
    if card && target.starts_with("riscv") && target.ends_with("-none-elf") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rustc-link-arg-bins=-T{dir}/card.ld");
    }
}
