//! The iden3 binary container shared by `.zkey`, `.wtns`, `.r1cs` (and `.ptau`).
//!
//! Layout: 4-byte magic, u32 version, u32 section count, then that many sections, each a
//! u32 type, a u64 body length and the body. All integers are little-endian. A type may
//! appear more than once in the container (as in snarkjs' `binfileutils`); readers that
//! need a section exactly once ask for it with [`SectionTable::unique`] or
//! [`SectionTable::require`], which refuse duplicates.
//!
//! [`BinFile`] memory-maps the file and parses only the section table; section bodies are
//! read lazily through [`SectionReader`], a bounds-checked cursor that reports absolute
//! byte offsets in its errors.

use std::fs::File;
use std::io::Write;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::error::FormatError;

/// Size of the container header: magic, version, section count.
pub const FILE_HEADER_LEN: usize = 12;
/// Size of one section header: u32 type, u64 length.
pub const SECTION_HEADER_LEN: usize = 12;

/// What kind of container a reader expects.
#[derive(Clone, Debug)]
pub struct FileSpec {
    /// The 4-byte magic ("zkey", "wtns", "r1cs").
    pub magic: &'static str,
    /// Human name used in messages (".zkey").
    pub kind: &'static str,
    /// Versions the reader understands.
    pub versions: RangeInclusive<u32>,
}

/// One entry of the section table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// Section type id.
    pub id: u32,
    /// Absolute byte offset of the 12-byte section header.
    pub header_offset: u64,
    /// Absolute byte offset of the body.
    pub offset: u64,
    /// Body length in bytes.
    pub len: u64,
}

impl Section {
    /// The body's byte range within the file (valid: checked against the file length).
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset as usize..(self.offset + self.len) as usize
    }
}

/// The parsed container header and section table of one file.
#[derive(Clone, Debug)]
pub struct SectionTable {
    /// The container version found.
    pub version: u32,
    /// Every section, in file order.
    pub sections: Vec<Section>,
}

impl SectionTable {
    /// Parses the header and section table of `bytes`, checking magic, version and that
    /// every section lies inside the file. `path` is only used in errors.
    pub fn parse(bytes: &[u8], path: &Path, spec: &FileSpec) -> Result<Self, FormatError> {
        let file_len = bytes.len() as u64;
        // A file whose first bytes differ from the magic (or an empty file) is the wrong
        // kind of file; a short file that matches so far is a truncated one.
        let n = bytes.len().min(4);
        if n == 0 || bytes[..n] != spec.magic.as_bytes()[..n] {
            return Err(FormatError::WrongMagic {
                path: path.to_path_buf(),
                kind: spec.kind,
                expected: spec.magic,
                found: printable(&bytes[..n]),
            });
        }
        if bytes.len() < FILE_HEADER_LEN {
            return Err(FormatError::Truncated {
                path: path.to_path_buf(),
                what: format!(
                    "the {} file header (magic, version, section count)",
                    spec.kind
                ),
                offset: 0,
                needed: FILE_HEADER_LEN as u64,
                available: file_len,
            });
        }
        let version = le_u32(&bytes[4..8]);
        if !spec.versions.contains(&version) {
            let (lo, hi) = (*spec.versions.start(), *spec.versions.end());
            return Err(FormatError::UnsupportedVersion {
                path: path.to_path_buf(),
                kind: spec.kind,
                found: version,
                supported: if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo} to {hi}")
                },
            });
        }
        let n_sections = le_u32(&bytes[8..12]);
        let mut sections = Vec::with_capacity((n_sections as usize).min(bytes.len() / 12));
        let mut pos = FILE_HEADER_LEN as u64;
        for index in 0..n_sections {
            let available = file_len - pos;
            if available < SECTION_HEADER_LEN as u64 {
                return Err(FormatError::Truncated {
                    path: path.to_path_buf(),
                    what: format!(
                        "the header of section #{} of {n_sections} (u32 type, u64 length)",
                        index + 1
                    ),
                    offset: pos,
                    needed: SECTION_HEADER_LEN as u64,
                    available,
                });
            }
            let p = pos as usize;
            let id = le_u32(&bytes[p..p + 4]);
            let len = le_u64(&bytes[p + 4..p + 12]);
            let body = pos + SECTION_HEADER_LEN as u64;
            let available = file_len - body;
            if len > available {
                return Err(FormatError::SectionPastEof {
                    path: path.to_path_buf(),
                    section: id,
                    header_offset: pos,
                    body_offset: body,
                    declared: len,
                    available,
                    file_len,
                });
            }
            sections.push(Section {
                id,
                header_offset: pos,
                offset: body,
                len,
            });
            pos = body + len;
        }
        Ok(SectionTable { version, sections })
    }

    /// The section with type `id`, if present exactly once; `None` if absent; an error if
    /// it appears more than once. `name` describes the section in errors.
    pub fn unique(
        &self,
        id: u32,
        name: &'static str,
        path: &Path,
    ) -> Result<Option<Section>, FormatError> {
        let mut found = self.sections.iter().filter(|s| s.id == id);
        let first = found.next().copied();
        if found.next().is_some() {
            let offsets: Vec<u64> = self
                .sections
                .iter()
                .filter(|s| s.id == id)
                .map(|s| s.header_offset)
                .collect();
            return Err(FormatError::DuplicateSection {
                path: path.to_path_buf(),
                section: id,
                name,
                count: offsets.len(),
                offsets,
            });
        }
        Ok(first)
    }

    /// Like [`SectionTable::unique`], but a missing section is an error.
    pub fn require(
        &self,
        id: u32,
        name: &'static str,
        path: &Path,
    ) -> Result<Section, FormatError> {
        self.unique(id, name, path)?
            .ok_or_else(|| FormatError::MissingSection {
                path: path.to_path_buf(),
                section: id,
                name,
            })
    }
}

/// Where a file's bytes live.
enum Backing {
    /// A read-only memory map of the file.
    Mapped(Mmap),
    /// Bytes handed over by the caller (uploads, tests).
    Owned(Vec<u8>),
}

impl std::fmt::Debug for Backing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never dump the (possibly gigabytes of) contents.
        match self {
            Backing::Mapped(m) => write!(f, "Mapped({} bytes)", m.len()),
            Backing::Owned(v) => write!(f, "Owned({} bytes)", v.len()),
        }
    }
}

/// A memory-mapped iden3 container with its section table.
#[derive(Debug)]
pub struct BinFile {
    path: PathBuf,
    backing: Backing,
    table: SectionTable,
}

impl BinFile {
    /// Maps `path` read-only and parses its header and section table. The file is not
    /// read into memory; pages are faulted in as sections are decoded.
    ///
    /// As with any memory map, the file must not be truncated or rewritten in place while
    /// it is open (kiln itself only ever replaces files by rename).
    pub fn open(path: &Path, spec: &FileSpec) -> Result<Self, FormatError> {
        let file = File::open(path).map_err(|e| FormatError::io(path, "cannot open", e))?;
        let len = file
            .metadata()
            .map_err(|e| FormatError::io(path, "cannot stat", e))?
            .len();
        let backing = if len == 0 {
            // Mapping an empty file fails on some platforms; there is nothing to map.
            Backing::Owned(Vec::new())
        } else {
            // SAFETY: the map is read-only; kiln never modifies a file it has mapped (it
            // replaces files by rename), and other writers are documented as unsupported.
            let map = unsafe { Mmap::map(&file) }
                .map_err(|e| FormatError::io(path, "cannot memory-map", e))?;
            Backing::Mapped(map)
        };
        Self::from_backing(path, backing, spec)
    }

    /// Parses an in-memory container. `name` stands in for the path in errors.
    pub fn from_bytes(bytes: Vec<u8>, name: &Path, spec: &FileSpec) -> Result<Self, FormatError> {
        Self::from_backing(name, Backing::Owned(bytes), spec)
    }

    fn from_backing(path: &Path, backing: Backing, spec: &FileSpec) -> Result<Self, FormatError> {
        let bytes: &[u8] = match &backing {
            Backing::Mapped(m) => m,
            Backing::Owned(v) => v,
        };
        let table = SectionTable::parse(bytes, path, spec)?;
        Ok(BinFile {
            path: path.to_path_buf(),
            backing,
            table,
        })
    }

    /// The file's path (or the name given to [`BinFile::from_bytes`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All bytes of the file.
    pub fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Mapped(m) => m,
            Backing::Owned(v) => v,
        }
    }

    /// The section table.
    pub fn table(&self) -> &SectionTable {
        &self.table
    }

    /// The body of `section` (which must come from this file's table).
    pub fn body(&self, section: &Section) -> &[u8] {
        &self.bytes()[section.range()]
    }

    /// A bounds-checked cursor over `section`'s body.
    pub fn reader(&self, section: &Section) -> SectionReader<'_> {
        SectionReader::new(self.body(section), section.id, section.offset, &self.path)
    }
}

/// A cursor over one section body whose errors name the file, section and absolute offset.
#[derive(Clone, Debug)]
pub struct SectionReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    section: u32,
    base: u64,
    path: &'a Path,
}

impl<'a> SectionReader<'a> {
    /// A cursor over `bytes`, the body of `section`, which starts at absolute offset `base`.
    pub fn new(bytes: &'a [u8], section: u32, base: u64, path: &'a Path) -> Self {
        SectionReader {
            bytes,
            pos: 0,
            section,
            base,
            path,
        }
    }

    /// The section id this cursor reads.
    pub fn section(&self) -> u32 {
        self.section
    }

    /// The file the section belongs to.
    pub fn path(&self) -> &'a Path {
        self.path
    }

    /// Absolute byte offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Takes the next `n` bytes, or fails naming `field`.
    pub fn take(&mut self, n: usize, field: &dyn Fn() -> String) -> Result<&'a [u8], FormatError> {
        if self.remaining() < n {
            return Err(self.invalid(
                field(),
                format!(
                    "needs {n} bytes but the section has only {} bytes left (section is {} bytes)",
                    self.remaining(),
                    self.bytes.len()
                ),
            ));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Reads a little-endian u32 named `field`.
    pub fn u32(&mut self, field: &str) -> Result<u32, FormatError> {
        self.take(4, &|| field.to_string()).map(le_u32)
    }

    /// Reads a little-endian u32 whose name is built only if it is missing (hot loops).
    pub fn u32_with(&mut self, field: &dyn Fn() -> String) -> Result<u32, FormatError> {
        self.take(4, field).map(le_u32)
    }

    /// Reads a little-endian u64 named `field`.
    pub fn u64(&mut self, field: &str) -> Result<u64, FormatError> {
        self.take(8, &|| field.to_string()).map(le_u64)
    }

    /// Fails unless the whole section was consumed.
    pub fn finish(&self, what: &str) -> Result<(), FormatError> {
        if self.remaining() != 0 {
            return Err(self.invalid(
                "end of section".to_string(),
                format!(
                    "{} unexpected trailing bytes after {what} (section is {} bytes, {what} ends after {})",
                    self.remaining(),
                    self.bytes.len(),
                    self.pos
                ),
            ));
        }
        Ok(())
    }

    /// An [`FormatError::Invalid`] at the current offset.
    pub fn invalid(&self, field: String, problem: String) -> FormatError {
        self.invalid_at(self.offset(), field, problem)
    }

    /// An [`FormatError::Invalid`] at absolute offset `offset` of this section.
    pub fn invalid_at(&self, offset: u64, field: String, problem: String) -> FormatError {
        FormatError::Invalid {
            path: self.path.to_path_buf(),
            section: self.section,
            offset,
            field,
            problem,
        }
    }
}

/// Writes the 12-byte container header.
pub fn write_file_header(
    w: &mut impl Write,
    magic: &str,
    version: u32,
    n_sections: u32,
) -> std::io::Result<()> {
    w.write_all(magic.as_bytes())?;
    w.write_all(&version.to_le_bytes())?;
    w.write_all(&n_sections.to_le_bytes())
}

/// Writes a 12-byte section header; the body of exactly `len` bytes must follow.
pub fn write_section_header(w: &mut impl Write, id: u32, len: u64) -> std::io::Result<()> {
    w.write_all(&id.to_le_bytes())?;
    w.write_all(&len.to_le_bytes())
}

/// Little-endian u32 from exactly 4 bytes.
pub(crate) fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

/// Little-endian u64 from exactly 8 bytes.
pub(crate) fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// Renders bytes for an error message: text if printable ASCII, else hex.
fn printable(b: &[u8]) -> String {
    if b.is_empty() {
        "an empty file".to_string()
    } else if b.iter().all(|c| c.is_ascii_graphic()) {
        format!("{:?}", String::from_utf8_lossy(b))
    } else {
        let hex: Vec<String> = b.iter().map(|c| format!("{c:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FileSpec {
        FileSpec {
            magic: "test",
            kind: ".test",
            versions: 1..=2,
        }
    }

    fn container(version: u32, sections: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        write_file_header(&mut out, "test", version, sections.len() as u32).unwrap();
        for (id, body) in sections {
            write_section_header(&mut out, *id, body.len() as u64).unwrap();
            out.extend_from_slice(body);
        }
        out
    }

    fn parse(b: &[u8]) -> Result<SectionTable, FormatError> {
        SectionTable::parse(b, Path::new("x.test"), &spec())
    }

    #[test]
    fn parses_sections_in_file_order() {
        let b = container(1, &[(2, b"abc"), (1, b""), (7, b"xy")]);
        let t = parse(&b).unwrap();
        assert_eq!(t.version, 1);
        let ids: Vec<(u32, u64, u64)> =
            t.sections.iter().map(|s| (s.id, s.offset, s.len)).collect();
        assert_eq!(ids, vec![(2, 24, 3), (1, 39, 0), (7, 51, 2)]);
        assert_eq!(&b[t.sections[2].range()], b"xy");
    }

    #[test]
    fn wrong_magic_names_the_expected_magic() {
        let mut b = container(1, &[]);
        b[..4].copy_from_slice(b"zkey");
        let e = parse(&b).unwrap_err().to_string();
        assert!(
            e.contains("expected magic \"test\"") && e.contains("\"zkey\""),
            "{e}"
        );
        let e = parse(b"\x00\x01").unwrap_err().to_string();
        assert!(
            e.contains("expected magic") && e.contains("bytes 00 01"),
            "{e}"
        );
        let e = parse(b"").unwrap_err().to_string();
        assert!(e.contains("an empty file"), "{e}");
    }

    #[test]
    fn unsupported_version() {
        let b = container(3, &[]);
        let e = parse(&b).unwrap_err().to_string();
        assert!(
            e.contains("unsupported .test version 3") && e.contains("1 to 2"),
            "{e}"
        );
    }

    #[test]
    fn truncated_header_and_section_past_eof() {
        let b = container(1, &[(1, b"abcd"), (2, b"efgh")]);
        for len in 0..b.len() {
            let r = parse(&b[..len]);
            assert!(r.is_err(), "prefix of {len} bytes parsed");
        }
        let e = parse(&b[..10]).unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains("needs 12"), "{e}");
        let e = parse(&b[..b.len() - 1]).unwrap_err();
        assert!(
            matches!(
                e,
                FormatError::SectionPastEof {
                    section: 2,
                    header_offset: 28,
                    body_offset: 40,
                    declared: 4,
                    available: 3,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse(&b[..30]).unwrap_err().to_string();
        assert!(e.contains("section #2 of 2"), "{e}");
    }

    #[test]
    fn huge_section_count_does_not_allocate() {
        let mut b = container(1, &[]);
        b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(parse(&b), Err(FormatError::Truncated { .. })));
        let mut b = container(1, &[(1, b"")]);
        b[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(parse(&b), Err(FormatError::SectionPastEof { .. })));
    }

    #[test]
    fn duplicates_and_missing_sections() {
        let b = container(1, &[(1, b"a"), (1, b"b"), (2, b"c")]);
        let t = parse(&b).unwrap();
        let p = Path::new("x.test");
        let e = t.require(1, "header", p).unwrap_err().to_string();
        assert!(e.contains("section 1 (header) appears 2 times"), "{e}");
        assert!(t.require(2, "body", p).is_ok());
        let e = t.require(3, "labels", p).unwrap_err().to_string();
        assert!(e.contains("required section 3 (labels) is missing"), "{e}");
        assert_eq!(t.unique(3, "labels", p).unwrap(), None);
    }

    #[test]
    fn reader_reports_absolute_offsets() {
        let b = container(1, &[(5, &[1, 0, 0, 0, 9])]);
        let f = BinFile::from_bytes(b, Path::new("x.test"), &spec()).unwrap();
        let s = f.table().require(5, "five", f.path()).unwrap();
        let mut r = f.reader(&s);
        assert_eq!(r.u32("n").unwrap(), 1);
        let e = r.u32("count").unwrap_err();
        assert!(
            matches!(&e, FormatError::Invalid { section: 5, offset: 28, field, .. } if field == "count"),
            "{e}"
        );
        assert!(r.finish("the list").is_err());
    }

    #[test]
    fn opens_files_by_mapping_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.test");
        std::fs::write(&p, container(2, &[(1, b"hello")])).unwrap();
        let f = BinFile::open(&p, &spec()).unwrap();
        let s = f.table().require(1, "one", &p).unwrap();
        assert_eq!(f.body(&s), b"hello");
        let empty = dir.path().join("empty.test");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            BinFile::open(&empty, &spec()),
            Err(FormatError::WrongMagic { .. })
        ));
        let missing = dir.path().join("missing.test");
        let e = BinFile::open(&missing, &spec()).unwrap_err().to_string();
        assert!(e.contains("missing.test: cannot open"), "{e}");
    }
}
