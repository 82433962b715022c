//! Is a binary static? A `FROM scratch` image has no dynamic loader, so a binary whose ELF program
//! headers name an interpreter (`PT_INTERP`) fails there with `exec /app: no such file or
//! directory`. This reads the ELF header and program headers itself (32/64-bit, either byte
//! order); static-pie binaries (`-C target-feature=+crt-static` on the gnu target) have a
//! `PT_DYNAMIC` but no `PT_INTERP`, and are static here.

/// How a binary is linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkage {
    /// No program interpreter: runs on an empty image.
    Static,
    /// Needs the named program interpreter (e.g. `/lib64/ld-linux-x86-64.so.2`).
    Dynamic { interpreter: String },
    /// Not an ELF file, or one too damaged to read; the text says why.
    NotElf(String),
}

const PT_INTERP: u32 = 3;

/// Reads the linkage of an ELF binary.
pub fn linkage(bytes: &[u8]) -> Linkage {
    match parse(bytes) {
        Ok(l) => l,
        Err(why) => Linkage::NotElf(why),
    }
}

fn parse(b: &[u8]) -> Result<Linkage, String> {
    if b.len() < 16 || &b[..4] != b"\x7fELF" {
        if b.starts_with(b"#!") {
            return Err("it is a script (`#!`), not an ELF executable".into());
        }
        return Err("it does not start with the ELF magic number".into());
    }
    let wide = match b[4] {
        1 => false,
        2 => true,
        c => return Err(format!("unknown ELF class {c}")),
    };
    let little = match b[5] {
        1 => true,
        2 => false,
        d => return Err(format!("unknown ELF byte order {d}")),
    };
    let r = Reader { b, little };
    let (phoff, phentsize, phnum) = if wide {
        (r.u64(32)?, r.u16(54)? as u64, r.u16(56)? as u64)
    } else {
        (r.u32(28)? as u64, r.u16(42)? as u64, r.u16(44)? as u64)
    };
    if phnum == 0 {
        return Err("it has no program headers (an object file, not an executable)".into());
    }
    for i in 0..phnum {
        let at = phoff
            .checked_add(i.checked_mul(phentsize).ok_or("program header overflow")?)
            .ok_or("program header overflow")?;
        let at = usize::try_from(at).map_err(|_| "program header offset too large")?;
        if r.u32(at)? != PT_INTERP {
            continue;
        }
        let (offset, size) = if wide {
            (r.u64(at + 8)?, r.u64(at + 32)?)
        } else {
            (r.u32(at + 4)? as u64, r.u32(at + 16)? as u64)
        };
        let interpreter = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(size).ok())
            .and_then(|(o, s)| b.get(o..o.checked_add(s)?))
            .map(|s| {
                String::from_utf8_lossy(s)
                    .trim_end_matches('\0')
                    .to_string()
            })
            .unwrap_or_else(|| "?".into());
        return Ok(Linkage::Dynamic { interpreter });
    }
    Ok(Linkage::Static)
}

struct Reader<'a> {
    b: &'a [u8],
    little: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N], String> {
        at.checked_add(N)
            .and_then(|end| self.b.get(at..end))
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| format!("it is truncated (needs {N} bytes at offset {at})"))
    }
    fn u16(&self, at: usize) -> Result<u16, String> {
        let a = self.bytes::<2>(at)?;
        Ok(if self.little {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        })
    }
    fn u32(&self, at: usize) -> Result<u32, String> {
        let a = self.bytes::<4>(at)?;
        Ok(if self.little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }
    fn u64(&self, at: usize) -> Result<u64, String> {
        let a = self.bytes::<8>(at)?;
        Ok(if self.little {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal little-endian ELF64 with the given program header types (and an interpreter
    /// string after the headers when one is PT_INTERP).
    fn elf64(types: &[u32]) -> Vec<u8> {
        let interp = b"/lib64/ld-linux-x86-64.so.2\0";
        let phoff = 64u64;
        let data_at = phoff + 56 * types.len() as u64;
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        b[32..40].copy_from_slice(&phoff.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&(types.len() as u16).to_le_bytes());
        for t in types {
            let mut ph = vec![0u8; 56];
            ph[..4].copy_from_slice(&t.to_le_bytes());
            ph[8..16].copy_from_slice(&data_at.to_le_bytes());
            ph[32..40].copy_from_slice(&(interp.len() as u64).to_le_bytes());
            b.extend(ph);
        }
        b.extend(interp);
        b
    }

    #[test]
    fn static_pie_is_static() {
        // PT_PHDR, PT_LOAD, PT_DYNAMIC, PT_GNU_STACK: what a static-pie binary has.
        assert_eq!(linkage(&elf64(&[6, 1, 2, 0x6474e551])), Linkage::Static);
    }

    #[test]
    fn interpreter_means_dynamic() {
        assert_eq!(
            linkage(&elf64(&[6, 3, 1, 2])),
            Linkage::Dynamic {
                interpreter: "/lib64/ld-linux-x86-64.so.2".into()
            }
        );
    }

    #[test]
    fn garbage_is_not_elf() {
        assert!(matches!(linkage(b"#!/bin/sh\n"), Linkage::NotElf(w) if w.contains("script")));
        assert!(matches!(linkage(b""), Linkage::NotElf(_)));
        let mut truncated = elf64(&[3]);
        truncated.truncate(70);
        assert!(matches!(linkage(&truncated), Linkage::NotElf(w) if w.contains("truncated")));
    }

    #[test]
    fn this_test_binary_is_read_correctly() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let l = linkage(&exe);
        if cfg!(all(target_os = "linux", not(target_feature = "crt-static"))) {
            assert!(matches!(l, Linkage::Dynamic { .. }), "{l:?}");
        } else if cfg!(target_os = "linux") {
            assert_eq!(l, Linkage::Static);
        }
    }
}
